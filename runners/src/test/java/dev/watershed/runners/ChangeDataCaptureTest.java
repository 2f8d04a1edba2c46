package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Change data capture from a real Kafka broker (in this JVM) into PostgreSQL, MariaDB and DuckDB,
 * in batch, micro-batch and streaming mode. Every table is compared row by row with the final state
 * of the source history ({@link ChangeEvents}), which has late and duplicated events, deletes with
 * tombstones, primary-key changes and poison messages.
 */
class ChangeDataCaptureTest {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";
  private static final String MARIADB = "jdbc:mariadb://127.0.0.1:3306/test";
  private static LocalKafka kafka;

  @TempDir Path folder;

  @BeforeAll
  static void startBroker() throws Exception {
    java.util.logging.LogManager.getLogManager().reset();
    java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.OFF);
    kafka = LocalKafka.start();
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  private static String topic() {
    String topic = "crm.customers." + UUID.randomUUID().toString().substring(0, 8);
    kafka.createTopic(topic, 2);
    return topic;
  }

  /** The streaming demo's spec with other sinks. */
  private Path spec(String name, String topic, String sinks) throws Exception {
    String text =
        StreamingDemo.spec(
                kafka.bootstrapServers(),
                folder.resolve("unused.duckdb").toString(),
                "soft",
                folder.resolve("dead-letters").toString())
            .replace("name: customer_changes", "name: " + name)
            .replace("topic: " + StreamingDemo.TOPIC, "topic: " + topic)
            .replaceAll("(?s)sinks:\n.*?\ndead_letter", "sinks:\n" + sinks + "\ndead_letter");
    Path spec = folder.resolve(name + ".yaml");
    Files.writeString(spec, text);
    return spec;
  }

  private String duckdbSink(String file, String deletes) {
    return "  warehouse: { type: duckdb, path: "
        + folder.resolve(file)
        + ", deletes: "
        + deletes
        + " }";
  }

  private static void dropTables(String url, String... tables) throws SQLException {
    JdbcEndpoint endpoint =
        JdbcEndpoint.of(url).withUser(url.contains("postgresql") ? "postgres" : "root");
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement()) {
      for (String table : tables) {
        statement.execute("DROP TABLE IF EXISTS " + table);
      }
    }
  }

  private static String compare(String url, String table, ChangeEvents events, boolean soft)
      throws SQLException {
    JdbcEndpoint endpoint =
        url.startsWith("jdbc:duckdb:")
            ? JdbcEndpoint.of(url)
            : JdbcEndpoint.of(url).withUser(url.contains("postgresql") ? "postgres" : "root");
    return StreamingDemo.compare(
        endpoint, table, events.finalRows(), events.deleted().keySet(), soft);
  }

  private long deadLetters() throws Exception {
    Path file = folder.resolve("dead-letters").resolve("dead-letter.jsonl");
    return Files.exists(file) ? Files.readAllLines(file).size() : 0;
  }

  @Test
  void batchAppliesTheHistoryToPostgresHardAndMariadbSoftAndASecondRunMovesNothing()
      throws Exception {
    dropTables(
        PG, "cdc_batch.customer", "cdc_batch._ws_deleted_customer", "cdc_batch._watershed_state");
    dropTables(MARIADB, "customer", "_ws_deleted_customer", "_watershed_state");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_batch");
    }
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(7L, 300);
    events.publish(kafka.bootstrapServers(), topic, 0, events.delivery().size());
    Path spec =
        spec(
            "cdc_batch",
            topic,
            String.join(
                "\n",
                "  pg: { type: postgres, url: \""
                    + PG
                    + "\", user: postgres, schema: cdc_batch, deletes: hard }",
                "  maria: { type: mariadb, url: \"" + MARIADB + "\", user: root, deletes: soft }"));
    Cli cli = new Cli(folder);
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    String summary = cli.stdout();
    long tombstones = events.deleted().size();
    assertTrue(summary.contains("reconciled"), summary);
    assertTrue(
        compare(PG, "cdc_batch.customer", events, false).startsWith("matches"),
        compare(PG, "cdc_batch.customer", events, false));
    assertTrue(
        compare(MARIADB, "customer", events, true).startsWith("matches"),
        compare(MARIADB, "customer", events, true));
    assertEquals(events.poison(), deadLetters(), "each poison message is one dead letter");
    assertTrue(tombstones > 0 && events.late() > 0 && events.duplicates() > 0);
    // Tombstones are counted where a user sees them: the summary and the run report.
    long sent = tombstonesIn(events, 0, events.delivery().size());
    assertTrue(
        summary.contains("crm_customers  " + sent + " tombstones skipped"),
        "tombstones in the summary:\n" + summary);

    // The marks were committed with the rows: a second run reads nothing.
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    assertTrue(
        cli.stdout().matches("(?s).*crm_customers\\s+kafka\\s+0\\s+0.*"),
        "second run reads nothing:\n" + cli.stdout());
    assertTrue(compare(PG, "cdc_batch.customer", events, false).startsWith("matches"));

    // Replaying the whole topic (state forgotten) changes nothing: older events lose to the rows.
    dropTables(PG, "cdc_batch._watershed_state");
    dropTables(MARIADB, "_watershed_state");
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    assertTrue(
        compare(PG, "cdc_batch.customer", events, false).startsWith("matches"),
        compare(PG, "cdc_batch.customer", events, false));
    assertTrue(compare(MARIADB, "customer", events, true).startsWith("matches"));
  }

  @Test
  void theSameSpecInAllThreeModesEndsWithTheSameTables() throws Exception {
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(11L, 200);
    int size = events.delivery().size();
    events.publish(kafka.bootstrapServers(), topic, 0, size / 2);
    Cli cli = new Cli(folder);

    // Batch: one run over the topic as it is, then one more after the rest arrives.
    Path batch = spec("modes_batch", topic, duckdbSink("batch.duckdb", "soft"));
    assertEquals(Watershed.OK, cli.run("run", batch.toString(), "--mode=batch"), cli.output());

    // Micro-batch: runs ticks until one finds nothing new; restarted after the rest arrives, it
    // resumes from the committed marks.
    Path micro = spec("modes_micro", topic, duckdbSink("micro.duckdb", "soft"));
    String every = "every: 1s\n";
    Files.writeString(micro, every + Files.readString(micro));
    assertEquals(
        Watershed.OK,
        cli.run("run", micro.toString(), "--mode=micro-batch", "--stop-when-idle"),
        cli.output());
    assertTrue(cli.stderr().contains("tick 2: nothing new"), cli.stderr());

    events.publish(kafka.bootstrapServers(), topic, size / 2, size);
    assertEquals(Watershed.OK, cli.run("run", batch.toString(), "--mode=batch"), cli.output());
    assertEquals(
        Watershed.OK,
        cli.run("run", micro.toString(), "--mode=micro-batch", "--stop-when-idle"),
        cli.output());
    long secondHalf = (size - size / 2) - tombstonesIn(events, size / 2, size);
    assertTrue(
        cli.stdout().matches("(?s).*crm_customers\\s+kafka\\s+" + secondHalf + "\\s.*"),
        "the restarted micro-batch reads exactly the "
            + secondHalf
            + " new records:\n"
            + cli.stdout());

    // Streaming (Direct runner here; embedded Flink in the kill-and-restart test).
    Path streaming = spec("modes_streaming", topic, duckdbSink("streaming.duckdb", "soft"));
    Files.writeString(
        streaming,
        "lineage: { path: " + folder.resolve("streaming-lineage.jsonl") + ", running_every: 1s }\n",
        java.nio.file.StandardOpenOption.APPEND);
    assertEquals(
        Watershed.OK,
        cli.run(
            "run",
            streaming.toString(),
            "--mode=streaming",
            "--runner=direct",
            "--stop-when-idle=3s"),
        cli.output());

    // The streaming run's lineage: START, RUNNING with the counts so far, then COMPLETE (idle).
    List<String> lines = Files.readAllLines(folder.resolve("streaming-lineage.jsonl"));
    List<com.fasterxml.jackson.databind.JsonNode> lineage = new java.util.ArrayList<>();
    for (String line : lines) {
      lineage.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line));
    }
    List<String> types = lineage.stream().map(e -> e.path("eventType").asText()).toList();
    assertEquals("START", types.get(0), types.toString());
    assertEquals("COMPLETE", types.get(types.size() - 1), types.toString());
    assertTrue(
        types.size() >= 3
            && types.subList(1, types.size() - 1).stream().allMatch("RUNNING"::equals),
        types.toString());
    for (com.fasterxml.jackson.databind.JsonNode event : lineage) {
      LineageTest.assertValid(event);
      assertEquals(lineage.get(0).path("run").path("runId"), event.path("run").path("runId"));
    }
    assertTrue(
        lineage
                .get(lineage.size() - 1)
                .path("outputs")
                .get(0)
                .path("outputFacets")
                .path("outputStatistics")
                .path("rowCount")
                .asLong()
            > 0,
        lines.get(lines.size() - 1));

    for (String file : List.of("batch.duckdb", "micro.duckdb", "streaming.duckdb")) {
      String result = compare("jdbc:duckdb:" + folder.resolve(file), "customer", events, true);
      assertTrue(result.startsWith("matches"), file + ": " + result);
    }
  }

  /**
   * Kill -9 mid-stream and restart: the job (embedded Flink, its own JVM) is killed while events
   * are still arriving, then started again; the PostgreSQL table ends exactly as the source history
   * does, so nothing was lost and nothing applied twice.
   */
  @Test
  void aStreamingJobKilledMidwayAndRestartedLosesAndDuplicatesNothing() throws Exception {
    dropTables(PG, "cdc_kill.customer", "cdc_kill._ws_deleted_customer");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_kill");
    }
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(13L, 400);
    int size = events.delivery().size();
    Path spec =
        spec(
            "cdc_kill",
            topic,
            "  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: cdc_kill, deletes: hard }");
    Files.writeString(
        spec, Files.readString(spec).replace("checkpoint_every: 2s", "checkpoint_every: 1s"));
    int first = size / 4;
    events.publish(kafka.bootstrapServers(), topic, 0, first);
    Process job = startJob(spec, "job-1.log");
    // The rest arrives while the job runs, in small batches.
    Thread producer =
        new Thread(
            () -> {
              for (int at = first; at < size; at += 25) {
                events.publish(kafka.bootstrapServers(), topic, at, Math.min(size, at + 25));
                try {
                  Thread.sleep(300);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    // Once the job has committed a checkpoint, the rest starts to arrive; the kill comes while it
    // is still arriving and being loaded.
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (committedOffsets("watershed-crm_customers", topic) == 0
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertTrue(
        committedOffsets("watershed-crm_customers", topic) > 0,
        "no checkpoint committed within 5 minutes\n" + log("job-1.log"));
    producer.start();
    // Kill once the job has committed some of what arrived after it started, while more arrives.
    while (committedOffsets("watershed-crm_customers", topic) <= first
        && producer.isAlive()
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    job.destroyForcibly(); // SIGKILL: no shutdown hook, no final commit
    assertTrue(job.waitFor(30, TimeUnit.SECONDS));
    long committedAtKill = committedOffsets("watershed-crm_customers", topic);
    long rowsAtKill = rows("cdc_kill.customer");
    producer.join();
    assertTrue(
        committedAtKill > 0 && committedAtKill < size,
        "killed midway: " + committedAtKill + " of " + size + " offsets committed");
    assertTrue(rowsAtKill > 0, "rows were loaded before the kill");

    Process restarted = startJob(spec, "job-2.log", "--stop-when-idle=4s");
    assertTrue(restarted.waitFor(4, TimeUnit.MINUTES), log("job-2.log"));
    assertEquals(0, restarted.exitValue(), log("job-2.log"));
    String result = compare(PG, "cdc_kill.customer", events, false);
    assertTrue(result.startsWith("matches"), result + "\n" + log("job-2.log"));
    assertTrue(log("job-2.log").contains("reconciled"), log("job-2.log"));
  }

  /**
   * A streaming run stopped by SIGTERM (what Ctrl-C and a service manager send) ends its lineage
   * with ABORT, counts included, prints its summary and records itself in the run history as {@code
   * stopped}, all before the JVM exits.
   */
  @Test
  void aStreamingRunStoppedBySigtermEndsWithAbortAndIsRecorded() throws Exception {
    dropTables(
        PG, "cdc_abort.customer", "cdc_abort._ws_deleted_customer", "cdc_abort._watershed_runs");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_abort");
    }
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(29L, 60);
    int size = events.delivery().size();
    events.publish(kafka.bootstrapServers(), topic, 0, size);
    Path spec =
        spec(
            "cdc_abort",
            topic,
            "  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: cdc_abort, deletes: hard }");
    Path lineage = folder.resolve("abort-lineage.jsonl");
    Files.writeString(
        spec,
        Files.readString(spec).replace("checkpoint_every: 2s", "checkpoint_every: 1s")
            + "lineage: { path: "
            + lineage
            + ", running_every: 1s }\n");
    Process job = startJob(spec, "abort.log");
    // Stop it once it has loaded everything and said RUNNING at least once.
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (job.isAlive()
        && System.nanoTime() < deadline
        && (committedOffsets("watershed-crm_customers", topic) < size
            || !Files.exists(lineage)
            || !Files.readString(lineage).contains("\"RUNNING\""))) {
      Thread.sleep(100);
    }
    assertTrue(job.isAlive(), log("abort.log"));
    assertEquals(size, committedOffsets("watershed-crm_customers", topic), log("abort.log"));
    job.destroy(); // SIGTERM: the shutdown hook stops the loop, which ends the run
    assertTrue(job.waitFor(2, TimeUnit.MINUTES), log("abort.log"));

    List<com.fasterxml.jackson.databind.JsonNode> sent = new ArrayList<>();
    for (String line : Files.readAllLines(lineage)) {
      sent.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line));
    }
    List<String> types = sent.stream().map(e -> e.path("eventType").asText()).toList();
    assertEquals("START", types.get(0), types.toString());
    assertEquals("ABORT", types.get(types.size() - 1), types + "\n" + log("abort.log"));
    assertTrue(
        types.subList(1, types.size() - 1).stream().allMatch("RUNNING"::equals), types::toString);
    com.fasterxml.jackson.databind.JsonNode abort = sent.get(sent.size() - 1);
    LineageTest.assertValid(abort);
    long written =
        abort
            .path("outputs")
            .get(0)
            .path("outputFacets")
            .path("outputStatistics")
            .path("rowCount")
            .asLong();
    assertTrue(written >= rows("cdc_abort.customer") && written > 0, "rows written: " + written);
    assertTrue(log("abort.log").contains("stopped after"), log("abort.log"));
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement();
        java.sql.ResultSet r =
            s.executeQuery(
                "SELECT status, run_id, rows_written FROM cdc_abort._watershed_runs"
                    + " WHERE pipeline = 'cdc_abort'")) {
      assertTrue(r.next(), "the run is in the history");
      assertEquals("stopped", r.getString(1));
      assertEquals(abort.path("run").path("runId").asText(), r.getString(2));
      assertEquals(written, r.getLong(3));
      assertFalse(r.next());
    }
  }

  /** The one-command demo, as a newcomer runs it: its own broker, events, DuckDB, a check. */
  @Test
  void theStreamingDemoEndsReconciledAndMatchingTheSourceHistory() throws Exception {
    Process demo = startCommand("demo.log", "demo", "streaming");
    assertTrue(demo.waitFor(4, TimeUnit.MINUTES), log("demo.log"));
    String output = log("demo.log");
    assertEquals(0, demo.exitValue(), output);
    assertTrue(output.contains("events/s"), output);
    assertTrue(output.contains("reconciled"), output);
    assertTrue(output.contains("matches the source history"), output);
  }

  private Process startJob(Path spec, String logName, String... extra) throws Exception {
    List<String> args =
        new ArrayList<>(List.of("run", spec.toString(), "--mode=streaming", "--runner=flink"));
    args.addAll(List.of(extra));
    return startCommand(logName, args.toArray(new String[0]));
  }

  /** Runs the command line in a JVM of its own, as scripts/watershed does. */
  private Process startCommand(String logName, String... args) throws Exception {
    return Cli.start(folder, folder.resolve(logName), args);
  }

  private String log(String name) {
    try {
      return Files.readString(folder.resolve(name), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static long committedOffsets(String group, String topic) {
    return dev.watershed.io.kafka.KafkaOffsets.committed(kafka.bootstrapServers(), topic, group)
        .values()
        .stream()
        .mapToLong(Long::longValue)
        .sum();
  }

  private static long rows(String table) throws SQLException {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement();
        java.sql.ResultSet r = s.executeQuery("SELECT count(*) FROM " + table)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      return 0;
    }
  }

  @Test
  void aKafkaSinkPublishesEachLoadedRowAsJsonKeyedByTheModelKey() throws Exception {
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(17L, 40);
    events.publish(kafka.bootstrapServers(), topic, 0, events.delivery().size());
    String out = "conformed." + UUID.randomUUID().toString().substring(0, 8) + ".{model}";
    Path spec =
        spec(
            "cdc_publish",
            topic,
            "  events: { type: kafka, bootstrap_servers: \""
                + kafka.bootstrapServers()
                + "\", topic: \""
                + out
                + "\" }");
    Cli cli = new Cli(folder);
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    String outTopic = out.replace("{model}", "customer");
    java.util.Map<String, com.fasterxml.jackson.databind.JsonNode> latest =
        new java.util.TreeMap<>();
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    try (org.apache.kafka.clients.consumer.KafkaConsumer<String, String> consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            java.util.Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "group.id", "check",
                "auto.offset.reset", "earliest"),
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.StringDeserializer())) {
      consumer.subscribe(List.of(outTopic));
      long deadline = System.currentTimeMillis() + 30_000;
      int expected = events.finalRows().size() + events.deleted().size();
      while (latest.size() < expected && System.currentTimeMillis() < deadline) {
        for (var record : consumer.poll(java.time.Duration.ofMillis(500))) {
          latest.put(record.key(), json.readTree(record.value()));
        }
      }
    }
    // One message per key: the newest change, deletes flagged.
    assertEquals(events.finalRows().size() + events.deleted().size(), latest.size());
    for (var row : events.finalRows().entrySet()) {
      com.fasterxml.jackson.databind.JsonNode message = latest.get(row.getKey().toString());
      assertEquals(row.getValue().get("email"), message.path("email").asText(), message.toString());
      assertEquals(false, message.path("_deleted").asBoolean());
      assertTrue(message.path("_version").asLong() > 0);
    }
    for (Long id : events.deleted().keySet()) {
      assertEquals(true, latest.get(id.toString()).path("_deleted").asBoolean());
    }
  }

  @Test
  void anUnreachableBrokerIsOneLineNamingItAndTheFix() throws Exception {
    Path spec = spec("unreachable", "crm.customers", duckdbSink("u.duckdb", "hard"));
    Files.writeString(
        spec,
        Files.readString(spec)
            .replace(
                "bootstrap_servers: " + kafka.bootstrapServers(),
                "bootstrap_servers: 127.0.0.1:1"));
    Cli cli = new Cli(folder);
    assertEquals(Watershed.FAILED, cli.run("run", spec.toString()), cli.output());
    assertEquals(
        "error: sources.crm_customers: cannot reach Kafka at 127.0.0.1:1 (127.0.0.1:1: Connection"
            + " refused); check that the broker runs and bootstrap_servers is right\n"
            + "(run with --verbose for details)\n",
        cli.stderr());
  }

  /**
   * A broker that accepts connections but does not answer (hung, or a machine too busy) is told
   * apart from one that is not there, after the source's own timeout, with the fix.
   */
  @Test
  void aBrokerThatDoesNotAnswerInTimeIsToldApartFromAnUnreachableOne() throws Exception {
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0)) {
      Thread accepting =
          new Thread(
              () -> {
                List<java.net.Socket> held = new java.util.ArrayList<>();
                try {
                  while (true) {
                    held.add(silent.accept()); // accepted, never answered
                  }
                } catch (java.io.IOException e) {
                  // closed at the end of the test
                }
              });
      accepting.setDaemon(true);
      accepting.start();
      Path spec = spec("silent", "crm.customers", duckdbSink("s.duckdb", "hard"));
      String servers = "127.0.0.1:" + silent.getLocalPort();
      Files.writeString(
          spec,
          Files.readString(spec)
              .replace(
                  "bootstrap_servers: " + kafka.bootstrapServers(),
                  "bootstrap_servers: " + servers + "\n    timeout: 3s"));
      Cli cli = new Cli(folder);
      assertEquals(Watershed.FAILED, cli.run("run", spec.toString()), cli.output());
      assertTrue(
          cli.stderr()
              .startsWith(
                  "error: sources.crm_customers: Kafka at "
                      + servers
                      + " accepts connections but did not answer within 3 s"),
          cli.stderr());
      assertTrue(cli.stderr().contains("raise the source's timeout"), cli.stderr());
    }
  }

  @Test
  void aTruncateDeletesEveryOlderRowHardOrSoft() throws Exception {
    dropTables(PG, "cdc_truncate.customer");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_truncate");
    }
    String topic = topic();
    String create =
        "{\"op\": \"c\", \"after\": {\"id\": %d, \"name\": \"N%d\", \"email\": \"e%d@x.io\","
            + " \"status\": \"active\"}, \"source\": {\"lsn\": %d, \"ts_ms\": 1767225600000}}";
    List<String> values =
        List.of(
            String.format(create, 1, 1, 1, 10),
            String.format(create, 2, 2, 2, 20),
            String.format(create, 3, 3, 3, 30),
            "{\"op\": \"t\", \"source\": {\"lsn\": 40, \"ts_ms\": 1767225660000}}",
            String.format(create, 4, 4, 4, 50));
    try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer =
        new org.apache.kafka.clients.producer.KafkaProducer<>(
            java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
      for (String value : values) {
        // One partition's order is the log's: a truncate is not keyed to one row.
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, "k", value));
      }
    }
    Path spec =
        spec(
            "cdc_truncate",
            topic,
            duckdbSink("t.duckdb", "hard")
                + "\n  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: cdc_truncate, deletes: soft }");
    Cli cli = new Cli(folder);
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    assertEquals(
        List.of("customer_id", "4"),
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("t.duckdb")),
            "SELECT customer_id FROM customer ORDER BY 1"));
    assertEquals(
        List.of("customer_id,deleted", "1,true", "2,true", "3,true", "4,false"),
        Warehouse.csv(
            JdbcEndpoint.of(PG).withUser("postgres"),
            "SELECT customer_id, _deleted_at IS NOT NULL AS deleted FROM cdc_truncate.customer"
                + " ORDER BY 1"));
  }

  /**
   * A soft-deleted row keeps its key's last known values whether its insert and delete arrive in
   * one run or in two: the delete images hold the key alone, as Debezium's do under PostgreSQL's
   * default replica identity.
   */
  @Test
  void aSoftDeleteKeepsTheLastKnownValuesHoweverTheChangesAreBatched() throws Exception {
    dropTables(PG, "cdc_soft.customer");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_soft");
    }
    String topic = topic();
    String create =
        "{\"op\": \"%s\", \"after\": {\"id\": %d, \"name\": \"%s\", \"email\": \"%s@x.io\","
            + " \"status\": \"active\"}, \"source\": {\"lsn\": %d, \"ts_ms\": 1767225600000}}";
    String delete =
        "{\"op\": \"d\", \"before\": {\"id\": %d}, \"source\": {\"lsn\": %d,"
            + " \"ts_ms\": 1767225660000}}";
    // Run 1: key 1 is inserted, updated and deleted; key 2 inserted. Run 2: key 2 deleted.
    send(
        topic,
        String.format(create, "c", 1, "Ann", "ann", 10),
        String.format(create, "u", 1, "Anna", "anna", 15),
        String.format(delete, 1, 30),
        String.format(create, "c", 2, "Bob", "bob", 20));
    Path spec =
        spec(
            "cdc_soft",
            topic,
            duckdbSink("soft.duckdb", "soft")
                + "\n  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: cdc_soft, deletes: soft }");
    Cli cli = new Cli(folder);
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    send(topic, String.format(delete, 2, 40));
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    List<String> expected =
        List.of(
            "customer_id,name,email,deleted,_version",
            "1,Anna,anna@x.io,true,30",
            "2,Bob,bob@x.io,true,40");
    String query =
        "SELECT customer_id, name, email, _deleted_at IS NOT NULL AS deleted, _version FROM %s"
            + " ORDER BY 1";
    assertEquals(
        expected,
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("soft.duckdb")),
            String.format(query, "customer")));
    assertEquals(
        expected,
        Warehouse.csv(
            JdbcEndpoint.of(PG).withUser("postgres"), String.format(query, "cdc_soft.customer")));
  }

  /**
   * History from a change stream: every change a version in source order; a change delivered late
   * (in a later run) is put in its place and its neighbours' validity follows; duplicates add
   * nothing; a delete closes the key's history.
   */
  @Test
  void historyFromChangesPlacesLateChangesAndIgnoresDuplicates() throws Exception {
    dropTables(
        PG, "cdc_hist.customer", "cdc_hist.customer_history", "cdc_hist._ws_deleted_customer");
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS cdc_hist");
    }
    String topic = topic();
    long t0 = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    String change =
        "{\"op\": \"%s\", \"before\": %s, \"after\": %s, \"source\": {\"lsn\": %d, \"ts_ms\": %d}}";
    java.util.function.BiFunction<Integer, String, String> image =
        (id, status) ->
            String.format(
                "{\"id\": %d, \"name\": \"N%d\", \"email\": \"e%d@x.io\", \"status\": \"%s\"}",
                id, id, id, status);
    String c1 = String.format(change, "c", "null", image.apply(1, "active"), 10, t0);
    String u1 = String.format(change, "u", "null", image.apply(1, "paused"), 20, t0 + 600_000);
    String u1b = String.format(change, "u", "null", image.apply(1, "churned"), 30, t0 + 1_200_000);
    String c2 = String.format(change, "c", "null", image.apply(2, "active"), 15, t0 + 300_000);
    String d2 = String.format(change, "d", image.apply(2, "active"), "null", 25, t0 + 900_000);
    Path spec =
        spec(
            "cdc_hist",
            topic,
            duckdbSink("h.duckdb", "hard")
                + "\n  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: cdc_hist }");
    Files.writeString(
        spec,
        Files.readString(spec)
            .replace(
                "sinks:\n",
                "history:\n  customer: { scd2: [status], deletes: invalidate }\nsinks:\n"));
    Cli cli = new Cli(folder);
    send(topic, c1, u1b, c2, d2); // u1 is late: it arrives after the next run
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    send(topic, u1, u1b, c2); // the late change, and two duplicates
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());

    List<String> expected =
        List.of(
            "customer_id,status,valid_from,valid_to,is_current,is_deleted",
            "1,active,2026-01-01 00:00:00,2026-01-01 00:10:00,false,false",
            "1,paused,2026-01-01 00:10:00,2026-01-01 00:20:00,false,false",
            "1,churned,2026-01-01 00:20:00,,true,false",
            "2,active,2026-01-01 00:05:00,2026-01-01 00:15:00,false,false",
            "2,,2026-01-01 00:15:00,,false,true");
    String query =
        "SELECT customer_id, status, valid_from, valid_to, is_current, is_deleted FROM %s"
            + " ORDER BY customer_id, _version";
    assertEquals(
        expected,
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("h.duckdb")),
            String.format(query, "customer_history")));
    assertEquals(
        expected,
        Warehouse.csv(
            JdbcEndpoint.of(PG).withUser("postgres"),
            String.format(query, "cdc_hist.customer_history")));
    // What was customer 1's status at 00:12? The late change answers.
    assertEquals(
        List.of("status", "paused"),
        Warehouse.csv(
            JdbcEndpoint.of(PG).withUser("postgres"),
            "SELECT status FROM cdc_hist.customer_history WHERE customer_id = 1"
                + " AND valid_from <= TIMESTAMPTZ '2026-01-01 00:12:00+00'"
                + " AND (valid_to IS NULL OR valid_to > TIMESTAMPTZ '2026-01-01 00:12:00+00')"));
  }

  @Test
  void poisonMessagesCanGoToADeadLetterTopicWithTheirPositionAndRawValue() throws Exception {
    String topic = topic();
    String good =
        "{\"op\": \"c\", \"after\": {\"id\": 1, \"name\": \"A\", \"email\": \"a@x.io\","
            + " \"status\": \"active\"}, \"source\": {\"lsn\": 1}}";
    send(topic, good, "not json at all", "{\"op\": \"z\", \"source\": {\"lsn\": 2}}");
    String deadTopic = "dead." + topic;
    Path spec = spec("cdc_dead", topic, duckdbSink("d.duckdb", "hard"));
    Files.writeString(
        spec,
        Files.readString(spec)
            .replaceAll(
                "dead_letter: .*",
                "dead_letter: { type: kafka, bootstrap_servers: \""
                    + kafka.bootstrapServers()
                    + "\", topic: "
                    + deadTopic
                    + " }"));
    Cli cli = new Cli(folder);
    assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--mode=batch"), cli.output());
    assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    List<String> messages = new ArrayList<>();
    try (org.apache.kafka.clients.consumer.KafkaConsumer<String, String> consumer =
        new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            java.util.Map.of(
                "bootstrap.servers", kafka.bootstrapServers(),
                "group.id", "check-dead",
                "auto.offset.reset", "earliest"),
            new org.apache.kafka.common.serialization.StringDeserializer(),
            new org.apache.kafka.common.serialization.StringDeserializer())) {
      consumer.subscribe(List.of(deadTopic));
      long deadline = System.currentTimeMillis() + 30_000;
      while (messages.size() < 2 && System.currentTimeMillis() < deadline) {
        for (var record : consumer.poll(java.time.Duration.ofMillis(500))) {
          messages.add(record.key() + " " + record.value());
        }
      }
    }
    messages.sort(null);
    assertEquals(2, messages.size(), messages.toString());
    assertTrue(messages.get(0).startsWith("crm_customers/" + topic + "/0@1 "), messages.get(0));
    assertTrue(messages.get(0).contains("\"reason\":\"invalid JSON\""), messages.get(0));
    assertTrue(messages.get(0).contains("\"payload\":\"not json at all\""), messages.get(0));
    assertTrue(messages.get(1).contains("\"reason\":\"unknown change operation\""));
  }

  private static void send(String topic, String... values) {
    try (org.apache.kafka.clients.producer.KafkaProducer<String, String> producer =
        new org.apache.kafka.clients.producer.KafkaProducer<>(
            java.util.Map.of("bootstrap.servers", kafka.bootstrapServers()),
            new org.apache.kafka.common.serialization.StringSerializer(),
            new org.apache.kafka.common.serialization.StringSerializer())) {
      for (String value : values) {
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, 0, "k", value));
      }
    }
  }

  private static int tombstonesIn(ChangeEvents events, int from, int to) {
    int n = 0;
    for (ChangeEvents.Event event : events.delivery().subList(from, to)) {
      n += event.value() == null ? 1 : 0;
    }
    return n;
  }
}
