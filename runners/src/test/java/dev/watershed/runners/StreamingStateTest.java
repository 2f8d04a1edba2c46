package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stream with many keys on embedded Flink: the dedupe's per-key state outgrows what a checkpoint
 * held in the JobManager's memory may hold (5 MB), and checkpoints still complete, so offsets are
 * committed and every event is loaded once. (With checkpoints in memory, every checkpoint failed
 * once the state passed 5 MB; the job restarted from the last good one, now three times at most
 * before the run fails with the cause.)
 */
class StreamingStateTest {
  private static final int EVENTS = 200_000;
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

  @Test
  void aStreamWithManyKeysCheckpointsAndLoadsEveryEventOnce() throws Exception {
    kafka.createTopic("many.keys", 2);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", kafka.bootstrapServers(), "linger.ms", "5"),
            new StringSerializer(),
            new StringSerializer())) {
      for (int id = 0; id < EVENTS; id++) {
        producer.send(
            new ProducerRecord<>(
                "many.keys",
                Integer.toString(id),
                "{\"id\": "
                    + id
                    + ", \"email\": \"Person"
                    + id
                    + "@Example.com\", \"note\": \""
                    + "a note that makes each key's state two hundred bytes or more. ".repeat(3)
                    + "\"}"));
      }
    }
    Path warehouse = folder.resolve("stream.duckdb");
    Path spec = folder.resolve("stream.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: many_keys",
            "mode: streaming",
            "streaming: { checkpoint_every: 1s, state_ttl: 1h }",
            "sources:",
            "  events: { type: kafka, bootstrap_servers: \""
                + kafka.bootstrapServers()
                + "\", topic: many.keys, format: json }",
            "models:",
            "  event:",
            "    key: [id]",
            "    fields: { id: long, email: string, note: string }",
            "conform:",
            "  - from: events",
            "    to: event",
            "    fields: { id: id, email: { from: email, normalize: lower }, note: note }",
            "sinks:",
            "  warehouse: { type: duckdb, path: " + warehouse + " }",
            "dead_letter: { path: " + folder.resolve("dead") + " }",
            ""));
    Cli cli = new Cli(folder);
    assertEquals(
        Watershed.OK, cli.run("run", spec.toString(), "--stop-when-idle=4s"), cli.output());
    assertEquals(
        List.of("rows,ids", EVENTS + "," + EVENTS),
        Warehouse.csv(
            JdbcEndpoint.of("jdbc:duckdb:" + warehouse),
            "SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM event"));
    assertTrue(
        cli.stdout().matches("(?s).*offsets committed " + EVENTS + ", lag 0.*"), cli.output());
  }
}
