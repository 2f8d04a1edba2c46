-- Sample tables for postgres-to-duckdb.yaml:  psql -h 127.0.0.1 -U postgres -d test -f examples/postgres-to-duckdb.sql
DROP SCHEMA IF EXISTS example_shop CASCADE;
CREATE SCHEMA example_shop;
CREATE TABLE example_shop.customers (
  id integer PRIMARY KEY, email text NOT NULL, country text, updated_at timestamptz NOT NULL);
CREATE TABLE example_shop.orders (
  id bigint PRIMARY KEY, customer_id integer NOT NULL REFERENCES example_shop.customers,
  amount numeric(10,2) NOT NULL, status text NOT NULL, updated_at timestamptz NOT NULL);
INSERT INTO example_shop.customers
  SELECT i, 'customer' || i || '@example.com', (ARRAY['DE','FR','US'])[i % 3 + 1],
         timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 100) i;
INSERT INTO example_shop.orders
  SELECT i, 1 + i % 100, round((i * 3.17)::numeric, 2), 'open',
         timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 500) i;
