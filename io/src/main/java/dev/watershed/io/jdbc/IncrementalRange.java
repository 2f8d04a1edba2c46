package dev.watershed.io.jdbc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The rows of a JDBC table or query between two high-water marks, for incremental reads.
 *
 * <p>A mark is the greatest ({@code column}, {@code tieBreak}) pair read so far, kept as JSON text
 * ({@code {"value": "...", "tie": "..."}}) in {@link RunState}. A run reads the rows after the
 * stored mark up to and including the current one, taken when the run is planned, so rows written
 * while the run reads wait for the next run. Ordering by the pair means rows sharing one {@code
 * column} value are split between runs without loss.
 *
 * <p>The limit of every query-based incremental read applies: a row written later with a {@code
 * column} value at or below a mark already taken (a transaction that commits late, a clock that
 * goes back) is never read; rows with a null {@code column} are never read; deletes are not seen.
 * Change data capture has none of these limits.
 */
public final class IncrementalRange {
  private static final ObjectMapper JSON = new ObjectMapper();

  private IncrementalRange() {}

  /**
   * The current mark of {@code from} (a quoted table or a parenthesised query), or null if empty.
   */
  public static String currentMark(
      JdbcEndpoint endpoint, String table, String query, String column, String tieBreak)
      throws SQLException {
    Dialect dialect = endpoint.dialect();
    String from = table != null ? dialect.quote(table) : "(" + query + ") q";
    String sql =
        "SELECT "
            + dialect.quote(column)
            + ", "
            + dialect.quote(tieBreak)
            + " FROM "
            + from
            + " WHERE "
            + dialect.quote(column)
            + " IS NOT NULL ORDER BY 1 DESC, 2 DESC LIMIT 1";
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      if (!rows.next()) {
        return null;
      }
      ObjectNode mark = JSON.createObjectNode();
      mark.put("value", rows.getString(1));
      mark.put("tie", rows.getString(2));
      return mark.toString();
    }
  }

  /**
   * A query over {@code table} or {@code query} for the rows after {@code fromMark} (null: from the
   * start) up to and including {@code toMark}. The marks are source values: they are bound as
   * parameters ({@link Bound#parameters()}), never pasted into the SQL, so a value such as {@code
   * x\') UNION SELECT ...} stays a value on every dialect (MariaDB reads a backslash as an escape
   * in a literal).
   */
  public static Bound query(
      Dialect dialect,
      String table,
      String query,
      String column,
      String tieBreak,
      String fromMark,
      String toMark) {
    String from = table != null ? dialect.quote(table) : "(" + query + ") q0";
    String c = dialect.quote(column);
    String t = dialect.quote(tieBreak);
    StringBuilder sql = new StringBuilder("SELECT * FROM ").append(from).append(" WHERE ");
    List<String> parameters = new ArrayList<>();
    if (toMark == null) {
      return new Bound(sql.append("1 = 0").toString(), List.of());
    }
    String[] to = parts(toMark);
    sql.append("(" + c + " < ? OR (" + c + " = ? AND " + t + " <= ?))");
    parameters.addAll(List.of(to[0], to[0], to[1]));
    if (fromMark != null) {
      String[] after = parts(fromMark);
      sql.append(" AND (" + c + " > ? OR (" + c + " = ? AND " + t + " > ?))");
      parameters.addAll(List.of(after[0], after[0], after[1]));
    }
    return new Bound(sql.toString(), parameters);
  }

  /** SQL with {@code ?} placeholders and the text values bound to them, in order. */
  public record Bound(String sql, List<String> parameters) implements Serializable {
    public Bound {
      parameters = List.copyOf(parameters);
    }
  }

  private static String[] parts(String mark) {
    try {
      JsonNode node = JSON.readTree(mark);
      return new String[] {node.path("value").asText(), node.path("tie").asText()};
    } catch (IOException e) {
      throw new IllegalArgumentException("not a high-water mark: " + mark, e);
    }
  }
}
