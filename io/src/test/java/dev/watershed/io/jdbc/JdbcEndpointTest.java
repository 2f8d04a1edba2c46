package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JdbcEndpointTest {
  @TempDir Path folder;

  /**
   * A DuckDB file another process holds (DuckDB lets one process open a file) is named as such,
   * with what to do, not as a wrong url, user or password.
   */
  @Test
  void aDuckDbFileHeldByAnotherProcessIsSaidToBe() throws Exception {
    Path file = folder.resolve("held.duckdb");
    Process holder =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    DuckDbLockHolder.class.getName(),
                    file.toString()))
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader output =
          new BufferedReader(
              new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      String line;
      while ((line = output.readLine()) != null && !line.equals("locked")) {
        // the holder's start-up output
      }
      assertTrue("locked".equals(line), "the holder did not open the file");
      SQLException e =
          assertThrows(SQLException.class, () -> JdbcEndpoint.of("jdbc:duckdb:" + file).connect());
      assertTrue(
          e.getMessage().startsWith("cannot connect to jdbc:duckdb:" + file), e.getMessage());
      assertTrue(e.getMessage().contains("another process holds the DuckDB file"), e.getMessage());
      assertTrue(!e.getMessage().contains("user and password"), e.getMessage());
    } finally {
      holder.getOutputStream().close();
      if (!holder.waitFor(30, TimeUnit.SECONDS)) {
        holder.destroyForcibly();
      }
    }
  }

  /**
   * A database with no connection left for the user (PostgreSQL's too many connections) is tried
   * again until one frees; a database that does not exist is not.
   */
  @Test
  void aDatabaseWithNoConnectionLeftIsTriedAgainUntilOneFrees() throws Exception {
    JdbcEndpoint admin = Databases.postgres();
    Databases.execute(
        admin,
        "DROP ROLE IF EXISTS ws_one_connection",
        "CREATE ROLE ws_one_connection LOGIN PASSWORD 'one' CONNECTION LIMIT 1");
    JdbcEndpoint limited =
        JdbcEndpoint.of(Databases.POSTGRES_URL).withUser("ws_one_connection").withPassword("one");
    ExecutorService second = Executors.newSingleThreadExecutor();
    try (Connection first = limited.connect()) {
      long before = JdbcEndpoint.retriedConnections();
      Future<Boolean> waiting =
          second.submit(
              () -> {
                try (Connection connection = limited.connect()) {
                  return connection.isValid(5);
                }
              });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (JdbcEndpoint.retriedConnections() == before && System.nanoTime() < deadline) {
        Thread.sleep(20); // polling for the condition "the second connection was refused once"
      }
      assertTrue(JdbcEndpoint.retriedConnections() > before, "the refused connection was retried");
      assertFalse(waiting.isDone(), "it waits while the first connection is open");
      first.close();
      assertTrue(waiting.get(60, TimeUnit.SECONDS), "it connects once the first one closed");

      long retried = JdbcEndpoint.retriedConnections();
      SQLException missing =
          assertThrows(
              SQLException.class,
              () ->
                  JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/ws_no_such_database")
                      .withUser("postgres")
                      .connect()
                      .close());
      assertTrue(missing.getMessage().contains("cannot connect to"), missing.getMessage());
      assertEquals(retried, JdbcEndpoint.retriedConnections(), "a missing database is not retried");
    } finally {
      second.shutdownNow();
      Databases.execute(admin, "DROP ROLE IF EXISTS ws_one_connection");
    }
  }
}
