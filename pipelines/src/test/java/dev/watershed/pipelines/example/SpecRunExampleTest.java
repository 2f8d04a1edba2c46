package dev.watershed.pipelines.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.SpecRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's run API example, kept here so that it is known to compile and to work. */
class SpecRunExampleTest {
  @TempDir Path folder;

  @Test
  void theReadmeExampleRunsASpecAsTheCommandLineDoes() throws Exception {
    Files.writeString(
        folder.resolve("contacts.csv"),
        "id,email_address,updated_at\n7, Anna@Example.com ,2024-01-01T00:00:00Z\n"
            + "7,anna@example.org,2024-02-01T00:00:00Z\n8,oops,2024-01-01T00:00:00Z\n");
    Path specFile = folder.resolve("customers.yaml");
    Files.writeString(
        specFile,
        String.join(
            "\n",
            "name: customers",
            "sources:",
            "  crm: { type: csv, path: contacts.csv }",
            "models:",
            "  customer:",
            "    key: [customer_id]",
            "    fields: { customer_id: string, email: string, updated_at: timestamp }",
            "conform:",
            "  - from: crm",
            "    to: customer",
            "    fields:",
            "      customer_id: { from: id, prefix: \"crm-\" }",
            "      email: { from: email_address, normalize: email }",
            "      updated_at: updated_at",
            "dedupe:",
            "  customer: { keep: latest, order_by: updated_at }",
            "sinks:",
            "  warehouse: { type: duckdb, path: warehouse.duckdb, write: merge }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            ""));

    // --- README example starts here ---
    Spec spec = SpecParser.parse(specFile, specFile.getParent(), System.getenv());
    SpecRun.Outcome outcome =
        SpecRun.of(spec).on(PipelineOptionsFactory.create(), "direct").execute();
    System.out.print(outcome.summary().render());
    // outcome.exitCode() is what the command line would exit with: 0, the run succeeded.
    // --- README example ends here ---

    assertEquals(SpecRun.OK, outcome.exitCode(), outcome.problems().toString());
    assertEquals("succeeded", outcome.status());
    assertTrue(Files.readString(folder.resolve("report/run-report.json")).contains("succeeded"));
    List<String> rows = new ArrayList<>();
    try (Connection connection =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("warehouse.duckdb")).connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT customer_id, email FROM customer")) {
      while (result.next()) {
        rows.add(result.getString(1) + "|" + result.getString(2));
      }
    }
    assertEquals(List.of("crm-7|anna@example.org"), rows);
  }
}
