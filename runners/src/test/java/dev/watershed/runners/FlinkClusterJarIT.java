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
 * The runnable jar on a real multi-process Flink session cluster ({@link LocalFlinkCluster}),
 * submitted as a user would: {@code java -jar watershed.jar run SPEC --flinkMaster=localhost:PORT}.
 * The customer-360 batch job must load exactly the expected tables; a streaming job must survive a
 * TaskManager killed with SIGKILL and a stop with a savepoint, ending with the PostgreSQL table
 * equal to the change history's final state.
 */
class FlinkClusterJarIT {
  private static final Path JAR = Customer360Test.ROOT.resolve("runners/target/watershed.jar");
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  @TempDir static Path clusterHome;
  @TempDir Path folder;
  private static LocalFlinkCluster cluster;
  private static LocalKafka kafka;

  @BeforeAll
  static void startCluster() throws Exception {
    assertTrue(Files.exists(JAR), JAR + " is built by mvn package before this test runs");
    kafka = LocalKafka.start();
    cluster = LocalFlinkCluster.start(clusterHome, 1);
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  /** {@code java -jar watershed.jar ARGS...} in a JVM of its own, output to {@code logName}. */
  private Process watershed(String logName, String... args) throws Exception {
    return watershedIn(folder, logName, args);
  }

  /** The same, with {@code directory} as the working folder (spec paths are relative to it). */
  private Process watershedIn(Path directory, String logName, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g"));
    command.addAll(LocalFlinkCluster.JAVA_17_OPENS);
    command.addAll(List.of("-jar", JAR.toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command)
        .directory(directory.toFile())
        .redirectErrorStream(true)
        .redirectOutput(folder.resolve(logName).toFile())
        .start();
  }

  private String log(String name) {
    try {
      return Files.readString(folder.resolve(name), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Test
  void customer360OnTheSessionClusterLoadsExactlyTheExpectedTables() throws Exception {
    Path spec = Customer360Test.spec(folder, "test-data/customer360");
    Process run =
        watershedIn(
            Customer360Test.ROOT,
            "run.log",
            "run",
            spec.toString(),
            "--flinkMaster=" + cluster.master());
    assertTrue(run.waitFor(5, TimeUnit.MINUTES), log("run.log") + cluster.logs());
    assertEquals(0, run.exitValue(), log("run.log") + cluster.logs());
    String summary = log("run.log");
    // The launcher shipped the cluster job jar built beside it, not the whole watershed.jar.
    assertTrue(
        summary.contains(
            "shipping the cluster job jar " + JAR.resolveSibling(ClusterJobJar.FILE_NAME)),
        summary);
    assertTrue(summary.contains("batch run on flink"), summary);
    assertTrue(summary.contains("reconciled"), summary);
    // The job ran on the cluster, not in the launcher's JVM.
    assertTrue(
        cluster.get("/jobs/overview").toString().contains("FINISHED"),
        cluster.get("/jobs/overview").toString());
    Path expected = Customer360Test.ROOT.resolve("test-data/customer360/expected");
    Customer360Test.assertWarehouseEqualsExpected(folder, expected);
    Customer360Test.assertGoldenIdsAreThePeople(folder, expected);
    Customer360Test.assertDeadLettersAreThePlantedOnes(folder, expected);
  }

  /**
   * The binary distribution as a user installs it: unpacked, {@code bin/watershed --version}, then
   * customer-360 submitted from it to the cluster, which ships lib/'s jars less Flink's and the
   * client's (the cluster has only Flink) and loads exactly the expected tables.
   */
  @Test
  void theDistributionRunsCustomer360OnTheCluster() throws Exception {
    Path tarball;
    try (var built = Files.list(JAR.getParent())) {
      tarball =
          built
              .filter(
                  p -> p.getFileName().toString().matches("watershed-.*-linux-x86_64\\.tar\\.gz"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("mvn package builds the distribution"));
    }
    Path installed = folder.resolve("installed");
    Files.createDirectories(installed);
    untar(tarball, installed);
    Path home;
    try (var entries = Files.list(installed)) {
      home = entries.findFirst().orElseThrow();
    }
    for (String part :
        List.of(
            "bin/watershed", "lib", "lib/duckdb/linux_amd64", "examples", "LICENSE", "NOTICE")) {
      assertTrue(Files.exists(home.resolve(part)), part + " in " + home);
    }
    assertTrue(Files.isExecutable(home.resolve("bin/watershed")));
    Process version = distribution(home, Customer360Test.ROOT, "version.log", "--version");
    assertTrue(version.waitFor(2, TimeUnit.MINUTES), log("version.log"));
    assertEquals(0, version.exitValue(), log("version.log"));
    assertTrue(log("version.log").contains("flink     1.19."), log("version.log"));

    // The Google Cloud clients are an add-on: without it a BigQuery sink says how to get it; with
    // it unpacked over the distribution they are on the class path (and the run gets as far as
    // the network or the credentials).
    try (var lib = Files.list(home.resolve("lib"))) {
      assertTrue(
          lib.noneMatch(jar -> jar.getFileName().toString().matches("(google-|grpc-|gax-).*")),
          "no Google Cloud clients in lib/");
    }
    Path bigQuery = folder.resolve("bq");
    Files.createDirectories(bigQuery);
    Files.writeString(bigQuery.resolve("people.csv"), "id,email\n1,a@example.com\n");
    Files.writeString(
        bigQuery.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: people",
            "sources: { people: { type: csv, path: people.csv } }",
            "models: { person: { key: [id], fields: { id: long, email: string } } }",
            "conform: [ { from: people, to: person, fields: { id: id, email: email } } ]",
            "sinks: { bq: { type: bigquery, project: acme-test, dataset: crm } }",
            ""));
    Process withoutAddOn = distribution(home, bigQuery, "bq.log", "run", "spec.yaml");
    assertTrue(withoutAddOn.waitFor(2, TimeUnit.MINUTES), log("bq.log"));
    assertEquals(Watershed.FAILED, withoutAddOn.exitValue(), log("bq.log"));
    assertTrue(
        log("bq.log").contains("unpack the Google Cloud add-on (watershed-<version>-gcp.tar.gz)"),
        log("bq.log"));
    Path addOn = Path.of(tarball.toString().replace("-linux-x86_64.tar.gz", "-gcp.tar.gz"));
    untar(addOn, installed);
    assertTrue(
        Files.exists(
            home.resolve(
                "lib/gcp/beam-sdks-java-io-google-cloud-platform-"
                    + org.apache.beam.sdk.util.ReleaseInfo.getReleaseInfo().getVersion()
                    + ".jar")),
        "the add-on unpacks into lib/gcp/");
    Process withAddOn = distribution(home, bigQuery, "bq-addon.log", "run", "spec.yaml");
    assertTrue(withAddOn.waitFor(2, TimeUnit.MINUTES), log("bq-addon.log"));
    assertEquals(Watershed.FAILED, withAddOn.exitValue(), log("bq-addon.log"));
    assertFalse(log("bq-addon.log").contains("add-on"), log("bq-addon.log"));
    assertTrue(
        log("bq-addon.log").contains("cannot reach BigQuery")
            || log("bq-addon.log").contains("GOOGLE_APPLICATION_CREDENTIALS"),
        log("bq-addon.log"));

    Path spec = Customer360Test.spec(folder, "test-data/customer360");
    Process run =
        distribution(
            home,
            Customer360Test.ROOT,
            "distribution-run.log",
            "run",
            spec.toString(),
            "--flinkMaster=" + cluster.master());
    assertTrue(run.waitFor(5, TimeUnit.MINUTES), log("distribution-run.log") + cluster.logs());
    assertEquals(0, run.exitValue(), log("distribution-run.log") + cluster.logs());
    String summary = log("distribution-run.log");
    assertTrue(
        summary.matches(
            "(?s).*shipping \\d+ jars of "
                + java.util.regex.Pattern.quote(home.resolve("lib").toString())
                + ".*"),
        summary);
    assertTrue(summary.contains("batch run on flink"), summary);
    Path expected = Customer360Test.ROOT.resolve("test-data/customer360/expected");
    Customer360Test.assertWarehouseEqualsExpected(folder, expected);
    Customer360Test.assertGoldenIdsAreThePeople(folder, expected);
  }

  private static void untar(Path tarball, Path into) throws Exception {
    Process untar =
        new ProcessBuilder("tar", "xzf", tarball.toString(), "-C", into.toString())
            .inheritIO()
            .start();
    assertTrue(untar.waitFor(5, TimeUnit.MINUTES) && untar.exitValue() == 0, "tar " + tarball);
  }

  /** {@code bin/watershed} of an unpacked distribution, run in {@code directory}. */
  private Process distribution(Path home, Path directory, String logName, String... args)
      throws Exception {
    List<String> command = new ArrayList<>(List.of(home.resolve("bin/watershed").toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectErrorStream(true)
            .redirectOutput(folder.resolve(logName).toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().put("WATERSHED_JAVA_OPTS", "-Xmx2g");
    return builder.start();
  }

  // --- streaming ---------------------------------------------------------------------------

  private static String topic() {
    String topic = "crm.customers." + UUID.randomUUID().toString().substring(0, 8);
    kafka.createTopic(topic, 2);
    return topic;
  }

  /** The streaming demo's spec, reading {@code topic} into PostgreSQL schema {@code schema}. */
  private Path streamingSpec(String schema, String topic) throws Exception {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      s.execute("CREATE SCHEMA " + schema);
    }
    String text =
        StreamingDemo.spec(
                kafka.bootstrapServers(),
                folder.resolve("unused.duckdb").toString(),
                "soft",
                folder.resolve("dead-letters").toString())
            .replace("name: customer_changes", "name: " + schema)
            .replace("topic: " + StreamingDemo.TOPIC, "topic: " + topic)
            .replace("checkpoint_every: 2s", "checkpoint_every: 1s")
            .replaceAll(
                "(?s)sinks:\n.*?\ndead_letter",
                "sinks:\n  pg: { type: postgres, url: \""
                    + PG
                    + "\", user: postgres, schema: "
                    + schema
                    + ", deletes: hard }\ndead_letter");
    Path spec = folder.resolve(schema + ".yaml");
    Files.writeString(spec, text);
    return spec;
  }

  private static String compare(String table, ChangeEvents events) throws SQLException {
    return StreamingDemo.compare(
        JdbcEndpoint.of(PG).withUser("postgres"),
        table,
        events.finalRows(),
        events.deleted().keySet(),
        false);
  }

  /** Publishes the events from {@code from} on, 25 at a time, every 300 ms, on a thread. */
  private static Thread publishGradually(ChangeEvents events, String topic, int from) {
    Thread producer =
        new Thread(
            () -> {
              int size = events.delivery().size();
              for (int at = from; at < size; at += 25) {
                events.publish(kafka.bootstrapServers(), topic, at, Math.min(size, at + 25));
                try {
                  Thread.sleep(300);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
    producer.start();
    return producer;
  }

  /** Polls until the table equals the history's final state; returns the last comparison. */
  private static String awaitMatch(String table, ChangeEvents events) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    String result = compare(table, events);
    while (!result.startsWith("matches") && System.nanoTime() < deadline) {
      Thread.sleep(1000);
      result = compare(table, events);
    }
    return result;
  }

  private static long rows(String table) throws SQLException {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement();
        var result = s.executeQuery("SELECT count(*) FROM " + table)) {
      result.next();
      return result.getLong(1);
    } catch (SQLException notYetCreated) {
      return 0;
    }
  }

  @Test
  void aTaskManagerKilledMidStreamIsReplacedAndTheTableEndsExact() throws Exception {
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(17L, 400);
    events.publish(kafka.bootstrapServers(), topic, 0, events.delivery().size() / 4);
    Path spec = streamingSpec("flink_failover", topic);
    Process client =
        watershed(
            "failover.log",
            "run",
            spec.toString(),
            "--mode=streaming",
            "--flinkMaster=" + cluster.master());
    try {
      String job = cluster.awaitRunningJob();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while ((cluster.completedCheckpoints(job) == 0 || rows("flink_failover.customer") == 0)
          && System.nanoTime() < deadline) {
        Thread.sleep(250);
      }
      assertTrue(cluster.completedCheckpoints(job) > 0, cluster.logs());
      Thread producer = publishGradually(events, topic, events.delivery().size() / 4);
      Thread.sleep(2500);
      // SIGKILL the only TaskManager while events arrive; a new one takes its place.
      cluster.kill(cluster.liveTaskManager());
      long rowsAtKill = rows("flink_failover.customer");
      cluster.startTaskManager();
      producer.join();
      assertTrue(rowsAtKill > 0, "rows were loaded before the kill");
      String result = awaitMatch("flink_failover.customer", events);
      assertTrue(
          result.startsWith("matches"), result + "\n" + log("failover.log") + cluster.logs());
      assertTrue(log("failover.log").contains("shipping the cluster job jar"), log("failover.log"));
      assertTrue(cluster.restarts(job) > 0, "the job restarted after the TaskManager was lost");
      assertTrue(
          cluster.restoredFrom(job).startsWith("checkpoint "),
          "restored from a checkpoint: " + cluster.restoredFrom(job));
      cluster.cancel(job);
    } finally {
      client.destroyForcibly();
    }
  }

  @Test
  void aJobStoppedWithASavepointResumesFromItAndTheTableEndsExact() throws Exception {
    String topic = topic();
    ChangeEvents events = ChangeEvents.generate(19L, 400);
    int size = events.delivery().size();
    events.publish(kafka.bootstrapServers(), topic, 0, size / 3);
    Path spec = streamingSpec("flink_savepoint", topic);
    Process first =
        watershed(
            "savepoint-1.log",
            "run",
            spec.toString(),
            "--mode=streaming",
            "--flinkMaster=" + cluster.master());
    String savepoint;
    try {
      String job = cluster.awaitRunningJob();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (rows("flink_savepoint.customer") == 0 && System.nanoTime() < deadline) {
        Thread.sleep(250);
      }
      savepoint = cluster.stopWithSavepoint(job);
      assertTrue(first.waitFor(1, TimeUnit.MINUTES), log("savepoint-1.log"));
    } finally {
      first.destroyForcibly();
    }
    // The rest arrives while no job runs; the job resumes from the savepoint and reads it.
    events.publish(kafka.bootstrapServers(), topic, size / 3, size);
    Process second =
        watershed(
            "savepoint-2.log",
            "run",
            spec.toString(),
            "--mode=streaming",
            "--flinkMaster=" + cluster.master(),
            "--savepointPath=" + savepoint);
    try {
      String job = cluster.awaitRunningJob();
      String result = awaitMatch("flink_savepoint.customer", events);
      assertEquals("savepoint " + savepoint, cluster.restoredFrom(job));
      assertTrue(
          result.startsWith("matches"), result + "\n" + log("savepoint-2.log") + cluster.logs());
      cluster.cancel(job);
    } finally {
      second.destroyForcibly();
    }
  }
}
