package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.Staging;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quality rules through the command line: actions, blocking before commit, the run report. */
class QualityGateTest {
  @TempDir Path folder;
  private Cli cli;

  @org.junit.jupiter.api.BeforeEach
  void commandLine() {
    cli = new Cli(folder);
  }

  private static final String HEADER = "id,email,plan,updated";
  private static final List<String> FOUR_PEOPLE =
      List.of(
          "1,anna@example.com,pro,2024-03-01T00:00:00Z",
          "2,ben@example.com,free,2024-03-01T00:00:00Z",
          "3,cara@example.com,pro,2024-03-01T00:00:00Z",
          "4,dan@example.com,free,2024-03-01T00:00:00Z");

  private void source(List<String> lines) throws IOException {
    List<String> all = new ArrayList<>(List.of(HEADER));
    all.addAll(lines);
    Files.writeString(folder.resolve("people.csv"), String.join("\n", all) + "\n");
  }

  private Path spec(String rules) throws IOException {
    String yaml =
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  people: { type: csv, path: people.csv }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, plan: string, updated: timestamp }",
            "conform:",
            "  - from: people",
            "    to: person",
            "    fields: { person_id: id, email: email, plan: plan, updated: updated }",
            "quality:",
            "  person:",
            rules,
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb, write: merge }",
            "  lake: { type: parquet, path: lake }",
            "  export: { type: jsonl, path: export }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private int run(Path spec, Instant now) {
    return cli.run(Clock.fixed(now, ZoneOffset.UTC), "run", spec.toString(), "--runner=direct");
  }

  private String output() {
    return cli.output();
  }

  private static final Instant MARCH_2 = Instant.parse("2024-03-02T00:00:00Z");

  /** Everything the three sinks hold, as text. */
  private List<String> destinations() throws Exception {
    List<String> state = new ArrayList<>();
    state.addAll(
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
            "SELECT * FROM person ORDER BY person_id"));
    state.addAll(
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:"),
            "SELECT person_id, email FROM read_parquet('"
                + folder.resolve("lake/person")
                + "/*.parquet') ORDER BY 1"));
    try (Stream<Path> files = Files.list(folder.resolve("export"))) {
      for (Path file : files.sorted().toList()) {
        state.add(file.getFileName().toString());
        state.addAll(Files.readAllLines(file).stream().sorted().toList());
      }
    }
    return state;
  }

  /** Files under the lake's staging folder. */
  private List<Path> stagedLakeFiles() throws IOException {
    Path staging = folder.resolve("lake/_staging");
    if (!Files.exists(staging)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(staging)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }

  private JsonNode report() throws IOException {
    return new ObjectMapper().readTree(folder.resolve("report/run-report.json").toFile());
  }

  @Test
  void aFailingBlockingRuleCommitsNothingToAnySink() throws Exception {
    source(FOUR_PEOPLE);
    assertEquals(Watershed.OK, run(spec("    - row_count: { max: 4 }"), MARCH_2), this::output);
    List<String> before = destinations();
    assertEquals("person_id,email,plan,updated,_source", before.get(0));
    assertEquals(5, before.stream().filter(l -> l.contains("@example.com,")).count() + 1);

    List<String> five = new ArrayList<>(FOUR_PEOPLE);
    five.set(0, "1,anna.new@example.com,pro,2024-03-02T00:00:00Z");
    five.add("5,eve@example.com,pro,2024-03-01T00:00:00Z");
    source(five);
    assertEquals(
        Watershed.QUALITY_FAILED, run(spec("    - row_count: { max: 4 }"), MARCH_2), this::output);
    assertTrue(output().contains("FAILED: 5 rows, more than the maximum 4"), this::output);
    assertTrue(output().contains("nothing was committed"), this::output);
    assertEquals(before, destinations());
    JsonNode report = report();
    assertEquals("blocked", report.path("status").asText());
    assertEquals(3, report.path("exit_code").asInt());
    assertEquals(
        5, report.path("sinks").path("warehouse").path("person").path("not_committed").asInt());
    assertEquals(0, report.path("sinks").path("warehouse").path("person").path("rows").asInt());
    // The lake's files of a blocked run never reach the table's folder, nor count as loaded.
    assertEquals(5, report.path("sinks").path("lake").path("person").path("not_committed").asInt());
    assertEquals(0, report.path("sinks").path("lake").path("person").path("rows").asInt());
    assertEquals(
        5, report.path("sinks").path("export").path("person").path("not_committed").asInt());
    assertEquals(0, report.path("sinks").path("export").path("person").path("rows").asInt());
    assertTrue(output().matches("(?s).*\\nlake +person +overwrite +0\\n.*"), this::output);
    assertEquals(List.of(), stagedLakeFiles());

    // A run that crashed before publishing left its staging folder and a staging table: the next
    // run removes them and says so. Another pipeline's staging is not this run's to remove.
    Path crashed =
        folder.resolve(
            "lake/_staging/" + Staging.tag("people") + ".person-0badc0de/part-0badc0de-1.parquet");
    Path other =
        folder.resolve(
            "lake/_staging/" + Staging.tag("others") + ".person-0badc0de/part-0badc0de-1.parquet");
    for (Path file : List.of(crashed, other)) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, "half a file");
    }
    String leftTable = Staging.tablePrefix("people", "0badc0de") + "_00000001";
    Warehouse.execute(
        JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
        "CREATE TABLE " + leftTable + " (person_id VARCHAR)");
    assertEquals(Watershed.OK, run(spec("    - row_count: { max: 5 }"), MARCH_2), this::output);
    assertTrue(destinations().contains("1,anna.new@example.com,pro,2024-03-02 00:00:00,people"));
    assertEquals(List.of(other), stagedLakeFiles());
    assertTrue(
        output().contains("removed 2 staging objects left by an earlier run of people"),
        this::output);
    assertTrue(output().contains("sinks.warehouse: " + leftTable), this::output);
    assertEquals(
        List.of("0"),
        Warehouse.csv(
                JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE"
                    + " '_ws_%'")
            .subList(1, 2));
  }

  @Test
  void uniqueIsCheckedAgainstWhatEarlierRunsMerged() throws Exception {
    Path spec = spec("    - unique: email");
    source(FOUR_PEOPLE);
    assertEquals(Watershed.OK, run(spec, MARCH_2), this::output);
    source(
        List.of(
            "1,anna@example.com,pro,2024-03-02T00:00:00Z",
            "9,ben@example.com,pro,2024-03-02T00:00:00Z",
            "10,zoe@example.com,pro,2024-03-02T00:00:00Z"));
    assertEquals(Watershed.OK, run(spec, MARCH_2), this::output);
    String deadLetters = Files.readString(folder.resolve("dead/dead-letter.jsonl"));
    assertEquals(1, deadLetters.lines().count(), deadLetters);
    assertTrue(
        deadLetters.contains(
            "email 'ben@example.com' already belongs to person_id 2 in the destination"),
        deadLetters);
    List<String> people =
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
            "SELECT person_id, email FROM person ORDER BY person_id");
    assertEquals(
        List.of(
            "person_id,email",
            "1,anna@example.com",
            "10,zoe@example.com",
            "2,ben@example.com",
            "3,cara@example.com",
            "4,dan@example.com"),
        people);
  }

  @Test
  void freshnessIsJudgedByTheRunsClock() throws Exception {
    source(FOUR_PEOPLE);
    Path spec = spec("    - freshness: { column: updated, within: 7d }");
    assertEquals(Watershed.OK, run(spec, Instant.parse("2024-03-08T00:00:00Z")), this::output);
    assertEquals(
        Watershed.QUALITY_FAILED, run(spec, Instant.parse("2024-03-08T00:00:01Z")), this::output);
    assertTrue(
        report()
            .path("rules")
            .get(0)
            .path("detail")
            .asText()
            .contains("newest updated 2024-03-01T00:00:00Z is older than PT168H"),
        report()::toPrettyString);
  }

  @Test
  void rowCountComparesWithTheLastSuccessfulRun() throws Exception {
    Path spec = spec("    - row_count: { min_ratio_of_last_run: 0.8 }");
    List<String> five = new ArrayList<>(FOUR_PEOPLE);
    five.add("5,eve@example.com,pro,2024-03-01T00:00:00Z");
    source(five);
    assertEquals(Watershed.OK, run(spec, MARCH_2), this::output);
    source(FOUR_PEOPLE);
    assertEquals(Watershed.OK, run(spec, MARCH_2), this::output);
    assertTrue(output().contains("passed: 4 rows (last run 5)"), this::output);
    source(FOUR_PEOPLE.subList(0, 3));
    assertEquals(Watershed.QUALITY_FAILED, run(spec, MARCH_2), this::output);
    assertTrue(output().contains("3 rows, below 0.8 of the last run's 4"), this::output);
    // A blocked run is not a baseline: the next comparison is still with 4.
    assertEquals(Watershed.QUALITY_FAILED, run(spec, MARCH_2), this::output);
    assertTrue(output().contains("last run's 4"), this::output);
  }

  @Test
  void eachActionAndTheRunReport() throws Exception {
    List<String> people = new ArrayList<>(FOUR_PEOPLE);
    people.add("5,,pro,2024-03-01T00:00:00Z");
    people.add("6,fay@example.com,gold,2024-03-01T00:00:00Z");
    people.add("7,GUS@EXAMPLE.COM,free,2024-03-01T00:00:00Z");
    for (int i = 8; i < 15; i++) {
      people.add(i + ",p" + i + "@example.com,platinum,2024-03-01T00:00:00Z");
    }
    source(people);
    String rules =
        String.join(
            "\n",
            "    - not_null: email",
            "    - accepted_values: { column: plan, values: [free, pro, gold] }",
            "      on_failure: drop",
            "    - regex: { column: email, pattern: \"[a-z0-9.]+@example[.]com\" }",
            "      on_failure: warn",
            "    - expression: \"plan != 'gold'\"",
            "      name: no_gold_yet",
            "      on_failure: warn");
    assertEquals(Watershed.OK, run(spec(rules), MARCH_2), this::output);
    assertTrue(
        output().matches("(?s).*person\\s+14\\s+14\\s+1\\s+0\\s+7\\s+6\\s+reconciled.*"),
        this::output);

    JsonNode report = report();
    assertEquals("succeeded", report.path("status").asText());
    Map<String, JsonNode> byRule = new java.util.HashMap<>();
    report.path("rules").forEach(rule -> byRule.put(rule.path("rule").asText(), rule));
    assertEquals(1, byRule.get("not_null(email)").path("failed").asInt());
    assertEquals(7, byRule.get("accepted_values(plan)").path("failed").asInt());
    assertEquals(5, byRule.get("accepted_values(plan)").path("samples").size(), "up to 5 samples");
    assertEquals(1, byRule.get("regex(email)").path("failed").asInt());
    assertEquals(
        "people.csv:8",
        byRule.get("regex(email)").path("samples").get(0).path("position").asText());
    assertEquals(1, byRule.get("no_gold_yet").path("failed").asInt());
    assertEquals(6, report.path("models").path("person").path("loaded").asInt());
    assertEquals(7, report.path("models").path("person").path("dropped").asInt());

    String deadLetters = Files.readString(folder.resolve("dead/dead-letter.jsonl"));
    assertTrue(
        deadLetters.contains(
            "\"stage\":\"quality\",\"reason\":\"quality rule failed\",\"rule\":\"not_null(email)\""),
        deadLetters);
    assertTrue(deadLetters.contains("\"position\":\"people.csv:6\""), deadLetters);
  }
}
