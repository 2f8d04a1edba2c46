package dev.watershed.io.jdbc;

import dev.watershed.transforms.model.ModelTypes;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;

/** The SQL that differs between the databases Watershed reads and loads. */
public enum Dialect {
  POSTGRES("jdbc:postgresql:", '"'),
  MARIADB("jdbc:mariadb:", '`'),
  DUCKDB("jdbc:duckdb:", '"');

  private final String prefix;
  private final char quote;

  Dialect(String prefix, char quote) {
    this.prefix = prefix;
    this.quote = quote;
  }

  /** The dialect of a JDBC URL; {@code jdbc:mysql:} URLs are served by the MariaDB driver. */
  public static Dialect of(String url) {
    if (url.startsWith("jdbc:mysql:")) {
      return MARIADB;
    }
    for (Dialect dialect : values()) {
      if (url.startsWith(dialect.prefix)) {
        return dialect;
      }
    }
    throw new IllegalArgumentException(
        "unsupported JDBC url '"
            + url.split("\\?")[0]
            + "'; supported: jdbc:postgresql:, jdbc:mariadb:, jdbc:mysql:, jdbc:duckdb:");
  }

  String connectionUrl(String url) {
    if (url.startsWith("jdbc:mysql:")) {
      return "jdbc:mariadb:" + url.substring("jdbc:mysql:".length());
    }
    return url;
  }

  /** Quotes an identifier; a dotted name ({@code schema.table}) is quoted part by part. */
  public String quote(String identifier) {
    List<String> parts = new ArrayList<>();
    for (String part : identifier.split("\\.")) {
      parts.add(quote + part.replace(String.valueOf(quote), String.valueOf(quote) + quote) + quote);
    }
    return String.join(".", parts);
  }

  /**
   * Creates the schema (MariaDB: the database) a qualified table name such as {@code
   * sales.customer} names, when it does not exist yet, as tables themselves are created; nothing
   * for an unqualified name.
   */
  public void createSchemaOf(Statement statement, String table) throws SQLException {
    int dot = table.lastIndexOf('.');
    if (dot <= 0) {
      return;
    }
    String schema = quote(table.substring(0, dot));
    statement.execute(
        (this == MARIADB ? "CREATE DATABASE IF NOT EXISTS " : "CREATE SCHEMA IF NOT EXISTS ")
            + schema);
  }

  String columnList(List<String> columns) {
    return columns.stream().map(this::quote).collect(Collectors.joining(", "));
  }

  /** The column type for a model field. */
  String columnType(Schema.Field field, boolean isKey) {
    switch (ModelTypes.kind(field)) {
      case STRING:
        if (this == MARIADB) {
          return isKey ? "VARCHAR(255)" : "TEXT";
        }
        return this == POSTGRES ? "TEXT" : "VARCHAR";
      case INT:
        return "INTEGER";
      case LONG:
        return "BIGINT";
      case DECIMAL:
        return "DECIMAL(" + ModelTypes.precision(field) + "," + ModelTypes.scale(field) + ")";
      case BOOLEAN:
        return "BOOLEAN";
      case DATE:
        return "DATE";
      case TIMESTAMP:
        // Timestamps are instants; PostgreSQL keeps them as such, the others as UTC wall time.
        switch (this) {
          case POSTGRES:
            return "TIMESTAMPTZ";
          case MARIADB:
            return "DATETIME(6)";
          default:
            return "TIMESTAMP";
        }
    }
    throw new IllegalStateException("unhandled field " + field);
  }

  String createTable(String table, List<Schema.Field> fields, List<String> primaryKey) {
    StringBuilder ddl =
        new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(quote(table)).append(" (");
    for (int i = 0; i < fields.size(); i++) {
      Schema.Field field = fields.get(i);
      boolean key = primaryKey.contains(field.getName());
      ddl.append(i == 0 ? "" : ", ")
          .append(quote(field.getName()))
          .append(' ')
          .append(columnType(field, key));
      if (key) {
        ddl.append(" NOT NULL");
      }
    }
    if (!primaryKey.isEmpty()) {
      ddl.append(", PRIMARY KEY (").append(columnList(primaryKey)).append(')');
    }
    return ddl.append(')').toString();
  }

  /**
   * A staging table for bulk writes: no keys or indexes, and unlogged where the database allows.
   */
  String createStaging(String staging, List<Schema.Field> fields) {
    String ddl = createTable(staging, fields, List.of()).replace(" NOT NULL", "");
    return this == POSTGRES
        ? ddl.replaceFirst("CREATE TABLE IF NOT EXISTS", "CREATE UNLOGGED TABLE")
        : ddl;
  }

  String addColumn(String table, Schema.Field field) {
    return "ALTER TABLE "
        + quote(table)
        + " ADD COLUMN "
        + quote(field.getName())
        + " "
        + columnType(field, false);
  }

  String widenColumn(String table, Schema.Field field) {
    String type = columnType(field, false);
    if (this == MARIADB) {
      return "ALTER TABLE "
          + quote(table)
          + " MODIFY COLUMN "
          + quote(field.getName())
          + " "
          + type;
    }
    return "ALTER TABLE "
        + quote(table)
        + " ALTER COLUMN "
        + quote(field.getName())
        + " SET DATA TYPE "
        + type;
  }

  String dropTable(String table) {
    return "DROP TABLE IF EXISTS " + quote(table);
  }

  String insertFrom(String target, String staging, List<String> columns) {
    String cols = columnList(columns);
    return "INSERT INTO "
        + quote(target)
        + " ("
        + cols
        + ") SELECT "
        + cols
        + " FROM "
        + quote(staging);
  }

  String deleteAll(String target) {
    return "DELETE FROM " + quote(target);
  }

  /**
   * Empties a staging table inside the transaction that applied it. PostgreSQL truncates: a DELETE
   * leaves every row behind as a dead tuple that the next bundle's apply scans again, so a stream's
   * applies slowed with every bundle (measured: 1,000-row bundles at 35 ms each after 200 bundles).
   * MariaDB's TRUNCATE would end the transaction, so it deletes.
   */
  String emptyStaging(String staging) {
    return this == POSTGRES ? "TRUNCATE " + quote(staging) : deleteAll(staging);
  }

  /**
   * An upsert from staging into target by {@code key}. With a {@code version} column, a row whose
   * version is older than the one stored is not applied, so a late or replayed older row never
   * overwrites a newer one.
   */
  String mergeFrom(
      String target, String staging, List<String> columns, List<String> key, String version) {
    return upsert(target, staging, columns, columns, key, version, null);
  }

  /**
   * An upsert into {@code target} of the staging rows that pass {@code where} (null: all), by
   * {@code key}: column {@code columns[i]} takes the staging expression {@code values[i]} (a column
   * name, or {@code NULL}). With a {@code version} column, a row older than the one stored is not
   * applied. On conflict every non-key column in {@code columns} is updated; other columns keep
   * their values.
   */
  String upsert(
      String target,
      String staging,
      List<String> columns,
      List<String> values,
      List<String> key,
      String version,
      String where) {
    List<String> updated = new ArrayList<>();
    for (String column : columns) {
      if (!key.contains(column)) {
        updated.add(column);
      }
    }
    return upsert(target, staging, columns, values, updated, key, version, where);
  }

  /**
   * As {@link #upsert(String, String, List, List, List, String, String)}, but on conflict only the
   * {@code updated} columns change: a new row is inserted whole, a stored one keeps the rest.
   */
  String upsert(
      String target,
      String staging,
      List<String> columns,
      List<String> values,
      List<String> updatedColumns,
      List<String> key,
      String version,
      String where) {
    List<String> updated = new ArrayList<>(updatedColumns);
    List<String> selected = new ArrayList<>();
    for (String value : values) {
      selected.add(value.equals("NULL") ? "NULL" : quote(staging) + "." + quote(value));
    }
    String insert =
        "INSERT INTO "
            + quote(target)
            + " ("
            + columnList(columns)
            + ") SELECT "
            + String.join(", ", selected)
            + " FROM "
            + quote(staging);
    if (this == MARIADB) {
      if (where != null) {
        insert += " WHERE " + where;
      }
      // MariaDB applies assignments left to right, so the version column, which the guard reads,
      // must be assigned last.
      if (version != null) {
        updated.remove(version);
        updated.add(version);
      }
      String t = quote(target) + ".";
      String guard =
          version == null
              ? null
              : t
                  + quote(version)
                  + " IS NULL OR VALUES("
                  + quote(version)
                  + ") >= "
                  + t
                  + quote(version);
      List<String> sets = new ArrayList<>();
      for (String column : updated) {
        String q = quote(column);
        sets.add(
            guard == null
                ? t + q + " = VALUES(" + q + ")"
                : t + q + " = IF(" + guard + ", VALUES(" + q + "), " + t + q + ")");
      }
      if (sets.isEmpty()) {
        return "INSERT IGNORE" + insert.substring("INSERT".length());
      }
      return insert + " ON DUPLICATE KEY UPDATE " + String.join(", ", sets);
    }
    // PostgreSQL needs a WHERE on SELECT ... ON CONFLICT to parse it unambiguously.
    String select =
        insert
            + " WHERE "
            + (where == null ? "true" : where)
            + " ON CONFLICT ("
            + columnList(key)
            + ") DO ";
    if (updated.isEmpty()) {
      return select + "NOTHING";
    }
    List<String> sets = new ArrayList<>();
    for (String column : updated) {
      sets.add(quote(column) + " = EXCLUDED." + quote(column));
    }
    String sql = select + "UPDATE SET " + String.join(", ", sets);
    if (version != null) {
      String stored = quote(target) + "." + quote(version);
      sql += " WHERE " + stored + " IS NULL OR EXCLUDED." + quote(version) + " >= " + stored;
    }
    return sql;
  }
}
