package dev.watershed.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.Databases;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Size estimates for live progress, from the real files and databases, without reading them. */
class SourceSizesTest {
  @TempDir Path folder;

  @Test
  void textFilesAreTheirSizeOverTheMeanLine() throws Exception {
    StringBuilder csv = new StringBuilder("id,name\n");
    for (int i = 0; i < 50_000; i++) {
      // Lines vary in length (the names) but not along the file (padded ids), as exports do.
      csv.append(String.format("%06d", i)).append(",name ").append(i % 97).append('\n');
    }
    Files.writeString(folder.resolve("a.csv"), csv);
    Files.writeString(folder.resolve("b.csv"), csv);
    // The first 64 KiB hold about 5,000 lines: an estimate, within 5% of the 100,000 rows.
    long estimate = SourceSizes.textLines(folder.resolve("*.csv").toString(), true);
    assertTrue(Math.abs(estimate - 100_000) < 5_000, "estimate " + estimate);
    // A short file is read whole: exact.
    Files.writeString(folder.resolve("small.jsonl"), "{\"a\":1}\n{\"a\":22}\n{\"a\":333}\n");
    assertEquals(3, SourceSizes.textLines(folder.resolve("small.jsonl").toString(), false));
    try (var gz = new GZIPOutputStream(Files.newOutputStream(folder.resolve("c.csv.gz")))) {
      gz.write(csv.toString().getBytes());
    }
    assertEquals(-1, SourceSizes.textLines(folder.resolve("c.csv.gz").toString(), true));
    assertEquals(-1, SourceSizes.textLines(folder.resolve("none-*.csv").toString(), true));
  }

  @Test
  void parquetFilesCountTheirRowsFromTheirFooters() throws Exception {
    try (Connection duckdb = JdbcEndpoint.of("jdbc:duckdb:").connect();
        Statement sql = duckdb.createStatement()) {
      for (String part : new String[] {"1", "2"}) {
        sql.execute(
            "COPY (SELECT range AS id FROM range(1234)) TO '"
                + folder.resolve("part-" + part + ".parquet")
                + "' (FORMAT parquet)");
      }
    }
    assertEquals(2468, SourceSizes.parquetRows(folder.resolve("part-*.parquet").toString()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgres", "mariadb", "duckdb"})
  void tablesAreTheirDatabasesStatistics(String database) throws Exception {
    JdbcEndpoint endpoint = Databases.named(database, folder);
    try (Connection connection = endpoint.connect();
        Statement sql = connection.createStatement()) {
      sql.execute("DROP TABLE IF EXISTS size_probe");
      sql.execute("CREATE TABLE size_probe (id INT, name VARCHAR(20))");
      StringBuilder insert = new StringBuilder("INSERT INTO size_probe VALUES ");
      for (int i = 0; i < 2_000; i++) {
        insert
            .append(i == 0 ? "" : ",")
            .append("(")
            .append(i)
            .append(", 'n")
            .append(i)
            .append("')");
      }
      sql.execute(insert.toString());
      if (!database.equals("duckdb")) {
        // What autovacuum or InnoDB's statistics would do in time.
        sql.execute(database.equals("mariadb") ? "ANALYZE TABLE size_probe" : "ANALYZE size_probe");
      }
    }
    long estimate = SourceSizes.tableRows(endpoint, "size_probe");
    if (database.equals("mariadb")) {
      // InnoDB samples pages: an estimate, not a count.
      assertTrue(estimate > 1_000 && estimate < 4_000, "estimate " + estimate);
    } else {
      assertEquals(2_000, estimate);
    }
    assertEquals(-1, SourceSizes.tableRows(endpoint, "no_such_table"));
  }
}
