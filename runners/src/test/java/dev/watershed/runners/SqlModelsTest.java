package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
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
 * SQL models (models_sql:): built in the warehouse after the load in the order their refs give, as
 * views, tables swapped in whole, or incremental merges; a failed model keeps its previous table
 * and skips its dependants; tests fail the run with exit code 3 or warn.
 */
class SqlModelsTest {
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

  private void write(String file, String... lines) throws Exception {
    Path path = folder.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, String.join("\n", lines) + "\n");
  }

  private void spec(String sink) throws Exception {
    write(
        "spec.yaml",
        "name: shop",
        "sources: { orders: { type: csv, path: orders.csv } }",
        "models:",
        "  orders: { key: [id], fields: { id: long, customer: string, amount: long,"
            + " updated: timestamp } }",
        "conform: [ { from: orders, to: orders, fields: { id: id, customer: customer,"
            + " amount: amount, updated: updated } } ]",
        "sinks: { w: " + sink + " }",
        "models_sql:",
        "  path: sql",
        "  tests:",
        "    revenue:",
        "      - unique: customer",
        "      - not_null: customer",
        "      - sql: \"SELECT * FROM {{ this }} WHERE revenue > 1000\"",
        "        name: no_whales",
        "    big_customers:",
        "      - accepted_values: { column: customer, values: [ann, bob] }",
        "        on_failure: warn");
    write(
        "sql/revenue.sql",
        "{{ config(materialized='table') }}",
        "SELECT customer, SUM(amount) AS revenue, COUNT(*) AS orders",
        "FROM {{ ref('orders') }} GROUP BY customer");
    write(
        "sql/big_customers.sql",
        "SELECT customer, revenue FROM {{ ref('revenue') }} WHERE revenue >= 100");
    write(
        "sql/latest_orders.sql",
        "{{ config(materialized='incremental', unique_key='id', incremental_column='updated') }}",
        "SELECT id, customer, amount, updated FROM {{ ref('orders') }}");
  }

  @Test
  void modelsBuildInOrderMergeIncrementallyAndAFailureKeepsThePreviousTable() throws Exception {
    run(
        "{ type: duckdb, path: w.duckdb, write: merge }",
        JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
        "");
  }

  @Test
  void onPostgresTheTableSwapsUnderTheViewsThatReadIt() throws Exception {
    String schema = "sqlm_" + UUID.randomUUID().toString().substring(0, 8);
    run(
        "{ type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres,"
            + " schema: "
            + schema
            + ", write: merge }",
        POSTGRES,
        schema + ".");
  }

  private void run(String sink, JdbcEndpoint warehouse, String prefix) throws Exception {
    spec(sink);
    write(
        "orders.csv",
        "id,customer,amount,updated",
        "1,ann,50,2024-01-01T00:00:00Z",
        "2,ann,70,2024-01-02T00:00:00Z",
        "3,bob,20,2024-01-03T00:00:00Z");
    assertEquals(Watershed.OK, watershed("plan", "spec.yaml", "--offline"), this::output);
    assertTrue(
        output()
            .matches(
                "(?s).*sql models, in w after the load, in this order \\(materialized, refs\\):\n"
                    + " +revenue +table +<- orders\n"
                    + " +big_customers +view +<- revenue\n"
                    + " +latest_orders +incremental +<- orders\n.*"),
        output());
    // Column lineage from the parsed SQL.
    assertEquals(Watershed.OK, watershed("lineage", "spec.yaml", "revenue"), this::output);
    assertEquals(
        List.of(
            "revenue (SQL model, table)",
            "  revenue.customer",
            "    <- orders.customer",
            "  revenue.revenue",
            "    <- orders.amount   sum(amount)",
            "  revenue.orders"),
        out.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.startsWith("  -> ")).toList());
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertEquals(
        List.of("customer,revenue,orders", "ann,120,2", "bob,20,1"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "revenue ORDER BY 1"));
    assertEquals(
        List.of("customer,revenue", "ann,120"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "big_customers ORDER BY 1"));
    assertEquals(
        List.of("id,amount", "1,50", "2,70", "3,20"),
        Warehouse.csv(warehouse, "SELECT id, amount FROM " + prefix + "latest_orders ORDER BY 1"));

    // A changed order and a new one: the table is rebuilt, the incremental model merges both.
    write(
        "orders.csv",
        "id,customer,amount,updated",
        "3,bob,90,2024-01-05T00:00:00Z",
        "4,cy,10,2024-01-06T00:00:00Z");
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertEquals(
        List.of("customer,revenue,orders", "ann,120,2", "bob,90,1", "cy,10,1"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "revenue ORDER BY 1"));
    assertEquals(
        List.of("id,amount", "1,50", "2,70", "3,90", "4,10"),
        Warehouse.csv(warehouse, "SELECT id, amount FROM " + prefix + "latest_orders ORDER BY 1"));
    assertEquals(
        List.of("customer,revenue", "ann,120"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "big_customers ORDER BY 1"));
    JsonNode report =
        new ObjectMapper().readTree(folder.resolve("target/report/run-report.json").toFile());
    assertEquals(3, report.path("sql_models").size(), report.toString());
    assertEquals(4, report.path("sql_tests").size(), report.toString());
    assertEquals(2, report.path("sql_models").get(2).path("rows").asLong(), "2 rows merged");

    // A model whose query fails keeps its previous table; the view over it is skipped.
    write(
        "sql/revenue.sql",
        "{{ config(materialized='table') }}",
        "SELECT customer, SUM(amount_typo) AS revenue FROM {{ ref('orders') }} GROUP BY customer");
    assertEquals(Watershed.FAILED, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertTrue(output().contains("error: SQL model revenue failed: "), output());
    assertTrue(output().matches("(?s).*big_customers +view +skipped.*"), output());
    assertTrue(output().contains("skipped: revenue failed"), output());
    assertEquals(
        List.of("customer,revenue,orders", "ann,120,2", "bob,90,1", "cy,10,1"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "revenue ORDER BY 1"),
        "the previous table is kept");

    // A test that fails the run: exit code 3, with the failing rows in the report.
    write(
        "sql/revenue.sql",
        "{{ config(materialized='table') }}",
        "SELECT customer, SUM(amount) * 10 AS revenue, COUNT(*) AS orders",
        "FROM {{ ref('orders') }} GROUP BY customer");
    assertEquals(Watershed.QUALITY_FAILED, watershed("transform", "spec.yaml"), this::output);
    assertTrue(
        output().contains("error: test no_whales of SQL model revenue failed on 1 rows"), output());
    assertTrue(output().matches("(?s).*big_customers +view +skipped.*"), output());
    assertEquals(
        List.of("customer,revenue", "ann,1200", "bob,900", "cy,100"),
        Warehouse.csv(warehouse, "SELECT * FROM " + prefix + "big_customers ORDER BY 1"),
        "the skipped view is still there, over the rebuilt table");
    assertEquals(
        Watershed.QUALITY_FAILED, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    report = new ObjectMapper().readTree(folder.resolve("target/report/run-report.json").toFile());
    JsonNode whales = report.path("sql_tests").get(2);
    assertEquals("no_whales", whales.path("test").asText());
    assertEquals(1, whales.path("failed").asLong());
    assertTrue(
        whales.path("samples").get(0).asText().startsWith("customer=ann, revenue=1200"),
        whales.toString());
    assertEquals(Watershed.QUALITY_FAILED, report.path("exit_code").asInt());

    // Mistakes are found before anything runs, each naming the file.
    write("sql/a.sql", "SELECT * FROM {{ ref('b') }}");
    write("sql/b.sql", "SELECT * FROM {{ ref('a') }}");
    write("sql/c.sql", "DELETE FROM {{ ref('orders') }}");
    write("sql/d.sql", "SELECT * FROM {{ ref('nowhere') }}");
    assertEquals(Watershed.SPEC_ERROR, watershed("validate", "spec.yaml"));
    assertTrue(output().contains("the refs go round in a circle: a -> b -> a"), output());
    assertTrue(output().contains("sql/c.sql: a SQL model is one query"), output());
    assertTrue(
        output().contains("d.sql: ref('nowhere') names no SQL model and no table"), output());
  }
}
