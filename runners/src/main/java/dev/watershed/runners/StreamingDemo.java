package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code watershed demo streaming}: starts a Kafka broker in this process, publishes a history of
 * Debezium change events for a customers table (inserts, updates, deletes, key changes, some late,
 * some twice, a few poison), and streams them into a DuckDB file with the spec in {@code
 * target/streaming-demo/streaming.yaml}, printing a progress line every two seconds and, once
 * caught up, the reconciliation and the table checked against the history's final state.
 */
final class StreamingDemo {
  static final String TOPIC = "crm.public.customers";
  static final String ACCOUNTS_TOPIC = "billing.public.accounts";

  private StreamingDemo() {}

  /** The demo's spec: the change stream into DuckDB, soft deletes, dead letters as JSON lines. */
  static String spec(
      String bootstrapServers, String warehouse, String deletes, String deadLetters) {
    return String.join(
        "\n",
        "name: customer_changes",
        "mode: streaming",
        "streaming: { checkpoint_every: 2s, state_ttl: 1h }",
        "sources:",
        "  crm_customers:",
        "    type: kafka",
        "    bootstrap_servers: " + bootstrapServers,
        "    topic: " + TOPIC,
        "    format: debezium-json",
        "models:",
        "  customer:",
        "    key: [customer_id]",
        "    fields: { customer_id: long, name: string, email: string, status: string }",
        "conform:",
        "  - from: crm_customers",
        "    to: customer",
        "    fields:",
        "      customer_id: id",
        "      name: name",
        "      email: { from: email, normalize: [email] }",
        "      status: { from: status, normalize: [lower] }",
        "quality:",
        "  customer:",
        "    - accepted_values: { column: status, values: [active, trial, paused, churned] }",
        "      on_failure: dead_letter",
        "sinks:",
        "  warehouse: { type: duckdb, path: " + warehouse + ", deletes: " + deletes + " }",
        "dead_letter: { path: " + deadLetters + " }",
        "");
  }

  static int run(Watershed cli, String runner, List<String> beamArgs) throws Exception {
    Path folder = Path.of("target", "streaming-demo").toAbsolutePath();
    Files.createDirectories(folder);
    Files.deleteIfExists(folder.resolve("warehouse.duckdb"));
    Files.deleteIfExists(folder.resolve("warehouse.duckdb.wal"));
    Path deadLetters = folder.resolve("dead-letters");
    Files.deleteIfExists(deadLetters.resolve("dead-letter.jsonl"));
    try (LocalKafka kafka = LocalKafka.start()) {
      kafka.createTopic(TOPIC, 2);
      kafka.createTopic(ACCOUNTS_TOPIC, 2);
      ChangeEvents customers = ChangeEvents.generate(20261125L, 2000);
      ChangeEvents accounts = ChangeEvents.generate(ChangeEvents.Table.ACCOUNTS, 20261126L, 1000);
      Path spec = folder.resolve("streaming.yaml");
      Files.writeString(
          spec,
          withAccounts(
              spec(
                  kafka.bootstrapServers(),
                  folder.resolve("warehouse.duckdb").toString(),
                  "soft",
                  deadLetters.toString()),
              kafka.bootstrapServers()));
      for (ChangeEvents events : List.of(customers, accounts)) {
        cli.err()
            .printf(
                "broker %s: publishing %d change events of %s (%d late, %d duplicated, %d"
                    + " poison)%n",
                kafka.bootstrapServers(),
                events.delivery().size(),
                events == customers ? TOPIC : ACCOUNTS_TOPIC,
                events.late(),
                events.duplicates(),
                events.poison());
      }
      // Half now, half while the job runs.
      int half = customers.delivery().size() / 2;
      customers.publish(kafka.bootstrapServers(), TOPIC, 0, half);
      Thread producer =
          new Thread(
              () -> {
                try {
                  Thread.sleep(6000);
                  customers.publish(
                      kafka.bootstrapServers(), TOPIC, half, customers.delivery().size());
                  accounts.publish(
                      kafka.bootstrapServers(), ACCOUNTS_TOPIC, 0, accounts.delivery().size());
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      producer.start();
      List<String> args =
          new ArrayList<>(
              List.of("run", spec.toString(), "--runner=" + runner, "--stop-when-idle=6s"));
      args.addAll(beamArgs);
      int code = cli.execute(args.toArray(new String[0]));
      producer.join();
      if (code != Watershed.OK) {
        return code;
      }
      JdbcEndpoint warehouse = JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("warehouse.duckdb"));
      Map<String, String> accountColumns = new LinkedHashMap<>();
      accountColumns.put("customer_id", "customer_id");
      accountColumns.put("plan", "plan");
      accountColumns.put("balance", "balance");
      List<String> checks =
          List.of(
              compare(
                  warehouse, "customer", customers.finalRows(), customers.deleted().keySet(), true),
              compare(
                  warehouse,
                  "account",
                  "account_id",
                  accountColumns,
                  accounts.finalRows(),
                  accounts.deleted().keySet(),
                  true));
      checks.forEach(cli.out()::println);
      cli.out()
          .println(
              "query it: scripts/watershed query "
                  + folder.resolve("warehouse.duckdb")
                  + " \"SELECT status, count(*) FROM customer WHERE _deleted_at IS NULL GROUP BY 1\"");
      return checks.stream().allMatch(c -> c.startsWith("matches"))
          ? Watershed.OK
          : Watershed.FAILED;
    }
  }

  /** The demo's spec with billing's accounts as a second change stream and model. */
  static String withAccounts(String spec, String bootstrapServers) {
    return spec.replace(
            "models:\n",
            String.join(
                "\n",
                "  billing_accounts:",
                "    type: kafka",
                "    bootstrap_servers: " + bootstrapServers,
                "    topic: " + ACCOUNTS_TOPIC,
                "    format: debezium-json",
                "models:",
                "  account:",
                "    key: [account_id]",
                "    fields: { account_id: long, customer_id: long, plan: string,"
                    + " balance: \"decimal(12,2)\" }",
                ""))
        .replace(
            "quality:\n",
            String.join(
                "\n",
                "  - from: billing_accounts",
                "    to: account",
                "    fields: { account_id: id, customer_id: customer_id, plan: plan,"
                    + " balance: balance }",
                "quality:",
                ""));
  }

  /** Compares the customer table of {@link #spec}; see the general form. */
  static String compare(
      JdbcEndpoint endpoint,
      String table,
      Map<Long, Map<String, Object>> expected,
      Set<Long> deleted,
      boolean soft)
      throws SQLException {
    Map<String, String> columns = new LinkedHashMap<>();
    columns.put("name", "name");
    columns.put("email", "email");
    columns.put("status", "status");
    return compare(endpoint, table, "customer_id", columns, expected, deleted, soft);
  }

  /**
   * Compares a table with a history's final state: live rows column by column ({@code columns} maps
   * table columns to the events' fields; numbers compare as numbers), and deleted keys absent (hard
   * deletes) or marked with {@code _deleted_at} (soft). Returns "matches ..." or the first
   * differences.
   */
  static String compare(
      JdbcEndpoint endpoint,
      String table,
      String keyColumn,
      Map<String, String> columns,
      Map<Long, Map<String, Object>> expected,
      Set<Long> deleted,
      boolean soft)
      throws SQLException {
    Map<Long, List<Object>> live = new TreeMap<>();
    Set<Long> marked = new TreeSet<>();
    String select =
        "SELECT "
            + keyColumn
            + ", "
            + String.join(", ", columns.keySet())
            + (soft ? ", _deleted_at" : ", NULL")
            + " FROM "
            + endpoint.dialect().quote(table);
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(select)) {
      while (rows.next()) {
        long id = rows.getLong(1);
        if (rows.getObject(columns.size() + 2) != null) {
          marked.add(id);
        } else {
          List<Object> values = new ArrayList<>();
          for (int c = 0; c < columns.size(); c++) {
            values.add(rows.getObject(c + 2));
          }
          live.put(id, values);
        }
      }
    }
    List<String> differences = new ArrayList<>();
    for (Map.Entry<Long, Map<String, Object>> row : expected.entrySet()) {
      List<Object> got = live.remove(row.getKey());
      List<Object> want = new ArrayList<>();
      for (String field : columns.values()) {
        want.add(row.getValue().get(field));
      }
      if (got == null || !sameValues(want, got)) {
        differences.add("id " + row.getKey() + ": expected " + want + ", found " + got);
      }
    }
    for (Long id : live.keySet()) {
      differences.add("id " + id + ": expected no live row, found " + live.get(id));
    }
    if (soft && !marked.equals(deleted)) {
      Set<Long> missing = new TreeSet<>(deleted);
      missing.removeAll(marked);
      Set<Long> extra = new TreeSet<>(marked);
      extra.removeAll(deleted);
      differences.add("soft-deleted ids missing " + missing + ", unexpected " + extra);
    }
    if (differences.isEmpty()) {
      return "matches the source history: "
          + table
          + " has "
          + expected.size()
          + " live rows, "
          + deleted.size()
          + " deleted ("
          + (soft ? "kept with _deleted_at" : "removed")
          + ")";
    }
    return "differs from the source history in "
        + differences.size()
        + " places: "
        + String.join("; ", differences.subList(0, Math.min(10, differences.size())));
  }

  private static boolean sameValues(List<Object> want, List<Object> got) {
    for (int i = 0; i < want.size(); i++) {
      Object w = want.get(i);
      Object g = got.get(i);
      if (w == null || g == null) {
        if (w != g) {
          return false;
        }
      } else if (g instanceof BigDecimal || g instanceof Number) {
        if (new BigDecimal(w.toString()).compareTo(new BigDecimal(g.toString())) != 0) {
          return false;
        }
      } else if (!w.toString().equals(g.toString())) {
        return false;
      }
    }
    return true;
  }
}
