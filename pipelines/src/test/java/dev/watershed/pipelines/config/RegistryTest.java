package dev.watershed.pipelines.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.run.SpecRun;
import dev.watershed.pipelines.sinks.TableSinkType;
import dev.watershed.pipelines.sources.SequenceSourceType;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry of source and sink types, and what it takes to add one. */
class RegistryTest {
  @TempDir Path folder;

  private String spec(String source) {
    return String.join(
        "\n",
        "name: numbers",
        "sources:",
        "  numbers: " + source,
        "models:",
        "  number:",
        "    key: [n]",
        "    fields: { n: long }",
        "conform:",
        "  - { from: numbers, to: number, fields: { n: n } }",
        "sinks:",
        "  warehouse: { type: duckdb, path: numbers.duckdb }",
        "dead_letter: { path: dead }",
        "report: { path: report }",
        "");
  }

  @Test
  void everyBuiltInTypeIsRegisteredWithItsKeysDocumented() {
    assertTrue(
        Registry.sources()
            .keySet()
            .containsAll(Set.of("csv", "jsonl", "json", "parquet", "jdbc", "kafka")));
    assertTrue(
        Registry.sinks()
            .keySet()
            .containsAll(
                Set.of(
                    "duckdb",
                    "postgres",
                    "mariadb",
                    "parquet",
                    "csv",
                    "jsonl",
                    "kafka",
                    "bigquery")));
    for (SourceType type : Registry.sources().values()) {
      assertFalse(type.description().isBlank(), type.name());
      type.keys().forEach(key -> assertFalse(key.description().isBlank(), key.name()));
    }
    for (SinkType type : Registry.sinks().values()) {
      assertFalse(type.description().isBlank(), type.name());
      assertTrue(type.modes().contains(type.defaultMode()), type.name());
      type.keys().forEach(key -> assertFalse(key.description().isBlank(), key.name()));
    }
  }

  @Test
  void aNewSourceTypeIsOneClassAndItsRegistrationAndRunsEndToEnd() throws Exception {
    // SequenceSourceType lives in the tests and is registered in their META-INF/services only.
    Spec spec = SpecParser.parse(spec("{ type: sequence, count: 5 }"), folder, Map.of());
    assertInstanceOf(SequenceSourceType.Config.class, spec.sources().get("numbers"));
    SpecRun.Outcome outcome =
        SpecRun.of(spec).on(PipelineOptionsFactory.create(), "direct").execute();
    assertEquals(SpecRun.OK, outcome.exitCode(), outcome.problems().toString());
    try (Connection connection =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("numbers.duckdb")).connect();
        Statement statement = connection.createStatement();
        ResultSet sum = statement.executeQuery("SELECT COUNT(*), SUM(n) FROM number")) {
      sum.next();
      assertEquals(5, sum.getLong(1));
      assertEquals(15, sum.getLong(2));
    }
  }

  @Test
  void aTypesOwnKeysAreCheckedWithItsProblemsAndLines() {
    SpecException e =
        assertThrows(
            SpecException.class,
            () ->
                SpecParser.parse(
                    spec("{ type: sequence, count: 0, fetch_size: 3 }"), folder, Map.of()));
    String message = e.getMessage();
    assertTrue(message.contains("sources.numbers.count"), message);
    assertTrue(message.contains("expected a positive count"), message);
    assertTrue(message.contains("unknown key 'fetch_size'"), message);
    assertTrue(message.contains("allowed here: count, drift, schema, type"), message);
  }

  @Test
  void anUnknownTypeNamesTheRegisteredOnes() {
    SpecException e =
        assertThrows(
            SpecException.class,
            () -> SpecParser.parse(spec("{ type: ftp, path: x }"), folder, Map.of()));
    assertTrue(
        e.getMessage()
            .contains(
                "unknown source type 'ftp'; allowed: csv, http, jdbc, json, jsonl, kafka, parquet,"
                    + " sequence, webhook"),
        e.getMessage());
  }

  @Test
  void configurationsNeverShowTheirCredentials() throws Exception {
    String yaml =
        spec("{ type: sequence, count: 1 }")
            .replace(
                "{ type: duckdb, path: numbers.duckdb }",
                "{ type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\","
                    + " user: etl, password: \"s3cret-pw\" }");
    Spec spec = SpecParser.parse(yaml, folder, Map.of());
    TableSinkType.Config sink = (TableSinkType.Config) spec.sinks().get("warehouse");
    assertEquals("s3cret-pw", sink.password());
    assertFalse(sink.toString().contains("s3cret-pw"), sink.toString());
    assertFalse(spec.toString().contains("s3cret-pw"));
    assertEquals(List.of(sink), spec.tableSinks());
  }
}
