package dev.watershed.io.jdbc;

import dev.watershed.io.Staging;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Removes the staging tables that runs of one pipeline left in a database (and, for DuckDB, their
 * staging files): a run that crashed, or lost its database mid-commit, never dropped them.
 *
 * <p>The caller must hold the pipeline's run lock, so no other run of the pipeline is writing
 * staging at the same time; staging of other pipelines, and staging named after a table rather than
 * a pipeline, are left alone ({@link Staging}).
 */
public final class StagingSweep {
  private StagingSweep() {}

  /** Drops every staging table of {@code pipeline}'s runs in the database; returns their names. */
  public static List<String> sweep(JdbcEndpoint endpoint, String pipeline) throws SQLException {
    String tag = Staging.tag(pipeline);
    List<String> swept = new ArrayList<>();
    try (Connection connection = endpoint.connect()) {
      List<String[]> found = new ArrayList<>();
      // information_schema has the same shape on all three databases; "_" in a LIKE pattern
      // matches any character, so the exact prefix is checked below.
      try (PreparedStatement query =
          connection.prepareStatement(
              "SELECT table_schema, table_name, table_type FROM information_schema.tables"
                  + " WHERE table_name LIKE ?")) {
        query.setString(1, Staging.TABLE_PREFIX + "%");
        try (ResultSet tables = query.executeQuery()) {
          while (tables.next()) {
            if (Staging.isTableOf(tables.getString(2), tag)) {
              found.add(
                  new String[] {tables.getString(1), tables.getString(2), tables.getString(3)});
            }
          }
        }
      }
      Dialect dialect = endpoint.dialect();
      if (dialect == Dialect.DUCKDB) {
        // Files first: after a full disk, dropping a view needs room in DuckDB's write-ahead log,
        // which deleting the files makes.
        swept.addAll(sweepDuckDbFiles(connection, tag));
      }
      for (String[] table : found) {
        String name = qualified(dialect, connection, table[0], table[1]);
        if (dialect == Dialect.DUCKDB && table[2].toUpperCase(Locale.ROOT).contains("VIEW")) {
          DuckDbStagingFiles.drop(connection, name);
        } else {
          try (Statement statement = connection.createStatement()) {
            statement.execute(dialect.dropTable(name));
          }
        }
        swept.add(name);
      }
    }
    return swept;
  }

  /** The name to drop: schema-qualified unless the table is in the connection's default schema. */
  private static String qualified(
      Dialect dialect, Connection connection, String schema, String table) throws SQLException {
    String current = dialect == Dialect.MARIADB ? connection.getCatalog() : connection.getSchema();
    return schema == null || schema.equals(current) ? table : schema + "." + table;
  }

  /** Staging files beside a DuckDB database whose view was never created or already dropped. */
  private static List<String> sweepDuckDbFiles(Connection connection, String tag)
      throws SQLException {
    Path any = DuckDbStagingFiles.file(connection, Staging.TABLE_PREFIX + tag);
    Path folder = any.toAbsolutePath().getParent();
    String database = any.getFileName().toString();
    String start =
        database.substring(0, database.length() - (Staging.TABLE_PREFIX + tag + ".csv").length());
    List<String> swept = new ArrayList<>();
    if (folder == null || !Files.isDirectory(folder)) {
      return swept;
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(folder)) {
      for (Path file : files) {
        String name = file.getFileName().toString();
        if (name.startsWith(start)
            && name.endsWith(".csv")
            && name.contains(Staging.TABLE_PREFIX + tag + "_")) {
          Files.deleteIfExists(file);
          swept.add(file.toString());
        }
      }
    } catch (IOException e) {
      throw new SQLException("cannot remove staging files in " + folder + ": " + e.getMessage(), e);
    }
    return swept;
  }
}
