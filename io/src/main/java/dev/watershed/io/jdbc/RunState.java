package dev.watershed.io.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a pipeline has read up to, kept in the destination itself: the table {@value #TABLE} holds
 * one mark per (pipeline, source, target table), such as a high-water mark of an incremental JDBC
 * source or the next Kafka offsets of a topic's partitions.
 *
 * <p>{@link JdbcLoad} writes a target's marks in the same transaction as the rows they cover, so
 * after a crash the marks and the rows agree: a new run starts exactly where the last committed
 * load ended, and nothing is lost or loaded twice.
 */
public final class RunState {
  /** The state table, in the sink's database (and schema, when the sink names one). */
  public static final String TABLE = "_watershed_state";

  private RunState() {}

  /** The state table's name next to {@code target} (in the same schema). */
  static String tableNear(String target) {
    int dot = target.lastIndexOf('.');
    return target.substring(0, dot + 1) + TABLE;
  }

  static String create(Dialect dialect, String target) {
    String text = dialect == Dialect.MARIADB ? "VARCHAR(255)" : "VARCHAR";
    String mark =
        dialect == Dialect.MARIADB ? "TEXT" : dialect == Dialect.POSTGRES ? "TEXT" : "VARCHAR";
    return "CREATE TABLE IF NOT EXISTS "
        + dialect.quote(tableNear(target))
        + " (pipeline "
        + text
        + " NOT NULL, source "
        + text
        + " NOT NULL, target "
        + text
        + " NOT NULL, mark "
        + mark
        + ", PRIMARY KEY (pipeline, source, target))";
  }

  /** Replaces the marks of {@code target}; runs inside the caller's transaction. */
  static void save(
      Connection connection,
      Dialect dialect,
      String pipeline,
      String target,
      Map<String, String> marks)
      throws SQLException {
    String table = dialect.quote(tableNear(target));
    for (Map.Entry<String, String> mark : marks.entrySet()) {
      try (PreparedStatement delete =
          connection.prepareStatement(
              "DELETE FROM " + table + " WHERE pipeline = ? AND source = ? AND target = ?")) {
        delete.setString(1, pipeline);
        delete.setString(2, mark.getKey());
        delete.setString(3, target);
        delete.executeUpdate();
      }
      try (PreparedStatement insert =
          connection.prepareStatement(
              "INSERT INTO " + table + " (pipeline, source, target, mark) VALUES (?, ?, ?, ?)")) {
        insert.setString(1, pipeline);
        insert.setString(2, mark.getKey());
        insert.setString(3, target);
        insert.setString(4, mark.getValue());
        insert.executeUpdate();
      }
    }
  }

  /**
   * The marks stored for {@code target}, by source; empty when the pipeline never loaded it or the
   * state table does not exist yet.
   */
  public static Map<String, String> read(JdbcEndpoint endpoint, String pipeline, String target)
      throws SQLException {
    Map<String, String> marks = new TreeMap<>();
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      statement.execute(create(endpoint.dialect(), target));
      try (PreparedStatement select =
          connection.prepareStatement(
              "SELECT source, mark FROM "
                  + endpoint.dialect().quote(tableNear(target))
                  + " WHERE pipeline = ? AND target = ?")) {
        select.setString(1, pipeline);
        select.setString(2, target);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            marks.put(rows.getString(1), rows.getString(2));
          }
        }
      }
    }
    return marks;
  }
}
