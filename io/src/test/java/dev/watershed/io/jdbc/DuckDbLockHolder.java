package dev.watershed.io.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;

/** Run by {@link JdbcEndpointTest} in a JVM of its own: holds a DuckDB file until stdin closes. */
public final class DuckDbLockHolder {
  private DuckDbLockHolder() {}

  public static void main(String[] args) throws Exception {
    try (Connection connection = DriverManager.getConnection("jdbc:duckdb:" + args[0])) {
      connection.createStatement().execute("CREATE TABLE IF NOT EXISTS held (x INT)");
      System.out.println("locked");
      System.out.flush();
      while (System.in.read() >= 0) {
        // held until the test closes our input
      }
    }
  }
}
