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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Identity resolution when each run reads only new and changed rows (incremental JDBC from
 * PostgreSQL into DuckDB): arriving records are matched against the earlier clusters they may
 * touch, read back from the warehouse, including records of an included model; untouched clusters
 * are not rewritten; clusters merge keeping the oldest id, and a record whose email and phone
 * change leaves its cluster.
 */
class IncrementalIdentityTest {
  private static final JdbcEndpoint SOURCE =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path folder;
  private Cli cli;
  private Path spec;
  private JdbcEndpoint warehouse;
  private String tables;

  /** The spec with its warehouse in DuckDB or PostgreSQL (schema idr). */
  private void setUp(String warehouseType) throws Exception {
    execute(
        "DROP SCHEMA IF EXISTS idr CASCADE",
        "CREATE SCHEMA idr",
        "DROP TABLE IF EXISTS idr_people",
        "DROP TABLE IF EXISTS idr_tickets",
        "CREATE TABLE idr_people (id INT PRIMARY KEY, name TEXT, email TEXT, phone TEXT,"
            + " updated_at TIMESTAMPTZ)",
        "CREATE TABLE idr_tickets (id INT PRIMARY KEY, email TEXT, phone TEXT,"
            + " updated_at TIMESTAMPTZ)");
    cli = new Cli(folder);
    spec = folder.resolve("people.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  crm:",
            "    type: jdbc",
            "    url: \"jdbc:postgresql://127.0.0.1:5432/test\"",
            "    user: postgres",
            "    table: idr_people",
            "    incremental: { column: updated_at, tie_break: id }",
            "  support:",
            "    type: jdbc",
            "    url: \"jdbc:postgresql://127.0.0.1:5432/test\"",
            "    user: postgres",
            "    table: idr_tickets",
            "    incremental: { column: updated_at, tie_break: id }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, name: string, email: string, phone: string,"
                + " updated_at: timestamp }",
            "  ticket:",
            "    key: [ticket_id]",
            "    fields: { ticket_id: string, email: string, phone: string, opened_at: timestamp }",
            "conform:",
            "  - from: crm",
            "    to: person",
            "    fields: { person_id: { from: id, prefix: p- }, name: name, email: email,"
                + " phone: phone, updated_at: updated_at }",
            "  - from: support",
            "    to: ticket",
            "    fields: { ticket_id: { from: id, prefix: t- }, email: email, phone: phone,"
                + " opened_at: updated_at }",
            "identity:",
            "  person:",
            "    blocking: [email, phone]",
            "    compare:",
            "      - { field: email, method: exact }",
            "      - { field: phone, method: exact }",
            "    match: \"email = 1 or phone = 1\"",
            "    order_by: updated_at",
            "    include:",
            "      ticket: { email: email, phone: phone, updated_at: opened_at }",
            "sinks:",
            warehouseType.equals("duckdb")
                ? "  warehouse: { type: duckdb, path: w.duckdb }"
                : "  warehouse: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\","
                    + " user: postgres, schema: idr }",
            ""));
    warehouse =
        warehouseType.equals("duckdb")
            ? JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb"))
            : SOURCE;
    tables = warehouseType.equals("duckdb") ? "" : "idr.";
  }

  private static void execute(String... statements) throws SQLException {
    try (Connection connection = SOURCE.connect();
        Statement statement = connection.createStatement()) {
      for (String sql : statements) {
        statement.execute(sql);
      }
    }
  }

  /** Rows of a query on the warehouse; {@code person_*} tables are found in either database. */
  private List<String> warehouse(String sql) throws SQLException {
    return Warehouse.csv(warehouse, sql.replace(" person_", " " + tables + "person_"));
  }

  private void run() {
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
  }

  private List<String> crosswalk() throws SQLException {
    return warehouse("SELECT source_id, golden_id FROM person_crosswalk ORDER BY source_id");
  }

  private List<String> golden() throws SQLException {
    return warehouse("SELECT golden_id, email, records FROM person_golden ORDER BY golden_id");
  }

  @ParameterizedTest
  @ValueSource(strings = {"duckdb", "postgres"})
  void arrivingRecordsJoinMergeAndLeaveEarlierClusters(String warehouseType) throws Exception {
    setUp(warehouseType);
    // Run 1: three people, and a ticket of Eve's (same email, another phone).
    execute(
        "INSERT INTO idr_people VALUES"
            + " (1, 'Anna', 'anna@example.com', '111', TIMESTAMPTZ '2026-01-01 00:00:00+00'),"
            + " (2, 'Ben', 'ben@example.com', '222', TIMESTAMPTZ '2026-01-01 00:00:00+00'),"
            + " (7, 'Eve', 'eve@example.com', '777', TIMESTAMPTZ '2026-01-01 00:00:00+00')",
        "INSERT INTO idr_tickets VALUES"
            + " (1, 'eve@example.com', '888', TIMESTAMPTZ '2026-01-01 00:00:00+00')");
    run();
    assertEquals(
        List.of("source_id,golden_id", "p-1,g-p-1", "p-2,g-p-2", "p-7,g-p-7", "t-1,g-p-7"),
        crosswalk());

    // Run 2 reads two new people: Anna again under another phone, and Dan, someone new.
    execute(
        "INSERT INTO idr_people VALUES"
            + " (4, 'Anna S', 'anna@example.com', '444', TIMESTAMPTZ '2026-01-02 00:00:00+00'),"
            + " (6, 'Dan', 'dan@example.com', '666', TIMESTAMPTZ '2026-01-02 00:00:00+00')");
    run();
    assertEquals(
        List.of(
            "source_id,golden_id",
            "p-1,g-p-1",
            "p-2,g-p-2",
            "p-4,g-p-1",
            "p-6,g-p-6",
            "p-7,g-p-7",
            "t-1,g-p-7"),
        crosswalk());
    assertEquals(Watershed.OK, cli.run("plan", spec.toString()), cli.output());
    // The arriving records are resolved with the earlier clusters they may touch, read back.
    assertTrue(cli.stdout().contains("affected identity person"), cli.output());
    assertTrue(cli.stdout().contains("AffectedRecords(blocking=[email, phone]"), cli.output());
    // Only Anna's cluster was opened again; Ben's and Eve's entries were not rewritten.
    assertEquals(
        List.of("source_id,rewritten", "p-1,yes", "p-2,no", "p-7,no", "t-1,no"),
        warehouse(
            "SELECT source_id, CASE WHEN last_seen > first_seen THEN 'yes' ELSE 'no' END AS"
                + " rewritten FROM person_crosswalk"
                + " WHERE source_id IN ('p-1', 'p-2', 'p-7', 't-1') ORDER BY 1"));

    // Run 3: someone with Dan's email and the phone on Eve's ticket joins Dan (new in run 2) and
    // Eve (run 1) through a record this run did not read: the older id, g-p-7, survives.
    execute(
        "INSERT INTO idr_people VALUES"
            + " (5, 'D. Eve', 'dan@example.com', '888', TIMESTAMPTZ '2026-01-03 00:00:00+00')");
    run();
    assertEquals(
        List.of(
            "source_id,golden_id",
            "p-1,g-p-1",
            "p-2,g-p-2",
            "p-4,g-p-1",
            "p-5,g-p-7",
            "p-6,g-p-7",
            "p-7,g-p-7",
            "t-1,g-p-7"),
        crosswalk());
    assertEquals(
        List.of("golden_id,merged_into", "g-p-6,g-p-7"),
        warehouse("SELECT golden_id, merged_into FROM person_golden_merges"));
    assertEquals(
        List.of(
            "golden_id,email,records",
            "g-p-1,anna@example.com,2",
            "g-p-2,ben@example.com,1",
            "g-p-7,dan@example.com,4"),
        golden());

    // Run 4: Anna's second record changes email and phone; it leaves her cluster.
    execute(
        "UPDATE idr_people SET email = 'zed@example.com', phone = '999',"
            + " updated_at = TIMESTAMPTZ '2026-01-04 00:00:00+00' WHERE id = 4");
    run();
    assertEquals(
        List.of(
            "source_id,golden_id",
            "p-1,g-p-1",
            "p-2,g-p-2",
            "p-4,g-p-4",
            "p-5,g-p-7",
            "p-6,g-p-7",
            "p-7,g-p-7",
            "t-1,g-p-7"),
        crosswalk());
    assertEquals(
        List.of(
            "golden_id,email,records",
            "g-p-1,anna@example.com,1",
            "g-p-2,ben@example.com,1",
            "g-p-4,zed@example.com,1",
            "g-p-7,dan@example.com,4"),
        golden());
  }
}
