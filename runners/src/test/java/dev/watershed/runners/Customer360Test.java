package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The customer-360 job end to end through the command line, on embedded Flink (the full data set)
 * and on the Direct runner (the small data set: the Direct runner is far slower on keyed work). The
 * warehouse tables must equal, row by row, the tables the data generator says the job must produce;
 * the dead letters must be exactly the broken records it planted.
 */
class Customer360Test {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final List<String> MODELS = List.of("customer", "account", "ticket");
  private static final Map<String, String> KEYS =
      Map.of("customer", "customer_id", "account", "account_id", "ticket", "ticket_id");

  @TempDir Path output;

  /** The demo spec, reading the given data folder and writing under the test's own folder. */
  static Path spec(Path output, String dataFolder) throws IOException {
    String yaml =
        Files.readString(ROOT.resolve("test-data/customer360/integration.yaml"))
            .replace("test-data/customer360/", dataFolder + "/")
            .replace("target/customer360", output.toString());
    Path spec = output.resolve("integration.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private String run(Path spec, String runner) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        new Watershed(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of(),
                ROOT)
            .execute("run", spec.toString(), "--runner=" + runner);
    String summary = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, () -> "run failed:\n" + summary + err.toString(StandardCharsets.UTF_8));
    return summary;
  }

  static void assertWarehouseEqualsExpected(Path output, Path expected) throws Exception {
    JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("warehouse.duckdb"));
    for (String model : MODELS) {
      Warehouse.assertSameLines(
          Warehouse.lines(expected.resolve(model + ".csv")),
          Warehouse.csv(warehouse, "SELECT * FROM " + model + " ORDER BY " + KEYS.get(model)),
          "warehouse table " + model);
    }
  }

  /**
   * One golden id per person across CRM, shop, billing accounts and support tickets, as the
   * generator's union of shared emails and phones.
   */
  static void assertGoldenIdsAreThePeople(Path output, Path expected) throws Exception {
    JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("warehouse.duckdb"));
    Warehouse.assertSameLines(
        Warehouse.lines(expected.resolve("customer_crosswalk.csv")),
        Warehouse.csv(
            warehouse, "SELECT source_id, golden_id FROM customer_crosswalk ORDER BY source_id"),
        "customer crosswalk");
    // The README's query: the golden customer owning each account.
    Warehouse.assertSameLines(
        Warehouse.lines(expected.resolve("account_golden.csv")),
        Warehouse.csv(
            warehouse,
            "SELECT a.account_id, x.golden_id FROM account a"
                + " JOIN customer_crosswalk x ON x.source_id = a.account_id ORDER BY 1, 2"),
        "accounts of golden customers");
    Warehouse.assertSameLines(
        Warehouse.lines(expected.resolve("customer_golden_count.csv")),
        Warehouse.csv(warehouse, "SELECT count(*) AS golden_customers FROM customer_golden"),
        "one golden customer per person");
  }

  /**
   * The SQL models, built in the warehouse after the load, equal the same figures computed here
   * from the expected tables: balance and accounts per golden customer and currency, open tickets
   * per golden customer.
   */
  static void assertSqlModelsAreTheIndependentAnswers(Path output, Path expected) throws Exception {
    Map<String, String> golden = new java.util.HashMap<>();
    for (String line : rows(expected.resolve("customer_crosswalk.csv"))) {
      String[] f = line.split(",", -1);
      golden.put(f[0], f[1]);
    }
    java.util.TreeMap<String, java.math.BigDecimal> balance = new java.util.TreeMap<>();
    java.util.TreeMap<String, Integer> accounts = new java.util.TreeMap<>();
    for (String line : rows(expected.resolve("account.csv"))) {
      String[] f = line.split(",", -1);
      String key = golden.get(f[0]) + "," + f[4];
      balance.merge(key, new java.math.BigDecimal(f[3]), java.math.BigDecimal::add);
      accounts.merge(key, 1, Integer::sum);
    }
    List<String> balances = new ArrayList<>(List.of("golden_id,currency,accounts,balance"));
    balance.forEach((key, sum) -> balances.add(key + "," + accounts.get(key) + "," + sum));
    java.util.TreeMap<String, Integer> open = new java.util.TreeMap<>();
    for (String line : rows(expected.resolve("ticket.csv"))) {
      String[] f = line.split(",", -1);
      if (f[5].equals("open")) {
        open.merge(golden.get(f[0]), 1, Integer::sum);
      }
    }
    List<String> tickets = new ArrayList<>(List.of("golden_id,open_tickets"));
    open.forEach((id, n) -> tickets.add(id + "," + n));
    JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("warehouse.duckdb"));
    Warehouse.assertSameLines(
        balances,
        Warehouse.csv(
            warehouse,
            "SELECT golden_id, currency, accounts, balance FROM balance_per_golden_customer"
                + " ORDER BY golden_id, currency"),
        "SQL model balance_per_golden_customer");
    Warehouse.assertSameLines(
        tickets,
        Warehouse.csv(
            warehouse,
            "SELECT golden_id, open_tickets FROM open_tickets_per_golden_customer ORDER BY 1"),
        "SQL model open_tickets_per_golden_customer");
  }

  private static List<String> rows(Path csv) throws IOException {
    List<String> lines = Warehouse.lines(csv);
    return lines.subList(1, lines.size());
  }

  static void assertLakeHoldsTheSameRows(Path output, Path expected) throws Exception {
    JdbcEndpoint duck = JdbcEndpoint.of("jdbc:duckdb:");
    for (String model : MODELS) {
      List<String> expectedKeys = new ArrayList<>();
      for (String line :
          Warehouse.lines(expected.resolve(model + ".csv"))
              .subList(1, Warehouse.lines(expected.resolve(model + ".csv")).size())) {
        expectedKeys.add(line.substring(0, line.indexOf(',')));
      }
      List<String> lakeKeys =
          Warehouse.csv(
              duck,
              "SELECT "
                  + KEYS.get(model)
                  + " FROM read_parquet('"
                  + output.resolve("lake").resolve(model)
                  + "/**/*.parquet') ORDER BY 1");
      Warehouse.assertSameLines(
          expectedKeys, lakeKeys.subList(1, lakeKeys.size()), "lake " + model + " keys");
    }
    List<String> partitions =
        Warehouse.csv(
            duck,
            "SELECT DISTINCT country FROM read_parquet('"
                + output.resolve("lake/customer")
                + "/**/*.parquet', hive_partitioning = true) ORDER BY 1");
    assertEquals(List.of("country", "DE", "FR", "GB", "NL", "US"), partitions);
  }

  static void assertDeadLettersAreThePlantedOnes(Path output, Path expected) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<String> actual = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("dead-letter/dead-letter.jsonl"))) {
      JsonNode letter = json.readTree(line);
      assertTrue(
          letter.get("payload").asText().length() > 0,
          "a dead letter keeps the raw payload: " + line);
      actual.add(
          String.join(
              ",",
              letter.get("source").asText(),
              letter.get("position").asText(),
              letter.get("stage").asText(),
              letter.get("reason").asText()));
    }
    actual.sort(null);
    List<String> planted = Warehouse.lines(expected.resolve("dead_letters.csv"));
    Warehouse.assertSameLines(planted.subList(1, planted.size()), actual, "dead letters");
  }

  /** Every model line of the summary says it reconciles, with the loaded count expected. */
  private static void assertReconciled(String summary, Path expected) throws IOException {
    for (String model : MODELS) {
      Matcher line =
          Pattern.compile(
                  "(?m)^"
                      + model
                      + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)")
              .matcher(summary);
      assertTrue(line.find(), () -> "no summary line for " + model + " in\n" + summary);
      long in = Long.parseLong(line.group(1));
      long dead = Long.parseLong(line.group(3));
      long merged = Long.parseLong(line.group(4));
      long dropped = Long.parseLong(line.group(5));
      long loaded = Long.parseLong(line.group(6));
      assertEquals(
          in,
          loaded + merged + dead + dropped,
          model + ": in = loaded + merged away + dead-lettered + dropped");
      assertEquals("reconciled", line.group(7));
      assertEquals(
          Warehouse.lines(expected.resolve(model + ".csv")).size() - 1,
          loaded,
          model + " rows loaded");
    }
  }

  @Test
  void embeddedFlinkLoadsExactlyTheExpectedTablesAndAReRunChangesNothing() throws Exception {
    Path spec = spec(output, "test-data/customer360");
    Path expected = ROOT.resolve("test-data/customer360/expected");
    String summary = run(spec, "flink");
    assertTrue(summary.contains("batch run on flink"), summary);
    assertReconciled(summary, expected);
    // The README's sample summary is this run's (paths aside).
    Readme.assertShownIn(
        Readme.blockAfter("summary that must reconcile for every model").stream()
            .map(line -> line.replace("target/customer360", output.toString()))
            .toList(),
        summary,
        "the README's sample summary");
    // The README's first-screen query runs on the warehouse.
    String query = "SELECT country, count(*) FROM customer GROUP BY country ORDER BY 2 DESC";
    assertTrue(Files.readString(Readme.FILE).contains("\"" + query + "\""), "the README's query");
    ByteArrayOutputStream rows = new ByteArrayOutputStream();
    assertEquals(
        Watershed.OK,
        Query.run(
            output.resolve("warehouse.duckdb").toString(),
            query,
            new PrintStream(rows, true, StandardCharsets.UTF_8),
            System.err));
    assertTrue(
        rows.toString(StandardCharsets.UTF_8).startsWith("country | count_star()"), rows::toString);
    assertWarehouseEqualsExpected(output, expected);
    assertLakeHoldsTheSameRows(output, expected);
    assertDeadLettersAreThePlantedOnes(output, expected);
    assertGoldenIdsAreThePeople(output, expected);
    assertSqlModelsAreTheIndependentAnswers(output, expected);

    run(spec, "flink");
    assertWarehouseEqualsExpected(output, expected);
    assertLakeHoldsTheSameRows(output, expected);
    assertGoldenIdsAreThePeople(output, expected);
  }

  @Test
  void directRunnerLoadsExactlyTheExpectedTables() throws Exception {
    Path spec = spec(output, "test-data/customer360/small");
    Path expected = ROOT.resolve("test-data/customer360/small/expected");
    String summary = run(spec, "direct");
    assertTrue(summary.contains("batch run on direct"), summary);
    assertReconciled(summary, expected);
    assertWarehouseEqualsExpected(output, expected);
    assertLakeHoldsTheSameRows(output, expected);
    assertDeadLettersAreThePlantedOnes(output, expected);
    assertGoldenIdsAreThePeople(output, expected);
    assertSqlModelsAreTheIndependentAnswers(output, expected);
    LineageTest.assertCustomer360Lineage(output.resolve("report/lineage.jsonl"));
  }
}
