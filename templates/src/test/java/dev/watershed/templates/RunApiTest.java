package dev.watershed.templates;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.SpecRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line, the Flex Template's launcher and a Java caller run a spec the same way, through
 * one run API: a spec with two sources, a quality rule, dedupe, a warehouse and a lake, run by
 * each, leaves identical tables, the same run report counts and a succeeded report.
 */
class RunApiTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path JAR = ROOT.resolve("runners/target/watershed.jar");

  @TempDir Path folder;

  /** The spec, its data and its outputs in a folder of their own, {@code name}. */
  private Path spec(String name) throws IOException {
    Path out = Files.createDirectories(folder.resolve(name));
    List<String> crm = new ArrayList<>(List.of("id,email,plan,updated"));
    List<String> billing = new ArrayList<>();
    for (int i = 1; i <= 300; i++) {
      crm.add(
          i
              + ","
              + (i % 50 == 0 ? "" : "person" + i + "@example.com")
              + ",free,2024-01-01T00:00:00Z");
      if (i % 3 == 0) {
        crm.add(i + ",person" + i + "@example.org,pro,2024-02-01T00:00:00Z");
      }
      billing.add(
          "{\"account\": \"b-"
              + i
              + "\", \"owner\": {\"email\": \"person"
              + i
              + "@example.com\"}, \"balance\": \""
              + (i * 3)
              + ".50\"}");
    }
    Files.write(out.resolve("crm.csv"), crm);
    Files.write(out.resolve("billing.jsonl"), billing);
    Path spec = out.resolve("spec.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  crm: { type: csv, path: " + out.resolve("crm.csv") + " }",
            "  billing: { type: jsonl, path: " + out.resolve("billing.jsonl") + " }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, plan: string, updated: timestamp }",
            "  account:",
            "    key: [account_id]",
            "    fields: { account_id: string, email: string, balance: 'decimal(12,2)' }",
            "conform:",
            "  - from: crm",
            "    to: person",
            "    fields:",
            "      person_id: { from: id, prefix: \"p-\" }",
            "      email: { from: email, normalize: email }",
            "      plan: plan",
            "      updated: updated",
            "  - from: billing",
            "    to: account",
            "    fields: { account_id: account, email: owner.email, balance: balance }",
            "quality:",
            "  person:",
            "    - not_null: email",
            "dedupe:",
            "  person: { keep: latest, order_by: updated }",
            "sinks:",
            "  warehouse: { type: duckdb, path: "
                + out.resolve("warehouse.duckdb")
                + ", write: merge }",
            "  lake: { type: parquet, path: " + out.resolve("lake") + " }",
            "dead_letter: { path: " + out.resolve("dead") + " }",
            "report: { path: " + out.resolve("report") + " }",
            ""));
    return spec;
  }

  @Test
  void theCommandLineTheTemplateAndAJavaCallerLeaveTheSameTables() throws Exception {
    Assumptions.assumeTrue(
        Files.isRegularFile(JAR),
        "skipped: " + JAR + " is built by the runners module's package phase (mvn install)");

    // A Java caller.
    Path java = spec("java");
    Spec spec = SpecParser.parse(java, folder, Map.of());
    SpecRun.Outcome outcome =
        SpecRun.of(spec)
            .on(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create(), "direct")
            .execute();
    assertEquals(SpecRun.OK, outcome.exitCode(), outcome.problems().toString());
    assertTrue(outcome.summary().reconciled());

    // The Flex Template's launcher, on the Direct runner (on Dataflow it would submit and end).
    Path template = spec("template");
    SpecRun.Outcome templated =
        SpecTemplate.run(
                SpecTemplate.options(
                    "--runner=DirectRunner", "--spec=" + Files.readString(template)))
            .execute();
    assertEquals(SpecRun.OK, templated.exitCode(), templated.problems().toString());

    // The command line, as users run it: the runnable jar in a JVM of its own.
    Path cli = spec("cli");
    Path log = folder.resolve("cli.log");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                JAR.toString(),
                "run",
                cli.toString(),
                "--runner=direct")
            .directory(ROOT.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    assertTrue(process.waitFor(10, TimeUnit.MINUTES), "the command line did not end");
    assertEquals(0, process.exitValue(), Files.readString(log));

    Map<String, List<String>> expected = tables(folder.resolve("java/warehouse.duckdb"));
    // The models, and the run history (one row per model, the same counts on every path).
    assertEquals(List.of("_watershed_runs", "account", "person"), List.copyOf(expected.keySet()));
    assertEquals(300, expected.get("account").size());
    // Four people have no row with an email (a dead letter each), the rest one row.
    assertEquals(296, expected.get("person").size());
    for (String other : List.of("template", "cli")) {
      Map<String, List<String>> tables = tables(folder.resolve(other + "/warehouse.duckdb"));
      for (String table : expected.keySet()) {
        assertEquals(expected.get(table), tables.get(table), other + ": table " + table);
      }
      assertEquals(expected.keySet(), tables.keySet(), other);
    }
    JsonNode reference = counts(folder.resolve("java/report/run-report.json"));
    for (String other : List.of("template", "cli")) {
      assertEquals(reference, counts(folder.resolve(other + "/report/run-report.json")), other);
    }
  }

  /** Every table of a DuckDB warehouse, its rows as text in order. */
  private static Map<String, List<String>> tables(Path database) throws SQLException {
    Map<String, List<String>> tables = new TreeMap<>();
    JdbcEndpoint endpoint = JdbcEndpoint.of("jdbc:duckdb:" + database);
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      List<String> names = new ArrayList<>();
      try (ResultSet result =
          statement.executeQuery(
              "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")) {
        while (result.next()) {
          names.add(result.getString(1));
        }
      }
      for (String name : names) {
        List<String> rows = new ArrayList<>();
        try (ResultSet result =
            statement.executeQuery("SELECT * FROM \"" + name + "\" ORDER BY ALL")) {
          ResultSetMetaData meta = result.getMetaData();
          while (result.next()) {
            StringBuilder row = new StringBuilder();
            for (int c = 1; c <= meta.getColumnCount(); c++) {
              String column = meta.getColumnName(c);
              if (column.equals("started_at")
                  || column.equals("detected_at")
                  || column.equals("run_id")
                  || column.equals("seconds")) {
                continue; // when and how long the run happened, which run it was
              }
              row.append(c == 1 ? "" : "|").append(result.getString(c));
            }
            rows.add(row.toString());
          }
        }
        tables.put(name, rows);
      }
    }
    return tables;
  }

  /** A run report's status and rows per model and sink, without times or the runner's name. */
  private static JsonNode counts(Path report) throws IOException {
    com.fasterxml.jackson.databind.node.ObjectNode node =
        (com.fasterxml.jackson.databind.node.ObjectNode)
            new ObjectMapper().readTree(report.toFile());
    assertEquals("succeeded", node.path("status").asText(), node.toString());
    // When it ran (its timeline too), on what, and where its own dead letters went differ;
    // nothing else may.
    node.remove(List.of("started_at", "runner", "elapsed_seconds", "timeline", "dead_letters"));
    return node;
  }
}
