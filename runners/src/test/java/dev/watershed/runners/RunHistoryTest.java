package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code _watershed_runs} in every table sink (one row per run and model: status, counts, the
 * newest record), and {@code watershed status} reading it with the run report and the marks.
 */
class RunHistoryTest {
  private static final JdbcEndpoint POSTGRES =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path folder;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int watershed(String... args) {
    out.reset();
    err.reset();
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            folder)
        .execute(args);
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void everyRunLeavesARowPerModelInEveryWarehouseAndStatusShowsTheLast() throws Exception {
    String schema = "runs_" + UUID.randomUUID().toString().substring(0, 8);
    Files.writeString(
        folder.resolve("people.csv"),
        "id,email,updated\n1,a@example.com,2024-01-01T00:00:00Z\n1,a2@example.com,2024-02-01T00:00:00Z\n"
            + "2,b@example.com,2024-01-15T00:00:00Z\nx,,\n");
    Files.writeString(
        folder.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: people",
            "sources: { crm: { type: csv, path: people.csv } }",
            "models:",
            "  person: { key: [id], fields: { id: long, email: string, updated: timestamp } }",
            "conform: [ { from: crm, to: person, fields: { id: id, email: email, updated: updated } } ]",
            "dedupe: { person: { keep: latest, order_by: updated } }",
            "quality:",
            "  person:",
            "    - row_count: { min_ratio_of_last_run: 0.9 }",
            "sinks:",
            "  w: { type: duckdb, path: w.duckdb }",
            "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres,"
                + " schema: "
                + schema
                + " }",
            ""));
    assertEquals(Watershed.OK, watershed("status", "spec.yaml"), this::output);
    assertTrue(output().startsWith("people: no run yet"), output());

    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    Files.writeString(
        folder.resolve("people.csv"),
        "3,c@example.com,2024-03-01T12:00:00Z\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);

    String select =
        "SELECT status, rows_in, loaded, merged_away, dead_lettered, newest_record FROM %s"
            + " WHERE pipeline = 'people' AND model = 'person' ORDER BY seq";
    List<String> expected =
        List.of(
            "status,rows_in,loaded,merged_away,dead_lettered,newest_record",
            "succeeded,4,2,1,1,2024-02-01 00:00:00",
            "succeeded,5,3,1,1,2024-03-01 12:00:00");
    JdbcEndpoint duckdb = JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb"));
    assertEquals(expected, Warehouse.csv(duckdb, String.format(select, "_watershed_runs")));
    assertEquals(
        expected, Warehouse.csv(POSTGRES, String.format(select, schema + "._watershed_runs")));
    // The run id is the one of the run's OpenLineage events.
    List<String> events = Files.readAllLines(folder.resolve("target/report/lineage.jsonl"));
    String lastRunId =
        new ObjectMapper()
            .readTree(events.get(events.size() - 1))
            .path("run")
            .path("runId")
            .asText();
    assertEquals(
        List.of("run_id", lastRunId),
        Warehouse.csv(duckdb, "SELECT run_id FROM _watershed_runs ORDER BY seq DESC LIMIT 1"));

    assertEquals(Watershed.OK, watershed("status", "spec.yaml"), this::output);
    String status = out.toString(StandardCharsets.UTF_8);
    assertTrue(status.startsWith("people: last run succeeded, started "), status);
    assertTrue(status.matches("(?s).*\ncrm +csv +5  -\n.*"), status);
    assertTrue(
        status.matches(
            "(?s).*\nperson +succeeded +\\S+ \\S+ +3  2024-03-01T12:00:00Z \\(\\d+ d old\\)\n.*"),
        status);
    assertTrue(status.contains("runs recorded: 2"), status);
    assertTrue(status.contains("dead letters: 2 kept in "), status);

    // The history outlives the report folder: row_count compares with the warehouse's record of
    // the last successful run (3 rows) and blocks a run that would load 1.
    Files.walk(folder.resolve("target/report"))
        .sorted(java.util.Comparator.reverseOrder())
        .forEach(p -> p.toFile().delete());
    Files.writeString(
        folder.resolve("people.csv"), "id,email,updated\n9,z@example.com,2024-04-01T00:00:00Z\n");
    assertEquals(
        Watershed.QUALITY_FAILED, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertTrue(output().contains("row_count"), output());
    assertEquals(
        List.of("status,loaded", "blocked,1"),
        Warehouse.csv(
            duckdb, "SELECT status, loaded FROM _watershed_runs ORDER BY seq DESC LIMIT 1"));
  }

  /**
   * An incremental run that reads nothing new judges freshness by the newest record the warehouse
   * holds (the history's), not by the rows it read: none, which failed the rule before.
   */
  @Test
  void freshnessOfARunThatReadNothingNewIsTheWarehousesNewestRecord() throws Exception {
    String schema = "fresh_" + UUID.randomUUID().toString().substring(0, 8);
    try (java.sql.Connection c = POSTGRES.connect();
        java.sql.Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
      s.execute(
          "CREATE TABLE "
              + schema
              + ".people (id int PRIMARY KEY, updated_at timestamptz NOT NULL)");
      s.execute(
          "INSERT INTO "
              + schema
              + ".people VALUES (1, now() - interval '3 hours'), (2, now() - interval '2 hours')");
    }
    String spec =
        String.join(
            "\n",
            "name: fresh",
            "sources:",
            "  crm: { type: jdbc, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres,"
                + " table: "
                + schema
                + ".people, key: [id], incremental: { column: updated_at, tie_break: id } }",
            "models: { person: { key: [id], fields: { id: int, updated_at: timestamp } } }",
            "conform: [ { from: crm, to: person, fields: { id: id, updated_at: updated_at } } ]",
            "quality:",
            "  person:",
            "    - freshness: { column: updated_at, within: WITHIN }",
            "sinks: { w: { type: duckdb, path: w.duckdb, write: merge } }",
            "");
    Files.writeString(folder.resolve("spec.yaml"), spec.replace("WITHIN", "1d"));
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    // Nothing new: the warehouse's newest record (2 hours old) is within a day.
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertTrue(output().contains("freshness(updated_at)"), output());
    com.fasterxml.jackson.databind.JsonNode rule =
        new ObjectMapper()
            .readTree(folder.resolve("target/report/run-report.json").toFile())
            .path("rules")
            .get(0);
    assertTrue(rule.path("passed").asBoolean(), rule.toString());
    assertTrue(rule.path("detail").asText().contains("held by the warehouse"), rule.toString());
    // Within an hour it is stale, and a run with nothing new says so.
    Files.writeString(folder.resolve("spec.yaml"), spec.replace("WITHIN", "1h"));
    assertEquals(
        Watershed.QUALITY_FAILED, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertTrue(output().contains("is older than PT1H"), output());
  }
}
