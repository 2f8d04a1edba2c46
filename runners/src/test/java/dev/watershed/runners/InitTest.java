package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code watershed init} on the customer-360 shop database (DuckDB), a PostgreSQL schema with
 * foreign keys, MariaDB, folders of CSV, JSON lines and Parquet files, and a Kafka broker's
 * Debezium topics: the starter spec validates, and a run loads every table unchanged.
 */
class InitTest {
  private static final JdbcEndpoint POSTGRES =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path folder;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int watershed(Map<String, String> env, String... args) {
    out.reset();
    err.reset();
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env,
            folder)
        .execute(args);
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  /** init, validate, run on the Direct runner; the spec's text. */
  private String initAndRun(Map<String, String> env, String... initArgs) throws Exception {
    String[] args = new String[initArgs.length + 3];
    args[0] = "init";
    System.arraycopy(initArgs, 0, args, 1, initArgs.length);
    args[initArgs.length + 1] = "--out";
    args[initArgs.length + 2] = "spec.yaml";
    assertEquals(Watershed.OK, watershed(env, args), this::output);
    String spec = Files.readString(folder.resolve("spec.yaml"));
    assertEquals(Watershed.OK, watershed(env, "validate", "spec.yaml"), () -> output() + spec);
    assertEquals(
        Watershed.OK, watershed(env, "run", "spec.yaml", "--runner=direct"), () -> output() + spec);
    assertTrue(output().contains("reconciled"), this::output);
    return spec;
  }

  private JdbcEndpoint warehouse(String name) {
    return JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("target/" + name + "/warehouse.duckdb"));
  }

  @Test
  void theShopDatabaseLoadsUnchanged() throws Exception {
    Path shop = folder.resolve("shop.duckdb");
    String script =
        Files.readString(Customer360Test.ROOT.resolve("test-data/customer360/small/shop.sql"));
    try (Connection connection = JdbcEndpoint.of("jdbc:duckdb:" + shop).connect();
        Statement statement = connection.createStatement()) {
      statement.execute(script);
    }
    String spec = initAndRun(Map.of(), "--from", "jdbc:duckdb:shop.duckdb");
    assertTrue(spec.contains("name: shop"), spec);
    assertTrue(spec.contains("key: [user_id]"), spec);
    assertTrue(spec.contains("updated_at: timestamp"), spec);
    assertTrue(spec.contains("app_users: { keep: latest, order_by: updated_at }"), spec);
    String columns =
        "user_id, email, first_name, last_name, country_code, phone, signed_up, updated_at";
    Warehouse.assertSameLines(
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + shop),
            "SELECT " + columns + " FROM app_users ORDER BY user_id"),
        Warehouse.csv(warehouse("shop"), "SELECT " + columns + " FROM app_users ORDER BY user_id"),
        "app_users");
  }

  @Test
  void aPostgresSchemaWithForeignKeysLoadsUnchanged() throws Exception {
    try (Connection connection = POSTGRES.connect();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS init_shop CASCADE");
      statement.execute("CREATE SCHEMA init_shop");
      statement.execute(
          "CREATE TABLE init_shop.customers (customer_id int PRIMARY KEY, name text NOT NULL,"
              + " country text, created_at timestamp)");
      statement.execute(
          "CREATE TABLE init_shop.orders (order_id bigint PRIMARY KEY, customer_id int NOT NULL"
              + " REFERENCES init_shop.customers, amount numeric(10,2), status text,"
              + " updated_at timestamptz NOT NULL)");
      statement.execute(
          "CREATE TABLE init_shop.order_lines (order_id bigint REFERENCES init_shop.orders,"
              + " line_no int, sku text, qty int, PRIMARY KEY (order_id, line_no))");
      statement.execute(
          "INSERT INTO init_shop.customers SELECT i, 'customer ' || i, (ARRAY['DE','FR','US'])[i %"
              + " 3 + 1], timestamp '2024-01-01 10:00:00' + i * interval '1 hour'"
              + " FROM generate_series(1, 50) i");
      statement.execute(
          "INSERT INTO init_shop.orders SELECT i, 1 + i % 50, round((i * 7.31)::numeric, 2),"
              + " CASE WHEN i % 4 = 0 THEN 'shipped' ELSE 'open' END,"
              + " timestamptz '2024-02-01 00:00:00+00' + i * interval '1 minute'"
              + " FROM generate_series(1, 200) i");
      statement.execute(
          "INSERT INTO init_shop.order_lines SELECT 1 + i % 200, i, 'SKU-' || (i % 17), 1 + i % 5"
              + " FROM generate_series(1, 400) i");
    }
    String spec =
        initAndRun(
            Map.of("PGPASSWORD", "not-used-with-trust"),
            "--from",
            "jdbc:postgresql://127.0.0.1:5432/test",
            "--user",
            "postgres",
            "--password-env",
            "PGPASSWORD",
            "--tables",
            "init_shop.customers,init_shop.orders,init_shop.order_lines",
            "--name",
            "pg_shop");
    assertFalse(spec.contains("not-used-with-trust"), "the spec names the variable only");
    assertTrue(spec.contains("password: \"${env:PGPASSWORD}\""), spec);
    assertTrue(spec.contains("table: init_shop.orders"), spec);
    assertTrue(spec.contains("amount: decimal(10,2)"), spec);
    assertTrue(spec.contains("incremental: { column: updated_at, tie_break: order_id }"), spec);
    assertTrue(spec.contains("key: [order_id, line_no]"), spec);
    assertTrue(
        spec.contains("- relationships: { column: customer_id, to: customers.customer_id }"), spec);
    assertTrue(spec.contains("- relationships: { column: order_id, to: orders.order_id }"), spec);
    for (String[] table :
        List.of(
            new String[] {"customers", "customer_id, name, country, created_at", "customer_id"},
            new String[] {
              "orders", "order_id, customer_id, amount, status, updated_at", "order_id"
            },
            new String[] {"order_lines", "order_id, line_no, sku, qty", "order_id, line_no"})) {
      Warehouse.assertSameLines(
          Warehouse.csv(
              POSTGRES,
              "SELECT " + table[1] + " FROM init_shop." + table[0] + " ORDER BY " + table[2]),
          Warehouse.csv(
              warehouse("pg_shop"),
              "SELECT " + table[1] + " FROM " + table[0] + " ORDER BY " + table[2]),
          table[0]);
    }
  }

  @Test
  void aMariaDbDatabaseLoadsUnchanged() throws Exception {
    JdbcEndpoint mariadb = JdbcEndpoint.of("jdbc:mariadb://127.0.0.1:3306/test").withUser("root");
    try (Connection connection = mariadb.connect();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP TABLE IF EXISTS init_contacts");
      statement.execute("DROP TABLE IF EXISTS init_companies");
      statement.execute(
          "CREATE TABLE init_companies (company_id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)");
      statement.execute(
          "CREATE TABLE init_contacts (contact_id INT PRIMARY KEY, company_id INT,"
              + " email VARCHAR(200), score DECIMAL(6,2), modified_at DATETIME,"
              + " FOREIGN KEY (company_id) REFERENCES init_companies (company_id))");
      statement.execute("INSERT INTO init_companies VALUES (1, 'Acme'), (2, 'Globex')");
      statement.execute(
          "INSERT INTO init_contacts VALUES (10, 1, 'a@acme.test', 12.50, '2024-05-01 08:00:00'),"
              + " (11, 2, 'b@globex.test', NULL, '2024-05-02 09:30:00'),"
              + " (12, NULL, NULL, -1.25, NULL)");
    }
    String spec =
        initAndRun(
            Map.of(),
            "--from",
            "jdbc:mariadb://127.0.0.1:3306/test",
            "--user",
            "root",
            "--tables",
            "init_companies,init_contacts");
    assertTrue(spec.contains("score: decimal(6,2)"), spec);
    assertTrue(spec.contains("init_contacts: { keep: latest, order_by: modified_at }"), spec);
    // modified_at may be null: an incremental read would never see such a row, so none is offered.
    assertFalse(spec.contains("incremental:"), spec);
    assertTrue(
        spec.contains("- relationships: { column: company_id, to: init_companies.company_id }"),
        spec);
    for (String[] table :
        List.of(
            new String[] {"init_companies", "company_id, name", "company_id"},
            new String[] {"init_contacts", "contact_id, company_id, email, score", "contact_id"})) {
      Warehouse.assertSameLines(
          Warehouse.csv(
              mariadb, "SELECT " + table[1] + " FROM " + table[0] + " ORDER BY " + table[2]),
          Warehouse.csv(
              warehouse("test"),
              "SELECT " + table[1] + " FROM " + table[0] + " ORDER BY " + table[2]),
          table[0]);
    }
  }

  @Test
  void aFolderOfCsvFilesLoadsUnchanged() throws Exception {
    Path exports = folder.resolve("exports");
    Files.createDirectories(exports);
    Files.writeString(
        exports.resolve("customers.csv"),
        "customer_id,Full Name,signup,balance,active\n"
            + "1,Ada Lovelace,2024-01-02,12.50,true\n"
            + "2,Alan Turing,2024-02-03,-3.75,false\n"
            + "3,Grace Hopper,,1200,true\n");
    Files.writeString(
        exports.resolve("orders.csv"),
        "order_id,customer_id,amount,ordered_at\n"
            + "100,1,9.99,2024-03-01T10:00:00Z\n"
            + "101,1,19.5,2024-03-02T11:30:00Z\n"
            + "102,3,5,2024-03-03T09:15:00Z\n");
    String spec = initAndRun(Map.of(), "--from", "exports");
    assertTrue(spec.contains("path: exports/customers.csv"), spec);
    assertTrue(spec.contains("full_name: { from: \"Full Name\" }"), spec);
    assertTrue(spec.contains("signup: date"), spec);
    assertTrue(spec.contains("active: boolean"), spec);
    assertTrue(spec.contains("ordered_at: timestamp"), spec);
    // customer_id is unique in customers.csv but not in orders.csv: each file's own key.
    assertTrue(spec.contains("key: [customer_id]"), spec);
    assertTrue(spec.contains("key: [order_id]"), spec);
    assertEquals(
        List.of(
            "customer_id,full_name,signup,balance,active",
            "1,Ada Lovelace,2024-01-02,12.50,true",
            "2,Alan Turing,2024-02-03,-3.75,false",
            "3,Grace Hopper,,1200.00,true"),
        Warehouse.csv(
            warehouse("exports"),
            "SELECT customer_id, full_name, signup, balance, active FROM customers"
                + " ORDER BY customer_id"));
    assertEquals(
        List.of(
            "order_id,customer_id,amount,ordered_at",
            "100,1,9.99,2024-03-01 10:00:00",
            "101,1,19.50,2024-03-02 11:30:00",
            "102,3,5.00,2024-03-03 09:15:00"),
        Warehouse.csv(
            warehouse("exports"),
            "SELECT order_id, customer_id, amount, ordered_at FROM orders ORDER BY order_id"));
  }

  @Test
  void jsonLinesFilesWithNestedObjectsLoadUnchanged() throws Exception {
    Path events = folder.resolve("events");
    Files.createDirectories(events);
    Files.writeString(
        events.resolve("signups.jsonl"),
        String.join(
            "\n",
            "{\"signup_id\": 1, \"user\": {\"email\": \"a@example.com\", \"plan\": \"pro\"},"
                + " \"amount\": 12.5, \"at\": \"2024-03-01T10:00:00Z\", \"tags\": [\"x\"]}",
            "{\"signup_id\": 2, \"user\": {\"email\": \"b@example.com\"}, \"amount\": 3,"
                + " \"at\": \"2024-03-02T11:00:00Z\"}",
            "not json at all",
            ""));
    String spec = initAndRun(Map.of(), "--from", "events");
    assertTrue(spec.contains("type: jsonl"), spec);
    assertTrue(spec.contains("user_email: { from: user.email }"), spec);
    assertTrue(spec.contains("key: [signup_id]"), spec);
    assertTrue(spec.contains("at: timestamp"), spec);
    assertEquals(
        List.of(
            "signup_id,user_email,user_plan,amount,at,tags",
            // decimal(18,1): the scale the sampled values need; an array kept as its JSON text.
            "1,a@example.com,pro,12.5,2024-03-01 10:00:00,\"[\"\"x\"\"]\"",
            "2,b@example.com,,3.0,2024-03-02 11:00:00,"),
        Warehouse.csv(
            warehouse("events"),
            "SELECT signup_id, user_email, user_plan, amount, \"at\", tags FROM signups"
                + " ORDER BY signup_id"));
    // The line that is not JSON is a dead letter, not lost.
    assertTrue(output().contains("reconciled"), this::output);
  }

  @Test
  void parquetFilesLoadUnchangedWithTheirSchemasTypes() throws Exception {
    Path lake = folder.resolve("lake");
    Files.createDirectories(lake);
    try (Connection duckdb = JdbcEndpoint.of("jdbc:duckdb:").connect();
        Statement sql = duckdb.createStatement()) {
      sql.execute(
          "COPY (SELECT * FROM (VALUES"
              + " (1, 'Ada', 12.50::DECIMAL(10,2), DATE '2024-01-02',"
              + " TIMESTAMPTZ '2024-03-01 10:00:00+00', true, 9000000000::BIGINT, 0.25::DOUBLE),"
              + " (2, NULL, -3.75::DECIMAL(10,2), NULL, NULL, false, NULL, NULL))"
              + " t(invoice_id, customer, amount, issued, paid_at, settled, ref, rate))"
              + " TO '"
              + lake.resolve("invoices.parquet")
              + "' (FORMAT parquet)");
    }
    String spec = initAndRun(Map.of(), "--from", "lake");
    assertTrue(spec.contains("type: parquet"), spec);
    assertTrue(spec.contains("path: lake/invoices.parquet"), spec);
    assertTrue(spec.contains("key: [invoice_id]"), spec);
    // Types from the file's schema, not guessed from values.
    assertTrue(spec.contains("amount: decimal(10,2)"), spec);
    assertTrue(spec.contains("issued: date"), spec);
    assertTrue(spec.contains("paid_at: timestamp"), spec);
    assertTrue(spec.contains("settled: boolean"), spec);
    assertTrue(spec.contains("ref: long"), spec);
    assertEquals(
        List.of(
            "invoice_id,customer,amount,issued,paid_at,settled,ref,rate",
            "1,Ada,12.50,2024-01-02,2024-03-01 10:00:00,true,9000000000,0.250000000",
            "2,,-3.75,,,false,,"),
        Warehouse.csv(
            warehouse("lake"),
            "SELECT invoice_id, customer, amount, issued, paid_at, settled, ref, rate"
                + " FROM invoices ORDER BY invoice_id"));
  }

  @Test
  void debeziumTopicsLoadTheirTablesFinalState() throws Exception {
    try (LocalKafka kafka = LocalKafka.start()) {
      // Without the converter's schemas, keyed by the plain id; late, repeated and poison events.
      String customers = "crm.public.customers";
      kafka.createTopic(customers, 2);
      ChangeEvents history = ChangeEvents.generate(20261203L, 150);
      history.publish(kafka.bootstrapServers(), customers, 0, history.delivery().size());
      // With the JSON converter's schemas: Debezium's dates, timestamps and decimals.
      String invoices = "billing.public.invoices";
      kafka.createTopic(invoices, 1);
      send(
          kafka,
          invoices,
          List.of(
              invoiceKey(1),
                  invoice("c", null, invoiceRow(1, "12.50", 19724, 1709287200000000L, false), 1),
              invoiceKey(2),
                  invoice("c", null, invoiceRow(2, "-3.75", null, 1709287200000000L, null), 2),
              invoiceKey(1),
                  invoice(
                      "u",
                      invoiceRow(1, "12.50", 19724, 1709287200000000L, false),
                      invoiceRow(1, "13.00", 19724, 1709373600000000L, true),
                      3),
              invoiceKey(2),
                  invoice("d", invoiceRow(2, "-3.75", null, 1709287200000000L, null), null, 4),
              invoiceKey(2), "",
              invoiceKey(3),
                  invoice("c", null, invoiceRow(3, "0.01", 19725, 1709460000000000L, null), 5)));
      // Plain JSON messages are not change events: no source.
      kafka.createTopic("clicks", 1);
      send(kafka, "clicks", List.of("1", "{\"page\": \"/\"}"));

      String spec = initAndRun(Map.of(), "--from", "kafka://" + kafka.bootstrapServers());
      assertTrue(spec.contains("    topic: crm.public.customers\n    format: debezium-json"), spec);
      assertFalse(spec.contains("clicks"), spec);
      assertTrue(
          spec.contains("  customers:\n    # the key is the change events' message key"), spec);
      assertTrue(spec.contains("key: [id]"), spec);
      assertTrue(spec.contains("key: [invoice_id]"), spec);
      assertTrue(spec.contains("amount: decimal(10,2)   # not null in the source"), spec);
      assertTrue(spec.contains("issued: date\n"), spec);
      assertTrue(spec.contains("updated_at: timestamp"), spec);
      assertFalse(spec.contains("dedupe:"), spec);
      // The poison event whose id is text does not make the id a string column.
      assertTrue(spec.contains("id: int\n"), spec);
      assertTrue(spec.contains("fit its column's type: such events go to the dead letters"), spec);

      Map<String, String> columns = new java.util.LinkedHashMap<>();
      columns.put("name", "name");
      columns.put("email", "email");
      columns.put("status", "status");
      String compared =
          StreamingDemo.compare(
              warehouse("changes"),
              "customers",
              "id",
              columns,
              history.finalRows(),
              history.deleted().keySet(),
              false);
      assertTrue(compared.startsWith("matches"), compared);
      assertEquals(
          List.of(
              "invoice_id,amount,issued,updated_at,paid",
              "1,13.00,2024-01-02,2024-03-02 10:00:00,true",
              "3,0.01,2024-01-03,2024-03-03 10:00:00,"),
          Warehouse.csv(
              warehouse("changes"),
              "SELECT invoice_id, amount, issued, updated_at, paid FROM invoices"
                  + " ORDER BY invoice_id"));
    }
  }

  @Test
  void kafkaMistakesGiveOneClearMessage() throws Exception {
    try (LocalKafka kafka = LocalKafka.start()) {
      kafka.createTopic("clicks", 1);
      send(kafka, "clicks", List.of("1", "{\"page\": \"/\"}"));
      String broker = "kafka://" + kafka.bootstrapServers();
      assertEquals(Watershed.SPEC_ERROR, watershed(Map.of(), "init", "--from", broker + "/clicks"));
      assertTrue(
          output().contains("topic 'clicks' holds no Debezium change events (1 messages read)"),
          this::output);
      assertEquals(Watershed.SPEC_ERROR, watershed(Map.of(), "init", "--from", broker + "/nope"));
      assertTrue(output().contains("no topic 'nope' on the broker; topics: clicks"), this::output);
      assertEquals(Watershed.SPEC_ERROR, watershed(Map.of(), "init", "--from", broker));
      assertTrue(output().contains("holds no topic of Debezium change events"), this::output);
    }
    assertFalse(output().contains("Exception"), this::output);
  }

  /** Sends (key, value) pairs, an empty value as a tombstone. */
  private static void send(LocalKafka kafka, String topic, List<String> keysAndValues) {
    try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer =
        new org.apache.kafka.clients.producer.KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers(), "acks", "all"),
            new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
      for (int i = 0; i < keysAndValues.size(); i += 2) {
        String value = keysAndValues.get(i + 1);
        producer.send(
            new org.apache.kafka.clients.producer.ProducerRecord<>(
                topic, keysAndValues.get(i), value.isEmpty() ? null : value));
      }
      producer.flush();
    }
  }

  private static final String INVOICE_FIELDS =
      "[{\"type\":\"int32\",\"optional\":false,\"field\":\"invoice_id\"},"
          + "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\","
          + "\"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},"
          + "\"field\":\"amount\"},"
          + "{\"type\":\"int32\",\"optional\":true,\"name\":\"io.debezium.time.Date\",\"version\":1,"
          + "\"field\":\"issued\"},"
          + "{\"type\":\"int64\",\"optional\":false,\"name\":\"io.debezium.time.MicroTimestamp\","
          + "\"version\":1,\"field\":\"updated_at\"},"
          + "{\"type\":\"boolean\",\"optional\":true,\"field\":\"paid\"}]";

  private static String invoiceKey(int id) {
    return "{\"schema\":{\"type\":\"struct\",\"optional\":false,\"fields\":"
        + "[{\"type\":\"int32\",\"optional\":false,\"field\":\"invoice_id\"}]},"
        + "\"payload\":{\"invoice_id\":"
        + id
        + "}}";
  }

  /** A row image as Debezium writes it: the decimal's unscaled bytes in base64, days, micros. */
  private static String invoiceRow(int id, String amount, Integer days, long micros, Boolean paid) {
    byte[] unscaled = new java.math.BigDecimal(amount).unscaledValue().toByteArray();
    return "{\"invoice_id\":"
        + id
        + ",\"amount\":\""
        + java.util.Base64.getEncoder().encodeToString(unscaled)
        + "\",\"issued\":"
        + days
        + ",\"updated_at\":"
        + micros
        + ",\"paid\":"
        + paid
        + "}";
  }

  private static String invoice(String op, String before, String after, long lsn) {
    return "{\"schema\":{\"type\":\"struct\",\"fields\":["
        + "{\"type\":\"struct\",\"optional\":true,\"field\":\"before\",\"fields\":"
        + INVOICE_FIELDS
        + "},{\"type\":\"struct\",\"optional\":true,\"field\":\"after\",\"fields\":"
        + INVOICE_FIELDS
        + "},{\"type\":\"struct\",\"field\":\"source\",\"fields\":["
        + "{\"type\":\"int64\",\"field\":\"lsn\"}]},"
        + "{\"type\":\"string\",\"field\":\"op\"}]},"
        + "\"payload\":{\"before\":"
        + before
        + ",\"after\":"
        + after
        + ",\"source\":{\"lsn\":"
        + lsn
        + ",\"ts_ms\":1709287200000},\"op\":\""
        + op
        + "\"}}";
  }

  @Test
  void dailyExportsOfOneSeriesBecomeOneSource() throws Exception {
    Path exports = folder.resolve("daily");
    Files.createDirectories(exports);
    for (String day : List.of("2024-03-01", "2024-03-02")) {
      Files.copy(
          Customer360Test.ROOT.resolve("examples/data/exports/customers-" + day + ".csv"),
          exports.resolve("customers-" + day + ".csv"));
    }
    Files.writeString(exports.resolve("plans.csv"), "code,name\nP1,Starter\nP2,Pro\n");
    String spec = initAndRun(Map.of(), "--from", "daily");
    assertTrue(
        spec.contains("  customers:\n    type: csv\n    path: daily/customers-*-*-*.csv"), spec);
    assertTrue(spec.contains("  plans:\n    type: csv\n    path: daily/plans.csv"), spec);
    // customer 1002 is in both files: merged by key, five customers.
    assertEquals(
        List.of(
            "customer_no,name",
            "1001,Ada Lovelace",
            "1002,Alan Turing",
            "1003,Grace Hopper",
            "1004,Edsger Dijkstra",
            "1005,Nobody"),
        Warehouse.csv(
            warehouse("daily"), "SELECT customer_no, name FROM customers ORDER BY customer_no"));
  }

  @Test
  void mistakesGiveOneClearMessage() throws Exception {
    assertEquals(Watershed.SPEC_ERROR, watershed(Map.of(), "init", "--from", "nowhere"));
    assertTrue(output().contains("--from nowhere: no such file or folder"), this::output);
    assertEquals(
        Watershed.SPEC_ERROR,
        watershed(
            Map.of(), "init", "--from", "jdbc:postgresql://postgres:s3cret@127.0.0.1:5432/test"));
    assertTrue(output().contains("--password-env"), this::output);
    assertFalse(output().contains("s3cret"), this::output);
    assertEquals(
        Watershed.FAILED,
        watershed(Map.of(), "init", "--from", "jdbc:postgresql://127.0.0.1:9/test"));
    assertTrue(output().contains("cannot read the tables of"), this::output);
    assertFalse(output().contains("Exception"), this::output);
  }
}
