package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** Reads warehouse tables as CSV lines in the format of the committed expected files. */
final class Warehouse {
  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private Warehouse() {}

  /**
   * The result of a query as CSV lines with a header, values rendered as the generator writes them.
   */
  static List<String> csv(JdbcEndpoint endpoint, String sql) throws SQLException {
    List<String> lines = new ArrayList<>();
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      ResultSetMetaData meta = result.getMetaData();
      List<String> header = new ArrayList<>();
      for (int c = 1; c <= meta.getColumnCount(); c++) {
        header.add(meta.getColumnLabel(c));
      }
      lines.add(String.join(",", header));
      while (result.next()) {
        List<String> fields = new ArrayList<>();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          fields.add(quote(render(result.getObject(c))));
        }
        lines.add(String.join(",", fields));
      }
    }
    return lines;
  }

  /** Runs statements in one session, in order. */
  static void execute(JdbcEndpoint endpoint, String... statements) throws SQLException {
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }

  private static String render(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof LocalDateTime local) {
      return local.format(TIMESTAMP);
    }
    if (value instanceof java.sql.Timestamp timestamp) {
      return timestamp.toLocalDateTime().format(TIMESTAMP);
    }
    if (value instanceof OffsetDateTime offset) {
      return offset.withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime().format(TIMESTAMP);
    }
    if (value instanceof BigDecimal decimal) {
      return decimal.toPlainString();
    }
    if (value instanceof java.sql.Date date) {
      return date.toLocalDate().toString();
    }
    return value.toString();
  }

  private static String quote(String value) {
    if (value.contains(",") || value.contains("\"") || value.contains("\n")) {
      return "\"" + value.replace("\"", "\"\"") + "\"";
    }
    return value;
  }

  /** Asserts equal line lists, reporting the first line that differs rather than thousands. */
  static void assertSameLines(List<String> expected, List<String> actual, String what) {
    for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
      if (!expected.get(i).equals(actual.get(i))) {
        fail(
            what
                + ": line "
                + (i + 1)
                + " differs\n  expected: "
                + expected.get(i)
                + "\n  actual:   "
                + actual.get(i));
      }
    }
    assertEquals(expected.size(), actual.size(), what + ": number of lines");
  }

  static List<String> lines(Path file) throws IOException {
    return Files.readAllLines(file);
  }
}
