package dev.watershed.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The streaming baseline: one thread, one {@code KafkaConsumer}; every poll is copied into a
 * temporary table with COPY and upserted into the target with one {@code INSERT ... ON CONFLICT} in
 * one transaction, then the offsets are committed. What a careful engineer writes by hand.
 *
 * <p>Usage: {@code PlainConsumerLoad BOOTSTRAP TOPIC TABLE IDLE_SECONDS}; stops once a poll has
 * returned nothing for {@code IDLE_SECONDS}.
 */
public final class PlainConsumerLoad {
  private static final List<String> FIELDS =
      List.of(
          "id",
          "customer_key",
          "first_name",
          "last_name",
          "email",
          "amount",
          "currency",
          "sent_at");

  private PlainConsumerLoad() {}

  public static void main(String[] args) throws Exception {
    String table = args[2];
    long idleMillis = Long.parseLong(args[3]) * 1000;
    ObjectMapper json = new ObjectMapper();
    String columns = String.join(", ", FIELDS) + ", _source";
    StringBuilder updates = new StringBuilder();
    for (String field : FIELDS) {
      if (!field.equals("id")) {
        updates.append(updates.length() == 0 ? "" : ", ");
        updates.append(field).append(" = EXCLUDED.").append(field);
      }
    }
    try (KafkaConsumer<String, String> consumer =
            new KafkaConsumer<>(
                Map.of(
                    "bootstrap.servers", args[0],
                    "group.id", "plain-" + args[1],
                    "auto.offset.reset", "earliest",
                    "enable.auto.commit", "false",
                    "max.poll.records", "10000"),
                new StringDeserializer(),
                new StringDeserializer());
        Connection connection = LoadBenchmark.connect()) {
      connection.setAutoCommit(false);
      try (Statement statement = connection.createStatement()) {
        statement.execute(
            "CREATE TEMPORARY TABLE stage (LIKE "
                + table
                + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
      }
      connection.commit();
      consumer.subscribe(List.of(args[1]));
      long lastData = System.currentTimeMillis();
      StringBuilder copy = new StringBuilder(1 << 20);
      while (System.currentTimeMillis() - lastData < idleMillis) {
        ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
        if (records.isEmpty()) {
          continue;
        }
        lastData = System.currentTimeMillis();
        copy.setLength(0);
        for (ConsumerRecord<String, String> record : records) {
          JsonNode event = json.readTree(record.value());
          for (String field : FIELDS) {
            String value = event.path(field).asText();
            copy.append(field.equals("email") ? value.toLowerCase(Locale.ROOT) : value)
                .append('\t');
          }
          copy.append("events\n");
        }
        CopyIn in =
            connection
                .unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn("COPY stage (" + columns + ") FROM STDIN");
        byte[] bytes = copy.toString().getBytes(StandardCharsets.UTF_8);
        in.writeToCopy(bytes, 0, bytes.length);
        in.endCopy();
        try (Statement statement = connection.createStatement()) {
          statement.execute(
              "INSERT INTO "
                  + table
                  + " ("
                  + columns
                  + ") SELECT "
                  + columns
                  + " FROM stage ON CONFLICT (id) DO UPDATE SET "
                  + updates);
        }
        connection.commit();
        consumer.commitSync();
      }
    }
  }
}
