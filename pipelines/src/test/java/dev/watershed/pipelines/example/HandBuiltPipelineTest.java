package dev.watershed.pipelines.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.io.WriteMode;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcLoad;
import dev.watershed.transforms.conform.Conform;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.dedupe.Dedupe;
import dev.watershed.transforms.model.CanonicalModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java example, kept here so that it is known to compile and to work. */
class HandBuiltPipelineTest {
  @TempDir Path folder;

  @Test
  void theReadmeExampleLoadsTheLatestContactPerId() throws Exception {
    Files.writeString(
        folder.resolve("contacts.csv"),
        "id,email_address,updated_at\n7, Anna@Example.com ,2024-01-01T00:00:00Z\n7,anna@example.org,2024-02-01T00:00:00Z\n8,oops,2024-01-01T00:00:00Z\n");
    String contactsCsv = folder.resolve("contacts.csv").toString();
    String warehouse = folder.resolve("warehouse.duckdb").toString();

    // --- README example starts here ---
    CanonicalModel customer =
        CanonicalModel.builder("customer")
            .field("customer_id", "string")
            .field("email", "string")
            .field("updated_at", "timestamp")
            .key("customer_id")
            .build();

    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    WithFailures.Result<PCollection<Row>, Row> contacts =
        pipeline.apply("source crm", CsvSource.read("crm", contactsCsv));
    PCollectionTuple customers =
        contacts
            .output()
            .apply(
                "conform crm to customer",
                Conform.to(customer)
                    .withField("customer_id", FieldRule.from("id").withPrefix("crm-"))
                    .withField("email", FieldRule.from("email_address").withNormalizers("email"))
                    .withField("updated_at", FieldRule.from("updated_at")));
    customers
        .get(Conform.ROWS)
        .apply("dedupe customer", Dedupe.byKey("customer_id").keepLatest("updated_at"))
        .apply(
            "load warehouse customer",
            JdbcLoad.into(JdbcEndpoint.of("jdbc:duckdb:" + warehouse), "customer", customer)
                .withMode(WriteMode.MERGE)
                .withVersionColumn("updated_at"));
    pipeline.run().waitUntilFinish();
    // customers.get(Conform.DEAD_LETTERS) holds the dead letters: here the row with email "oops".
    // --- README example ends here ---

    List<String> rows = new ArrayList<>();
    try (Connection connection = JdbcEndpoint.of("jdbc:duckdb:" + warehouse).connect();
        Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT customer_id, email, CAST(updated_at AS VARCHAR), _source FROM customer")) {
      while (result.next()) {
        rows.add(
            result.getString(1)
                + "|"
                + result.getString(2)
                + "|"
                + result.getString(3)
                + "|"
                + result.getString(4));
      }
    }
    assertEquals(List.of("crm-7|anna@example.org|2024-02-01 00:00:00|crm"), rows);
  }
}
