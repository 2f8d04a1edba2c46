package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A source's schema changes between runs, under each drift policy. */
class SchemaDriftTest {
  private static final JdbcEndpoint POSTGRES =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path folder;
  private Cli cli;

  @org.junit.jupiter.api.BeforeEach
  void commandLine() {
    cli = new Cli(folder);
  }

  @AfterEach
  void dropSourceTable() throws SQLException {
    Warehouse.execute(POSTGRES, "DROP TABLE IF EXISTS drift_people");
  }

  private Path spec(String source, String policy) throws IOException {
    String yaml =
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  people: { " + source + ", drift: " + policy + " }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, score: int }",
            "conform:",
            "  - from: people",
            "    to: person",
            "    fields: { person_id: id, email: email, score: score }",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb, write: merge }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private static final String CSV = "type: csv, path: people.csv";

  private void csv(String... lines) throws IOException {
    Files.writeString(folder.resolve("people.csv"), String.join("\n", lines) + "\n");
  }

  private int run(Path spec) {
    return cli.run("run", spec.toString(), "--runner=direct");
  }

  private String output() {
    return cli.output();
  }

  private JdbcEndpoint warehouse() {
    return JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb"));
  }

  private List<String> table() throws SQLException {
    return Warehouse.csv(warehouse(), "SELECT * EXCLUDE (_source) FROM person ORDER BY person_id");
  }

  private List<String> changes() throws SQLException {
    return Warehouse.csv(
        warehouse(),
        "SELECT source, column_name, change_kind, old_type, new_type, action FROM _watershed_schema_changes ORDER BY changed_at, column_name");
  }

  private List<String> columnTypes() throws SQLException {
    return Warehouse.csv(
        warehouse(),
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'person' ORDER BY ordinal_position");
  }

  private static final String HEADER = "source,column_name,change_kind,old_type,new_type,action";

  @ParameterizedTest
  @ValueSource(strings = {"allow", "evolve", "quarantine", "fail"})
  void aCsvSourceGainsAColumn(String policy) throws Exception {
    Path spec = spec(CSV, policy);
    csv("id,email,score", "1,anna@example.com,10", "2,ben@example.com,20");
    assertEquals(Watershed.OK, run(spec), this::output);
    List<String> before = table();
    assertEquals(
        List.of("person_id,email,score", "1,anna@example.com,10", "2,ben@example.com,20"), before);

    csv("id,email,score,vip", "1,anna@example.com,11,true", "3,cara@example.com,30,false");
    int code = run(spec);
    assertTrue(
        Files.readString(folder.resolve("report/run-report.json"))
            .contains("\"column\" : \"vip\""));
    switch (policy) {
      case "allow" -> {
        assertEquals(Watershed.OK, code, this::output);
        assertEquals(
            List.of(
                "person_id,email,score",
                "1,anna@example.com,11",
                "2,ben@example.com,20",
                "3,cara@example.com,30"),
            table());
        assertEquals(List.of(HEADER, "people,vip,added,,boolean,allowed"), changes());
      }
      case "evolve" -> {
        assertEquals(Watershed.OK, code, this::output);
        assertEquals(
            List.of(
                "person_id,email,score,vip",
                "1,anna@example.com,11,true",
                "2,ben@example.com,20,",
                "3,cara@example.com,30,false"),
            table());
        assertEquals(List.of(HEADER, "people,vip,added,,boolean,evolved"), changes());
        // The next run expects the evolved schema: no new event, the field stays.
        assertEquals(Watershed.OK, run(spec), this::output);
        assertEquals(List.of(HEADER, "people,vip,added,,boolean,evolved"), changes());
        assertEquals("person_id,email,score,vip", table().get(0));
      }
      case "quarantine" -> {
        assertEquals(Watershed.OK, code, this::output);
        assertEquals(before, table());
        String deadLetters = Files.readString(folder.resolve("dead/dead-letter.jsonl"));
        assertEquals(2, deadLetters.lines().count(), deadLetters);
        assertTrue(deadLetters.contains("\"reason\":\"schema drift\""), deadLetters);
        assertTrue(deadLetters.contains("the schema of people changed: vip added"), deadLetters);
        assertEquals(List.of(HEADER, "people,vip,added,,boolean,quarantined"), changes());
        assertTrue(
            output().matches("(?s).*person\\s+2\\s+0\\s+2\\s+0\\s+0\\s+0\\s+reconciled.*"),
            this::output);
      }
      default -> {
        assertEquals(Watershed.QUALITY_FAILED, code, this::output);
        assertTrue(output().contains("people: column vip added (boolean): failed"), this::output);
        assertEquals(before, table());
        assertEquals(List.of(HEADER, "people,vip,added,,boolean,failed"), changes());
      }
    }
  }

  @Test
  void aCsvSourceLosesAColumnAndWidensAnotherUnderEvolve() throws Exception {
    Path spec = spec(CSV, "evolve");
    csv("id,email,score", "1,anna@example.com,10");
    assertEquals(Watershed.OK, run(spec), this::output);
    csv("id,score", "2,5000000000");
    assertEquals(Watershed.OK, run(spec), this::output);
    assertEquals(
        List.of("person_id,email,score", "1,anna@example.com,10", "2,,5000000000"), table());
    assertEquals(
        List.of(
            HEADER,
            "people,email,removed,string,,evolved",
            "people,score,type_changed,int,long,evolved"),
        changes());
    List<String> types = columnTypes();
    assertTrue(types.contains("score,BIGINT"), types::toString);

    csv("id,score", "3,n/a");
    assertEquals(Watershed.QUALITY_FAILED, run(spec), this::output);
    assertTrue(
        output().contains("people: column score type changed from long to string: failed"),
        this::output);
  }

  @Test
  void aPostgresSourceTableAlteredBetweenRuns() throws Exception {
    Warehouse.execute(
        POSTGRES,
        "DROP TABLE IF EXISTS drift_people",
        "CREATE TABLE drift_people (id INT, email TEXT, score INT)",
        "INSERT INTO drift_people VALUES (1, 'anna@example.com', 10)");
    Path spec =
        spec(
            "type: jdbc, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres, table: drift_people",
            "evolve");
    assertEquals(Watershed.OK, run(spec), this::output);
    Warehouse.execute(
        POSTGRES,
        "ALTER TABLE drift_people ADD COLUMN vip BOOLEAN",
        "ALTER TABLE drift_people ALTER COLUMN score TYPE BIGINT",
        "INSERT INTO drift_people VALUES (2, 'ben@example.com', 5000000000, true)");
    assertEquals(Watershed.OK, run(spec), this::output);
    assertEquals(
        List.of(
            HEADER,
            "people,score,type_changed,int,long,evolved",
            "people,vip,added,,boolean,evolved"),
        changes());
    assertEquals(
        List.of(
            "person_id,email,score,vip",
            "1,anna@example.com,10,",
            "2,ben@example.com,5000000000,true"),
        table());
    List<String> types = columnTypes();
    assertTrue(types.containsAll(List.of("score,BIGINT", "vip,BOOLEAN")), types::toString);

    Warehouse.execute(POSTGRES, "ALTER TABLE drift_people DROP COLUMN email");
    Files.writeString(spec, Files.readString(spec).replace("drift: evolve", "drift: allow"));
    assertEquals(Watershed.OK, run(spec), this::output);
    assertEquals(List.of("person_id,email,score,vip", "1,,10,", "2,,5000000000,true"), table());
    List<String> changes = changes();
    assertTrue(changes.contains("people,email,removed,string,,allowed"), changes::toString);
  }
}
