package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.run.Redaction;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** {@code watershed query}: look at a warehouse without installing a database client. */
final class Query {
  private static final int MAX_ROWS = 1000;

  private Query() {}

  /**
   * Runs {@code sql} and prints the rows; a statement the database refuses prints the database's
   * whole message (DuckDB and PostgreSQL put the position of a syntax error on later lines) and
   * exits with 1.
   */
  static int run(String database, String sql, PrintStream out, PrintStream err)
      throws SQLException {
    try {
      return print(database, sql, out);
    } catch (SQLException e) {
      if (e.getMessage() != null && e.getMessage().startsWith("no DuckDB file at")) {
        throw e;
      }
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      err.println("error: the query failed in " + Redaction.redact(database) + ":");
      for (String line : message.strip().split("\\R")) {
        err.println("  " + Redaction.redact(line));
      }
      return Watershed.FAILED;
    }
  }

  private static int print(String database, String sql, PrintStream out) throws SQLException {
    String url;
    if (database.startsWith("jdbc:")) {
      url = database;
    } else {
      if (!Files.isRegularFile(Path.of(database))) {
        throw new SQLException(
            "no DuckDB file at " + database + "; run the job first, or check the path");
      }
      url = "jdbc:duckdb:" + database;
    }
    try (Connection connection = JdbcEndpoint.of(url).connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      ResultSetMetaData meta = result.getMetaData();
      int columns = meta.getColumnCount();
      List<String[]> rows = new ArrayList<>();
      String[] header = new String[columns];
      for (int c = 0; c < columns; c++) {
        header[c] = meta.getColumnLabel(c + 1);
      }
      rows.add(header);
      int count = 0;
      boolean more = false;
      while (result.next()) {
        if (count == MAX_ROWS) {
          more = true;
          break;
        }
        String[] row = new String[columns];
        for (int c = 0; c < columns; c++) {
          String value = result.getString(c + 1);
          row[c] = value == null ? "NULL" : value;
        }
        rows.add(row);
        count++;
      }
      int[] widths = new int[columns];
      for (String[] row : rows) {
        for (int c = 0; c < columns; c++) {
          widths[c] = Math.max(widths[c], row[c].length());
        }
      }
      for (int r = 0; r < rows.size(); r++) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns; c++) {
          line.append(c == 0 ? "" : " | ")
              .append(String.format("%-" + widths[c] + "s", rows.get(r)[c]));
        }
        out.println(line.toString().stripTrailing());
        if (r == 0) {
          StringBuilder rule = new StringBuilder();
          for (int c = 0; c < columns; c++) {
            rule.append(c == 0 ? "" : "-+-").append("-".repeat(widths[c]));
          }
          out.println(rule);
        }
      }
      out.println(
          "("
              + count
              + (more ? "+ rows, first " + MAX_ROWS + " shown)" : count == 1 ? " row)" : " rows)"));
    }
    return Watershed.OK;
  }
}
