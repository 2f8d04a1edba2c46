package dev.watershed.io.jdbc;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The real databases the IO tests run against: the local PostgreSQL and MariaDB servers (started by
 * {@code .ci/run} when needed) and DuckDB files in a test folder.
 */
public final class Databases {
  public static final String POSTGRES_URL = "jdbc:postgresql://127.0.0.1:5432/test";
  public static final String MARIADB_URL = "jdbc:mariadb://127.0.0.1:3306/test";

  private Databases() {}

  public static JdbcEndpoint postgres() {
    return JdbcEndpoint.of(POSTGRES_URL).withUser("postgres");
  }

  public static JdbcEndpoint mariadb() {
    return JdbcEndpoint.of(MARIADB_URL).withUser("root");
  }

  /** The databases every load test runs against, by name. */
  public static final List<String> ALL = List.of("postgres", "mariadb", "duckdb");

  /** {@code postgres}, {@code mariadb} or {@code duckdb} (a file in {@code folder}). */
  public static JdbcEndpoint named(String database, Path folder) {
    return switch (database) {
      case "postgres" -> postgres();
      case "mariadb" -> mariadb();
      default -> duckdb(folder);
    };
  }

  public static JdbcEndpoint duckdb(Path folder) {
    return JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("test.duckdb"));
  }

  public static void execute(JdbcEndpoint endpoint, String... statements) throws SQLException {
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }

  /**
   * The rows of a query as text, one string per row with fields joined by {@code |}: timestamps as
   * UTC instants, decimals in plain notation, nulls as {@code null}.
   */
  public static List<String> rows(JdbcEndpoint endpoint, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      ResultSetMetaData meta = result.getMetaData();
      while (result.next()) {
        List<String> fields = new ArrayList<>();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          fields.add(text(result.getObject(c)));
        }
        rows.add(String.join("|", fields));
      }
    }
    return rows;
  }

  static String text(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof OffsetDateTime offset) {
      return offset.toInstant().toString();
    }
    if (value instanceof java.sql.Timestamp timestamp) {
      return timestamp.toLocalDateTime().toInstant(ZoneOffset.UTC).toString();
    }
    if (value instanceof LocalDateTime local) {
      return local.toInstant(ZoneOffset.UTC).toString();
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    if (value instanceof java.sql.Date date) {
      return date.toLocalDate().toString();
    }
    return value.toString();
  }
}
