package dev.watershed.pipelines.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.pipelines.sources.JdbcSourceType;
import dev.watershed.pipelines.sources.KafkaSourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the spec says about modes, Kafka sources and sinks, incremental reads and deletes. */
class ModesSpecTest {
  @TempDir Path folder;

  private static String spec(String mode, String source, String sinks, String extra) {
    return String.join(
        "\n",
        "name: changes",
        "mode: " + mode,
        extra,
        "sources:",
        "  crm:",
        source,
        "models:",
        "  customer:",
        "    key: [customer_id]",
        "    fields: { customer_id: long, email: string }",
        "conform:",
        "  - from: crm",
        "    to: customer",
        "    fields: { customer_id: id, email: email }",
        "sinks:",
        sinks,
        "");
  }

  private static final String KAFKA =
      "    type: kafka\n    bootstrap_servers: localhost:9092\n    topic: crm.customers\n"
          + "    format: debezium-json";
  private static final String WAREHOUSE = "  w: { type: duckdb, path: w.duckdb, deletes: soft }";

  private Spec parse(String yaml) throws SpecException {
    return SpecParser.parse(yaml, folder, Map.of());
  }

  private String errors(String yaml) {
    SpecException e = assertThrows(SpecException.class, () -> parse(yaml));
    return e.errors().stream().map(SpecError::toString).collect(Collectors.joining("\n"));
  }

  @Test
  void aChangeStreamMakesItsModelTrackChangesInEveryMode() throws Exception {
    for (String mode : Spec.MODES) {
      Spec spec =
          parse(
              spec(
                  mode,
                  KAFKA,
                  WAREHOUSE,
                  "every: 5s\nstreaming: { checkpoint_every: 2s, state_ttl: 1h }"));
      assertEquals(mode, spec.mode());
      assertTrue(spec.models().get("customer").tracksChanges());
      assertEquals("soft", ((TableSink) spec.sinks().get("w")).deletes());
      assertEquals("watershed-crm", ((KafkaSourceType.Config) spec.sources().get("crm")).group());
      assertEquals(
          new Spec.Timing(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofHours(1)),
          spec.timing());
    }
  }

  @Test
  void eachModeSaysWhatItCannotRun() {
    String csv = "    type: csv\n    path: missing.csv";
    assertTrue(
        errors(spec("streaming", csv, WAREHOUSE, ""))
            .contains("in streaming mode every source is a kafka topic"),
        errors(spec("streaming", csv, WAREHOUSE, "")));
    assertTrue(
        errors(spec("micro-batch", KAFKA, "  lake: { type: parquet, path: lake }", ""))
            .contains("micro-batch keeps where 'crm' was read up to in a table sink"));
    assertTrue(
        errors(spec("streaming", KAFKA, "  lake: { type: parquet, path: lake }", ""))
            .contains("in streaming mode sinks are tables"));
    assertTrue(
        errors(spec("hourly", KAFKA, WAREHOUSE, ""))
            .contains("allowed: batch, micro-batch, streaming"));
    assertTrue(
        errors(spec("batch", KAFKA, WAREHOUSE, "every: soon"))
            .contains("'soon' is not a duration"));
    assertTrue(
        errors(spec("batch", KAFKA, "  w: { type: duckdb, path: w.duckdb, deletes: maybe }", ""))
            .contains("unknown delete policy 'maybe'; allowed: hard, soft"));
    assertTrue(
        errors(spec("batch", KAFKA.replace("debezium-json", "avro"), WAREHOUSE, ""))
            .contains("unknown format 'avro'; allowed: debezium-json, json"));
  }

  @Test
  void streamingRunsRowRulesButNotRulesOverAllRowsOrRulesThatFailARun() throws Exception {
    String rowRule = "quality:\n  customer:\n    - not_null: email\n      on_failure: dead_letter";
    assertEquals(
        1, parse(spec("streaming", KAFKA, WAREHOUSE, rowRule)).qualityOf("customer").size());
    String all =
        errors(
            spec(
                "streaming",
                KAFKA,
                WAREHOUSE,
                "quality:\n  customer:\n    - unique: email\n    - not_null: email\n      on_failure: fail"));
    assertTrue(all.contains("judges all rows together; in streaming mode only row rules run"), all);
    assertTrue(all.contains("on_failure: fail stops a whole run"), all);
  }

  @Test
  void anIncrementalJdbcSourceRunsInMicroBatchAndTheModeCanBeOverridden() throws Exception {
    String jdbc =
        "    type: jdbc\n    url: jdbc:postgresql://127.0.0.1:5432/test\n    table: orders\n"
            + "    incremental: { column: updated_at, tie_break: id }";
    Spec spec = parse(spec("micro-batch", jdbc, WAREHOUSE, ""));
    assertEquals(
        new JdbcSourceType.Incremental("updated_at", "id"),
        ((JdbcSourceType.Config) spec.sources().get("crm")).incremental());
    assertTrue(!spec.models().get("customer").tracksChanges());
    assertTrue(
        errors(spec("streaming", jdbc, WAREHOUSE, ""))
            .contains("in streaming mode every source is a kafka topic"));
    assertEquals("streaming", spec.withMode("streaming").mode());
    assertTrue(
        errors(
                spec(
                    "batch",
                    jdbc,
                    WAREHOUSE,
                    "history:\n  customer: { scd2: [email], deletes: invalidate }"))
            .contains("is read in part (incremental or a topic); set deletes: ignore"));
  }

  /**
   * An overwrite of a lake or table by a source read in part would keep only the latest run's rows:
   * validate refuses it in every mode that reads in part, and says how to fix it.
   */
  @Test
  void anOverwriteFedByASourceReadInPartIsRefused() throws Exception {
    String jdbc =
        "    type: jdbc\n    url: jdbc:postgresql://127.0.0.1:5432/test\n    table: orders\n"
            + "    incremental: { column: updated_at, tie_break: id }";
    String lake = "  lake: { type: parquet, path: lake }";
    for (String mode : List.of("batch", "micro-batch")) {
      String all = errors(spec(mode, jdbc, WAREHOUSE + "\n" + lake, ""));
      assertTrue(
          all.contains(
              "sink 'lake' overwrites 'customer' with each run's rows, but source 'crm' is read"
                  + " in part (incremental, past the stored mark): every run would drop the rows"
                  + " of earlier runs. Set write: append, or read the source whole"),
          all);
      all = errors(spec(mode, KAFKA.replace("debezium-json", "json"), WAREHOUSE + "\n" + lake, ""));
      assertTrue(all.contains("is read in part (a topic, from the offsets stored"), all);
    }
    String table = "  w: { type: duckdb, path: w.duckdb, write: overwrite }";
    assertTrue(
        errors(spec("batch", jdbc, table, "")).contains("Set write: append or write: merge"));
    // Appending is fine; so is an overwrite of a source read whole.
    parse(
        spec(
            "batch",
            jdbc,
            WAREHOUSE + "\n  lake: { type: parquet, path: lake, write: append }",
            ""));
    parse(
        spec(
            "batch",
            jdbc.replace("    incremental: { column: updated_at, tie_break: id }", "    key: [id]"),
            WAREHOUSE + "\n" + lake,
            ""));
  }

  @Test
  void aDuckDbSourceFileIsTheSpecFoldersAndAMissingOneIsAProblemOfTheSpec() throws Exception {
    String jdbc = "    type: jdbc\n    url: jdbc:duckdb:shop.duckdb\n    table: orders";
    assertTrue(
        errors(spec("batch", jdbc, WAREHOUSE, ""))
            .contains("sources.crm.url: file shop.duckdb not found (paths are relative to"),
        errors(spec("batch", jdbc, WAREHOUSE, "")));
    Files.createFile(folder.resolve("shop.duckdb"));
    Spec spec = parse(spec("batch", jdbc, WAREHOUSE, ""));
    assertEquals(
        "jdbc:duckdb:" + folder.resolve("shop.duckdb"),
        ((JdbcSourceType.Config) spec.sources().get("crm")).url());
  }
}
