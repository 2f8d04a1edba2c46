package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** history: in the spec keeps a type 2 history table beside the merged one. */
class HistoryTest {
  @TempDir Path folder;

  @Test
  void aChangeMakesANewVersionAndARunWithoutChangesNone() throws Exception {
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  people: { type: csv, path: people.csv }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, country: string }",
            "conform:",
            "  - { from: people, to: person, fields: { person_id: id, email: email, country: country } }",
            "history:",
            "  person: { scd2: [email, country], deletes: invalidate }",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            ""));
    Cli cli = new Cli(folder);
    String[] times = {"2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"};
    List<String> snapshots =
        List.of(
            "id,email,country\n1,anna@example.com,DE\n2,ben@example.com,FR\n",
            "id,email,country\n1,anna@example.com,DE\n2,ben@example.com,FR\n",
            "id,email,country\n1,anna@new.example,DE\n");
    for (int run = 0; run < 3; run++) {
      Files.writeString(folder.resolve("people.csv"), snapshots.get(run));
      Clock clock = Clock.fixed(Instant.parse(times[run]), ZoneOffset.UTC);
      assertEquals(
          Watershed.OK, cli.run(clock, "run", spec.toString(), "--runner=direct"), cli::output);
    }
    assertEquals(
        List.of(
            "person_id,email,valid_from,valid_to,is_current",
            "1,anna@example.com,2024-01-01 00:00:00,2024-03-01 00:00:00,false",
            "1,anna@new.example,2024-03-01 00:00:00,,true",
            "2,ben@example.com,2024-01-01 00:00:00,2024-03-01 00:00:00,false"),
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
            "SELECT person_id, email, valid_from, valid_to, is_current FROM person_history ORDER BY person_id, valid_from"));
  }
}
