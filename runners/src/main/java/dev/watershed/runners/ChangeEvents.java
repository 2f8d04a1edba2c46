package dev.watershed.runners;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A seeded history of Debezium change events for a PostgreSQL table ({@code public.customers} of
 * the CRM or {@code public.accounts} of billing), for the streaming demo and the tests, together
 * with the table's final state that applying the history must reach.
 *
 * <p>The history has inserts, updates, deletes (each followed by a tombstone) and primary-key
 * changes (a delete of the old key and an insert of the new one). The delivery order is not the
 * source order: some events are delivered late (after newer events of the same key), some twice,
 * and a few poison messages are mixed in (not JSON, an unknown op, no {@code after} image, a key
 * that is not a number). Each event's {@code source.lsn} is its position in the source log.
 */
final class ChangeEvents {
  /** One Kafka record: key and value as text; a null value is a tombstone. */
  record Event(String key, String value) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] STATUSES = {"active", "trial", "paused", "churned"};
  private static final String[] NAMES = {
    "Ada", "Ben", "Chloe", "Dev", "Ema", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena"
  };

  /** The source tables a history can be of. */
  enum Table {
    /** {@code public.customers} (id, name, email, status) of the CRM. */
    CUSTOMERS("crm", "customers"),
    /** {@code public.accounts} (id, customer_id, plan, balance) of the billing system. */
    ACCOUNTS("billing", "accounts");

    final String db;
    final String name;

    Table(String db, String name) {
      this.db = db;
      this.name = name;
    }

    Map<String, Object> row(Random random, long id) {
      Map<String, Object> row = new TreeMap<>();
      row.put("id", id);
      if (this == CUSTOMERS) {
        row.put(
            "name", NAMES[random.nextInt(NAMES.length)] + " " + (char) ('A' + random.nextInt(26)));
        row.put("email", "c" + id + "@example.com");
        row.put("status", STATUSES[random.nextInt(STATUSES.length)]);
      } else {
        row.put("customer_id", 1 + random.nextInt(1000));
        row.put("plan", PLANS[random.nextInt(PLANS.length)]);
        row.put("balance", random.nextInt(100_000) / 100.0);
      }
      return row;
    }

    void change(Random random, Map<String, Object> row) {
      long id = (Long) row.get("id");
      if (this == CUSTOMERS) {
        row.put("status", STATUSES[random.nextInt(STATUSES.length)]);
        if (random.nextBoolean()) {
          row.put("email", "c" + id + "." + random.nextInt(1000) + "@example.com");
        }
      } else {
        row.put("balance", random.nextInt(100_000) / 100.0);
        if (random.nextBoolean()) {
          row.put("plan", PLANS[random.nextInt(PLANS.length)]);
        }
      }
    }
  }

  private static final String[] PLANS = {"free", "pro", "team", "enterprise"};

  private final Table table;
  private final List<Event> delivery = new ArrayList<>();
  private final Map<Long, Map<String, Object>> finalRows = new TreeMap<>();
  private final Map<Long, Long> deletedAt = new TreeMap<>();
  private int poison;
  private int late;
  private int duplicates;

  private ChangeEvents(Table table) {
    this.table = table;
  }

  /** A history of {@code public.customers} touching about {@code customers} keys. */
  static ChangeEvents generate(long seed, int customers) {
    return generate(Table.CUSTOMERS, seed, customers);
  }

  /** A history of {@code table} touching about {@code keys} keys. */
  static ChangeEvents generate(Table table, long seed, int keys) {
    ChangeEvents events = new ChangeEvents(table);
    events.build(new Random(seed), keys);
    return events;
  }

  List<Event> delivery() {
    return Collections.unmodifiableList(delivery);
  }

  /** The rows the table holds at the end, by id: column name to value. */
  Map<Long, Map<String, Object>> finalRows() {
    return finalRows;
  }

  /** Ids deleted at the end of the history, with the time of the delete (epoch millis). */
  Map<Long, Long> deleted() {
    return deletedAt;
  }

  int poison() {
    return poison;
  }

  int late() {
    return late;
  }

  int duplicates() {
    return duplicates;
  }

  private void build(Random random, int customers) {
    List<Event> source = new ArrayList<>();
    Map<Long, Map<String, Object>> current = new TreeMap<>();
    long lsn = 1_000_000;
    long ts = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    long nextId = 1;
    int changes = customers * 3;
    for (int i = 0; i < changes; i++) {
      lsn += 8 + random.nextInt(64);
      ts += 1000 + random.nextInt(4000);
      int dice = random.nextInt(100);
      if (current.isEmpty() || dice < 34 || nextId <= customers / 2) {
        long id = nextId++;
        Map<String, Object> row = table.row(random, id);
        current.put(id, row);
        source.add(event("c", null, row, lsn, ts, id));
      } else {
        List<Long> ids = new ArrayList<>(current.keySet());
        long id = ids.get(random.nextInt(ids.size()));
        Map<String, Object> before = current.get(id);
        if (dice < 80) {
          Map<String, Object> after = new TreeMap<>(before);
          table.change(random, after);
          current.put(id, after);
          source.add(event("u", before, after, lsn, ts, id));
        } else if (dice < 93) {
          current.remove(id);
          source.add(event("d", before, null, lsn, ts, id));
          source.add(new Event(Long.toString(id), null));
          deletedAt.put(id, ts);
        } else {
          // The primary key changes: Debezium emits a delete of the old key and a create.
          long newId = nextId++;
          Map<String, Object> after = new TreeMap<>(before);
          after.put("id", newId);
          current.remove(id);
          source.add(event("d", before, null, lsn, ts, id));
          source.add(new Event(Long.toString(id), null));
          deletedAt.put(id, ts);
          lsn += 1;
          current.put(newId, after);
          source.add(event("c", null, after, lsn, ts, newId));
        }
      }
      // A key deleted and not re-created stays deleted; one created again is live.
      for (Long id : current.keySet()) {
        deletedAt.remove(id);
      }
    }
    finalRows.putAll(current);
    // Delivery: late events (moved after a newer one), duplicates, poison.
    List<Event> out = new ArrayList<>(source);
    for (int i = 0; i < out.size() / 15; i++) {
      // Deliver an event after the next change of the same key.
      int at = random.nextInt(out.size());
      Event early = out.get(at);
      if (early.value() == null) {
        continue;
      }
      for (int j = at + 1; j < Math.min(out.size(), at + 200); j++) {
        if (out.get(j).key().equals(early.key()) && out.get(j).value() != null) {
          out.remove(at);
          out.add(j, early);
          late++;
          break;
        }
      }
    }
    for (int i = 0; i < out.size() / 20; i++) {
      Event again = out.get(random.nextInt(out.size()));
      if (again.value() != null) {
        out.add(Math.min(out.size(), random.nextInt(out.size()) + 1), again);
        duplicates++;
      }
    }
    String[] poisons = {
      "this is not json",
      "{\"payload\": {\"op\": \"x\", \"after\": {\"id\": 1}}, \"schema\": {}}",
      "{\"op\": \"u\", \"before\": null, \"after\": null, \"source\": {\"lsn\": 5}}",
      "{\"op\": \"c\", \"after\": {\"id\": \"not-a-number\", \"name\": \"X\"}, \"source\": {\"lsn\": 7}}"
    };
    for (String value : poisons) {
      out.add(random.nextInt(out.size()), new Event("poison", value));
      poison++;
    }
    delivery.addAll(out);
  }

  private Event event(
      String op,
      Map<String, Object> before,
      Map<String, Object> after,
      long lsn,
      long ts,
      long id) {
    ObjectNode payload = JSON.createObjectNode();
    payload.set("before", before == null ? null : JSON.valueToTree(before));
    payload.set("after", after == null ? null : JSON.valueToTree(after));
    payload.put("op", op);
    payload.put("ts_ms", ts + 150);
    ObjectNode source = payload.putObject("source");
    source.put("connector", "postgresql");
    source.put("db", table.db);
    source.put("schema", "public");
    source.put("table", table.name);
    source.put("lsn", lsn);
    source.put("ts_ms", ts);
    return new Event(Long.toString(id), payload.toString());
  }

  /** Publishes deliveries {@code [from, to)} to {@code topic}, keyed by id, and waits for acks. */
  void publish(String bootstrapServers, String topic, int from, int to) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true),
            new ByteArraySerializer(),
            new ByteArraySerializer())) {
      for (Event event : delivery.subList(from, to)) {
        producer.send(
            new ProducerRecord<>(
                topic,
                event.key().getBytes(StandardCharsets.UTF_8),
                event.value() == null ? null : event.value().getBytes(StandardCharsets.UTF_8)));
      }
      producer.flush();
    }
  }
}
