package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The specs in examples/, each run end to end as the README's one-liner says, on the Direct runner,
 * with their output checked.
 */
class ExamplesTest {
  private static final Path ROOT = Customer360Test.ROOT;
  private static final JdbcEndpoint POSTGRES =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");

  @TempDir Path output;

  private String summary;
  private Map<String, String> environment = Map.of();

  private int run(String example) throws Exception {
    return run(example, Map.of());
  }

  /**
   * The example with its target/ folder moved under the test's own and {@code replace}d text (a
   * broker's address), run on the Direct runner with {@code args}.
   */
  private int run(String example, Map<String, String> replace, String... args) throws Exception {
    String yaml =
        Files.readString(ROOT.resolve("examples/" + example))
            .replace("target/examples", output.toString());
    for (Map.Entry<String, String> change : replace.entrySet()) {
      yaml = yaml.replace(change.getKey(), change.getValue());
    }
    Path spec = output.resolve(example);
    Files.writeString(spec, yaml);
    List<String> command =
        new java.util.ArrayList<>(List.of("run", spec.toString(), "--runner=direct"));
    command.addAll(List.of(args));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        new Watershed(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                environment,
                ROOT)
            .execute(command.toArray(String[]::new));
    summary = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    return code;
  }

  @Test
  void postgresTablesReplicateIntoDuckDbIncrementally() throws Exception {
    try (Connection connection = POSTGRES.connect();
        Statement statement = connection.createStatement()) {
      statement.execute(Files.readString(ROOT.resolve("examples/postgres-to-duckdb.sql")));
    }
    assertEquals(Watershed.OK, run("postgres-to-duckdb.yaml"), () -> summary);
    assertTrue(summary.matches("(?s).*customers\\s+jdbc\\s+100\\s.*"), summary);
    assertEquals(Watershed.OK, run("postgres-to-duckdb.yaml"), () -> summary);
    assertTrue(summary.matches("(?s).*customers\\s+jdbc\\s+0\\s.*"), summary);
    try (Connection connection = POSTGRES.connect();
        Statement statement = connection.createStatement()) {
      statement.execute(
          "UPDATE example_shop.orders SET status = 'shipped', updated_at = now() WHERE id <= 3");
    }
    assertEquals(Watershed.OK, run("postgres-to-duckdb.yaml"), () -> summary);
    assertTrue(summary.matches("(?s).*orders\\s+jdbc\\s+3\\s.*"), summary);
    JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("pg-replica.duckdb"));
    for (String table : List.of("customers", "orders")) {
      String columns =
          table.equals("customers")
              ? "id, email, country, updated_at"
              : "id, customer_id, amount, status, updated_at";
      Warehouse.assertSameLines(
          Warehouse.csv(
              POSTGRES, "SELECT " + columns + " FROM example_shop." + table + " ORDER BY id"),
          Warehouse.csv(warehouse, "SELECT " + columns + " FROM " + table + " ORDER BY id"),
          table);
    }
  }

  @Test
  void dailyCsvExportsMergeIntoPostgres() throws Exception {
    try (Connection connection = POSTGRES.connect();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS example_exports CASCADE");
      statement.execute("CREATE SCHEMA example_exports");
    }
    assertEquals(Watershed.OK, run("csv-exports-to-postgres.yaml"), () -> summary);
    assertTrue(summary.contains("reconciled"), summary);
    assertEquals(
        List.of(
            "customer_no,name,email,_raw_email,country,balance,exported_at",
            "1001,Ada Lovelace,ada@example.com,,GB,1234.50,2024-03-01 05:00:00",
            "1002,Alan Turing,alan.turing@example.com,,GB,-2.00,2024-03-02 05:00:00",
            "1003,Grace Hopper,grace@example.com,,US,0.00,2024-03-01 05:00:00",
            "1004,Edsger Dijkstra,edsger@example.nl,,NL,99.95,2024-03-02 05:00:00",
            "1005,Nobody,,not an address,DE,1.00,2024-03-02 05:00:00"),
        Warehouse.csv(
            POSTGRES,
            "SELECT customer_no, name, email, _raw_email, country, balance, exported_at"
                + " FROM example_exports.customer ORDER BY customer_no"));
  }

  @Test
  void twoCrmsBecomeGoldenCustomers() throws Exception {
    assertEquals(Watershed.OK, run("two-crms-golden.yaml"), () -> summary);
    JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("two-crms.duckdb"));
    // Ada by her address, Alan by his phone; Grace and Edsger alone.
    assertEquals(
        List.of("members", "a-A1 b-B7", "a-A2 b-B8", "a-A3", "b-B9"),
        Warehouse.csv(
            warehouse,
            "SELECT string_agg(source_id, ' ' ORDER BY source_id) AS members"
                + " FROM customer_crosswalk GROUP BY golden_id ORDER BY members"));
    assertEquals(
        List.of(
            "name,email,phone",
            "Ada Lovelace,ada@example.com,+442079460001",
            "Alan Turing,alan.t@example.org,+442079460002",
            "Edsger Dijkstra,edsger@example.nl,+31207940199",
            "Grace Hopper,grace@navy.example,+12127360133"),
        Warehouse.csv(warehouse, "SELECT name, email, phone FROM customer_golden ORDER BY name"));
  }

  @Test
  void debeziumEventsBecomeAWarehouseTableWithSoftDeletesAndHistory() throws Exception {
    try (LocalKafka kafka = LocalKafka.start()) {
      String topic = "crm.public.customers.examples";
      kafka.createTopic(topic, 2);
      ChangeEvents events = ChangeEvents.generate(20261202L, 200);
      events.publish(kafka.bootstrapServers(), topic, 0, events.delivery().size());
      Map<String, String> broker =
          Map.of(
              "bootstrap_servers: localhost:9092",
              "bootstrap_servers: " + kafka.bootstrapServers(),
              "topic: crm.public.customers",
              "topic: " + topic);
      // What is there now, as the first one-liner says.
      assertEquals(
          Watershed.OK, run("debezium-to-warehouse.yaml", broker, "--mode=batch"), () -> summary);
      assertTrue(summary.contains("reconciled"), summary);
      JdbcEndpoint warehouse =
          JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("crm-changes.duckdb"));
      String compared =
          StreamingDemo.compare(
              warehouse, "customer", events.finalRows(), events.deleted().keySet(), true);
      assertTrue(compared.startsWith("matches"), compared);
      // Every key has its history; a key's versions are the changes of email or status it saw.
      List<String> history =
          Warehouse.csv(
              warehouse,
              "SELECT count(DISTINCT customer_id) >= "
                  + events.finalRows().size()
                  + " AS every_key, count(*) > count(DISTINCT customer_id) AS versions"
                  + " FROM customer_history");
      assertEquals(List.of("every_key,versions", "true,true"), history);
    }
  }

  @Test
  void aHelpDeskApiLoadsTheTicketsTheExportHolds() throws Exception {
    Path small = ROOT.resolve("test-data/customer360/small");
    try (ApiDemo api = new ApiDemo(small.resolve("support_tickets.jsonl"))) {
      environment = Map.of("HELPDESK_TOKEN", ApiDemo.KEY);
      assertEquals(
          Watershed.OK,
          run(
              "api-to-warehouse.yaml",
              Map.of("base_url: https://helpdesk.example.com/v2", "base_url: " + api.baseUrl())),
          () -> summary);
      assertTrue(summary.contains("reconciled"), summary);
      assertTrue(!summary.contains(ApiDemo.KEY), "the token never shows");
    }
    // The same tickets as the customer-360 job's, which read the API's export.
    Warehouse.assertSameLines(
        Warehouse.lines(small.resolve("expected/ticket.csv")),
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + output.resolve("help-desk.duckdb")),
            "SELECT * FROM ticket ORDER BY ticket_id"),
        "ticket");
  }
}
