package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental reads of a PostgreSQL table by a high-water mark kept in the destination: a run reads
 * only rows past the mark, the mark commits with the rows (so a run the quality gate stops moves
 * neither), and micro-batch ticks resume from it.
 */
class IncrementalTest {
  private static final JdbcEndpoint SOURCE =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path folder;
  private Cli cli;
  private Path spec;

  @BeforeEach
  void setUp() throws Exception {
    execute(
        "DROP TABLE IF EXISTS inc_orders",
        "CREATE TABLE inc_orders (id INT PRIMARY KEY, customer TEXT, amount NUMERIC(10,2),"
            + " updated_at TIMESTAMPTZ)",
        "INSERT INTO inc_orders SELECT g, 'c' || (g % 7), g * 1.5,"
            + " TIMESTAMPTZ '2026-01-01 00:00:00+00' + (g / 10) * INTERVAL '1 minute'"
            + " FROM generate_series(1, 100) g");
    cli = new Cli(folder);
    spec = folder.resolve("orders.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: orders",
            "every: 1s",
            "sources:",
            "  shop:",
            "    type: jdbc",
            "    url: \"jdbc:postgresql://127.0.0.1:5432/test\"",
            "    user: postgres",
            "    table: inc_orders",
            "    incremental: { column: updated_at, tie_break: id }",
            "models:",
            "  orders:",
            "    key: [order_id]",
            "    fields: { order_id: long, customer: string, amount: \"decimal(10,2)\","
                + " updated_at: timestamp }",
            "conform:",
            "  - from: shop",
            "    to: orders",
            "    fields: { order_id: id, customer: customer, amount: amount,"
                + " updated_at: updated_at }",
            "quality:",
            "  orders:",
            "    - range: { column: amount, min: 0 }",
            "      on_failure: fail",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb }",
            ""));
  }

  private static void execute(String... statements) throws SQLException {
    try (Connection connection = SOURCE.connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }

  private List<String> warehouse(String sql) throws SQLException {
    return Warehouse.csv(JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")), sql);
  }

  private void assertRead(long rows) {
    assertTrue(
        cli.stdout().matches("(?s).*shop\\s+jdbc\\s+" + rows + "\\s.*"),
        "expected " + rows + " rows read:\n" + cli.output());
  }

  @Test
  void eachRunReadsOnlyRowsPastTheMarkAndASecondRunMovesNothing() throws Exception {
    // updated_at may be null in this table: validate says what that means for an incremental read.
    assertEquals(Watershed.OK, cli.run("validate", spec.toString()), cli.output());
    assertTrue(
        cli.output()
            .contains(
                "note: source 'shop': its incremental column 'updated_at' may be null, and a row"
                    + " whose updated_at is null is read only by a run without a stored mark"),
        cli.output());
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    assertRead(100);
    assertEquals(
        List.of("n,last", "100,100"),
        warehouse("SELECT count(*) AS n, max(order_id) AS last FROM orders"));

    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    assertRead(0);

    // Two updates and two inserts, the inserts sharing one timestamp: only these four are read.
    execute(
        "UPDATE inc_orders SET amount = 999, updated_at = TIMESTAMPTZ '2026-01-02 00:00:00+00'"
            + " WHERE id IN (3, 50)",
        "INSERT INTO inc_orders VALUES (101, 'c1', 1, TIMESTAMPTZ '2026-01-02 00:00:00+00'),"
            + " (102, 'c2', 2, TIMESTAMPTZ '2026-01-02 00:00:00+00')");
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    assertRead(4);
    assertEquals(
        List.of("order_id,amount", "3,999.00", "50,999.00", "101,1.00", "102,2.00"),
        warehouse(
            "SELECT order_id, amount FROM orders WHERE order_id IN (3, 50, 101, 102) ORDER BY 1"));
    assertEquals(
        List.of(
            "source,mark",
            "shop,\"{\"\"value\"\":\"\"2026-01-02 00:00:00+00\"\",\"\"tie\"\":\"\"102\"\"}\""),
        warehouse("SELECT source, mark FROM _watershed_state"));
  }

  @Test
  void aRunStoppedByTheQualityGateMovesNeitherRowsNorTheMark() throws Exception {
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    List<String> mark = warehouse("SELECT mark FROM _watershed_state");
    execute(
        "INSERT INTO inc_orders VALUES (200, 'c1', -5, TIMESTAMPTZ '2026-02-01 00:00:00+00'),"
            + " (201, 'c1', 5, TIMESTAMPTZ '2026-02-01 00:00:00+00')");
    assertEquals(
        Watershed.QUALITY_FAILED, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    assertEquals(mark, warehouse("SELECT mark FROM _watershed_state"));
    assertEquals(List.of("n", "100"), warehouse("SELECT count(*) AS n FROM orders"));

    // Fixed at the source, the next run reads both rows: nothing was skipped.
    execute("UPDATE inc_orders SET amount = 5 WHERE id = 200");
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
    assertRead(2);
    assertEquals(List.of("n", "102"), warehouse("SELECT count(*) AS n FROM orders"));
  }

  @Test
  void microBatchTicksReadWhatChangedAndResumeFromTheMarkAfterARestart() throws Exception {
    assertEquals(
        Watershed.OK,
        cli.run("run", spec.toString(), "--mode=micro-batch", "--stop-when-idle"),
        cli.output());
    assertTrue(cli.stderr().contains("tick 2: nothing new"), cli.stderr());
    assertRead(100);
    execute("INSERT INTO inc_orders VALUES (103, 'c3', 3, TIMESTAMPTZ '2026-01-03 00:00:00+00')");
    assertEquals(
        Watershed.OK,
        cli.run("run", spec.toString(), "--mode=micro-batch", "--stop-when-idle"),
        cli.output());
    assertRead(1);
    assertEquals(List.of("n", "101"), warehouse("SELECT count(*) AS n FROM orders"));
  }
}
