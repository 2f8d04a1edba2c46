package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fix a spec, replay its dead letters: the right rows move, and only them. */
class ReplayTest {
  @TempDir Path folder;
  private Cli cli;

  @org.junit.jupiter.api.BeforeEach
  void commandLine() {
    cli = new Cli(folder);
  }

  private Path spec(String updatedRule) throws IOException {
    String yaml =
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  people: { type: csv, path: people.csv }",
            "  events: { type: jsonl, path: events.jsonl }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, updated: timestamp }",
            "conform:",
            "  - from: people",
            "    to: person",
            "    fields:",
            "      person_id: id",
            "      email: { from: email, normalize: email }",
            "      updated: " + updatedRule,
            "  - from: events",
            "    to: person",
            "    fields: { person_id: who.id, email: { from: who.email, normalize: email }, updated: "
                + updatedRule
                + " }",
            "quality:",
            "  person:",
            "    - row_count: { min: 100 }",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb, write: merge }",
            "  lake: { type: parquet, path: lake }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private int cli(String... args) {
    return cli.run(args);
  }

  private String output() {
    return cli.output();
  }

  private List<String> deadLetters() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> letters = new ArrayList<>();
    for (String line : Files.readAllLines(folder.resolve("dead/dead-letter.jsonl"))) {
      var letter = json.readTree(line);
      letters.add(letter.path("position").asText() + " " + letter.path("reason").asText());
    }
    letters.sort(null);
    return letters;
  }

  private List<String> warehouse() throws Exception {
    return Warehouse.csv(
        JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
        "SELECT person_id, email, updated FROM person ORDER BY 1");
  }

  @Test
  void replayAfterASpecFixLoadsTheFixedRowsAndOnlyThem() throws Exception {
    Files.writeString(
        folder.resolve("people.csv"),
        String.join(
            "\n",
            "id,email,updated",
            "1,anna@example.com,2024-03-01T10:00:00Z",
            "2,ben@example.com,01.03.2024 11:00",
            "3,not an email,2024-03-01T10:00:00Z",
            "4,dan@example.com,2024-03-01T10:00:00Z,extra",
            "5,eve@example.com,02.03.2024 12:30",
            ""));
    Files.writeString(
        folder.resolve("events.jsonl"),
        "{\"who\": {\"id\": \"6\", \"email\": \"fay@example.com\"}, \"updated\": \"03.03.2024 08:15\"}\n");
    Path broken = spec("updated");
    // A dataset rule that would fail: the first run is blocked only by it, so lift it there.
    Files.writeString(broken, Files.readString(broken).replace("min: 100", "min: 1"));
    assertEquals(Watershed.OK, cli("run", broken.toString(), "--runner=direct"), this::output);
    assertEquals(
        List.of("person_id,email,updated", "1,anna@example.com,2024-03-01 10:00:00"), warehouse());
    assertEquals(
        List.of(
            "events.jsonl:1 unparsable timestamp",
            "people.csv:3 unparsable timestamp",
            "people.csv:4 invalid email",
            "people.csv:5 wrong column count",
            "people.csv:6 unparsable timestamp"),
        deadLetters());

    Path fixed =
        spec("{ from: updated, formats: [\"yyyy-MM-dd'T'HH:mm:ssX\", \"dd.MM.yyyy HH:mm\"] }");
    Path file = folder.resolve("dead/dead-letter.jsonl");
    // row_count min 100 stays in the fixed spec: a replay skips dataset rules.
    assertEquals(
        Watershed.OK,
        cli("replay", fixed.toString(), "--from=" + file, "--runner=direct"),
        this::output);
    assertTrue(
        output().contains("replayed 5 dead letters: 3 now pass, 2 failed again, 0 not replayable"),
        this::output);
    List<String> expected =
        List.of(
            "person_id,email,updated",
            "1,anna@example.com,2024-03-01 10:00:00",
            "2,ben@example.com,2024-03-01 11:00:00",
            "5,eve@example.com,2024-03-02 12:30:00",
            "6,fay@example.com,2024-03-03 08:15:00");
    assertEquals(expected, warehouse());
    assertEquals(
        List.of("people.csv:4 invalid email", "people.csv:5 wrong column count"), deadLetters());
    List<String> lake =
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:"),
            "SELECT person_id FROM read_parquet('"
                + folder.resolve("lake/person")
                + "/*.parquet') ORDER BY 1");
    assertEquals(List.of("person_id", "1", "2", "5", "6"), lake);

    assertEquals(
        Watershed.OK,
        cli("replay", fixed.toString(), "--from=" + file, "--runner=direct"),
        this::output);
    assertTrue(
        output().contains("replayed 2 dead letters: 0 now pass, 2 failed again"), this::output);
    assertEquals(expected, warehouse());
    assertEquals(
        List.of("people.csv:4 invalid email", "people.csv:5 wrong column count"), deadLetters());
  }

  /**
   * Dead letters accumulate: a later run, even one the quality gate blocks, adds its own (each
   * marked with its run) instead of replacing the earlier ones; a replay takes each record once, as
   * the latest run rejected it.
   */
  @Test
  void deadLettersAccumulateAcrossRunsAndAReplayTakesEachRecordOnce() throws Exception {
    Files.writeString(
        folder.resolve("people.csv"),
        "id,email,updated\n1,anna@example.com,2024-03-01T10:00:00Z\n2,ben@example.com,"
            + "01.03.2024 11:00\n");
    Files.writeString(folder.resolve("events.jsonl"), "");
    Path spec = spec("updated");
    Files.writeString(spec, Files.readString(spec).replace("min: 100", "min: 1"));
    Cli first = new Cli(folder);
    assertEquals(
        Watershed.OK,
        first.run(
            java.time.Clock.fixed(
                java.time.Instant.parse("2024-03-01T00:00:00Z"), java.time.ZoneOffset.UTC),
            "run",
            spec.toString(),
            "--runner=direct"),
        first::output);
    assertEquals(List.of("people.csv:3 unparsable timestamp"), deadLetters());
    // The second run is blocked (row_count min 100) and rejects the same record again.
    Path blocking = spec("updated");
    assertEquals(Watershed.QUALITY_FAILED, cli("run", blocking.toString(), "--runner=direct"));
    assertEquals(
        List.of("people.csv:3 unparsable timestamp", "people.csv:3 unparsable timestamp"),
        deadLetters());
    List<String> runs = new ArrayList<>();
    for (String line : Files.readAllLines(folder.resolve("dead/dead-letter.jsonl"))) {
      runs.add(new ObjectMapper().readTree(line).path("run").asText());
    }
    assertEquals(2, runs.stream().distinct().count(), runs.toString());
    assertTrue(runs.contains("2024-03-01T00:00:00Z"), runs.toString());

    Path fixed =
        spec("{ from: updated, formats: [\"yyyy-MM-dd'T'HH:mm:ssX\", \"dd.MM.yyyy HH:mm\"] }");
    Path file = folder.resolve("dead/dead-letter.jsonl");
    // --from FILE as the usage writes it, with a space.
    assertEquals(
        Watershed.OK,
        cli("replay", fixed.toString(), "--from", file.toString(), "--runner=direct"),
        this::output);
    assertTrue(
        output()
            .contains(
                "replayed 1 dead letters: 1 now pass, 0 failed again, 0 not replayable, 1"
                    + " superseded by a later run's dead letter of the record"),
        this::output);
    assertEquals(
        List.of(
            "person_id,email,updated",
            "1,anna@example.com,2024-03-01 10:00:00",
            "2,ben@example.com,2024-03-01 11:00:00"),
        warehouse());
    assertEquals(List.of(), deadLetters());
  }

  @Test
  void replayNeedsADeadLetterFile() throws Exception {
    Files.writeString(folder.resolve("people.csv"), "id,email,updated\n");
    Files.writeString(folder.resolve("events.jsonl"), "");
    assertEquals(Watershed.SPEC_ERROR, cli("replay", spec("updated").toString()));
    assertTrue(output().contains("Missing required option: '--from=FILE'"), this::output);
    assertEquals(
        Watershed.FAILED, cli("replay", spec("updated").toString(), "--from=nothing.jsonl"));
    assertTrue(output().contains("no dead-letter file at"), this::output);
  }
}
