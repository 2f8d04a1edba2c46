package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
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
}
