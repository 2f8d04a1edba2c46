package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
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
      ChangeEvents events = ChangeEvents.generate(20261125L, 2000);
      Path spec = folder.resolve("streaming.yaml");
      Files.writeString(
          spec,
          spec(
              kafka.bootstrapServers(),
              folder.resolve("warehouse.duckdb").toString(),
              "soft",
              deadLetters.toString()));
      cli.err()
          .printf(
              "broker %s: publishing %d change events (%d late, %d duplicated, %d poison)%n",
              kafka.bootstrapServers(),
              events.delivery().size(),
              events.late(),
              events.duplicates(),
              events.poison());
      // Half now, half while the job runs.
      int half = events.delivery().size() / 2;
      events.publish(kafka.bootstrapServers(), TOPIC, 0, half);
      Thread producer =
          new Thread(
              () -> {
                try {
                  Thread.sleep(6000);
                  events.publish(kafka.bootstrapServers(), TOPIC, half, events.delivery().size());
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      producer.start();
      List<String> args =
          new java.util.ArrayList<>(
              List.of("run", spec.toString(), "--runner=" + runner, "--stop-when-idle=6s"));
      args.addAll(beamArgs);
      int code = cli.execute(args.toArray(new String[0]));
      producer.join();
      if (code != Watershed.OK) {
        return code;
      }
      String check =
          compare(
              JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("warehouse.duckdb")),
              "customer",
              events.finalRows(),
              events.deleted().keySet(),
              true);
      cli.out().println(check);
      cli.out()
          .println(
              "query it: scripts/watershed query "
                  + folder.resolve("warehouse.duckdb")
                  + " \"SELECT status, count(*) FROM customer WHERE _deleted_at IS NULL GROUP BY 1\"");
      return check.startsWith("matches") ? Watershed.OK : Watershed.FAILED;
    }
  }

  /**
   * Compares the customer table with the history's final state: live rows field by field, and
   * deleted ids absent (hard deletes) or marked with {@code _deleted_at} (soft). Returns "matches
   * ..." or the first differences.
   */
  static String compare(
      JdbcEndpoint endpoint,
      String table,
      Map<Long, Map<String, Object>> expected,
      Set<Long> deleted,
      boolean soft)
      throws SQLException {
    Map<Long, String> live = new TreeMap<>();
    Set<Long> marked = new TreeSet<>();
    String deletedAt = soft ? ", _deleted_at" : ", NULL";
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT customer_id, name, email, status"
                    + deletedAt
                    + " FROM "
                    + endpoint.dialect().quote(table))) {
      while (rows.next()) {
        long id = rows.getLong(1);
        if (rows.getObject(5) != null) {
          marked.add(id);
        } else {
          live.put(id, rows.getString(2) + "|" + rows.getString(3) + "|" + rows.getString(4));
        }
      }
    }
    List<String> differences = new ArrayList<>();
    for (Map.Entry<Long, Map<String, Object>> row : expected.entrySet()) {
      Map<String, Object> v = row.getValue();
      String want = v.get("name") + "|" + v.get("email") + "|" + v.get("status");
      String got = live.remove(row.getKey());
      if (!want.equals(got)) {
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
}
