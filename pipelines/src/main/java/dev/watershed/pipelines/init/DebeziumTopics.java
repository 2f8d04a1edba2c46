package dev.watershed.pipelines.init;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.pipelines.init.StarterSpec.Column;
import dev.watershed.pipelines.init.StarterSpec.Table;
import dev.watershed.transforms.drift.SourceTypes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * What {@code watershed init} finds on a Kafka broker: the topics that hold Debezium change events
 * (JSON, with or without the converter's schema wrapper), each a table whose columns are the fields
 * of the events' row images. Types come from the events' schema where they carry one (Debezium's
 * semantic types: dates, timestamps, decimals with their precision and scale), else are inferred
 * from the sampled values; the key is the message key's fields (Debezium keys change events by the
 * table's primary key).
 */
public final class DebeziumTopics {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DebeziumTopics() {}

  /** What could not be read: the broker is unreachable or does not answer in time. */
  public static final class Unreachable extends RuntimeException {
    Unreachable(String message) {
      super(message);
    }
  }

  /**
   * The Debezium topics of the broker at {@code bootstrapServers}, or only {@code wanted} (each
   * must exist and hold change events); up to {@link Catalogs#SAMPLE} messages read per topic from
   * its beginning.
   */
  public static List<Table> read(String bootstrapServers, List<String> wanted, Duration timeout) {
    Set<String> topics = new TreeSet<>();
    Properties admin = new Properties();
    admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    admin.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    try (Admin client = Admin.create(admin)) {
      for (String topic :
          client.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        if (!topic.startsWith("_")) {
          topics.add(topic);
        }
      }
    } catch (ExecutionException | TimeoutException e) {
      throw new Unreachable(
          "cannot list the topics of the Kafka broker at "
              + bootstrapServers
              + " within "
              + timeout.toSeconds()
              + " s; check the host and port of --from");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted while listing the topics of " + bootstrapServers);
    }
    for (String want : wanted) {
      if (!topics.contains(want)) {
        throw new IllegalArgumentException(
            "no topic '" + want + "' on the broker; topics: " + String.join(", ", topics));
      }
    }
    List<Table> tables = new ArrayList<>();
    for (String topic : wanted.isEmpty() ? topics : new TreeSet<>(wanted)) {
      Sample sample = sample(bootstrapServers, topic, timeout);
      if (sample.images.isEmpty()) {
        if (!wanted.isEmpty()) {
          throw new IllegalArgumentException(
              "topic '"
                  + topic
                  + "' holds no Debezium change events ("
                  + sample.messages
                  + " messages read); init reads topics of Debezium's JSON change events");
        }
        continue;
      }
      tables.add(sample.table(bootstrapServers, topic));
    }
    return tables;
  }

  /** Up to {@link Catalogs#SAMPLE} messages of a topic, from its beginning to its end. */
  private static Sample sample(String bootstrapServers, String topic, Duration timeout) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
    Sample sample = new Sample();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic, timeout)) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (sample.messages < Catalogs.SAMPLE && !atEnd(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new Unreachable(
              "topic '"
                  + topic
                  + "' could not be read to its end within "
                  + timeout.toSeconds()
                  + " s; check the broker at "
                  + bootstrapServers);
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          if (sample.messages >= Catalogs.SAMPLE) {
            break;
          }
          sample.add(record.key(), record.value());
        }
      }
    } catch (org.apache.kafka.common.errors.TimeoutException e) {
      throw new Unreachable(
          "topic '"
              + topic
              + "' did not answer within "
              + timeout.toSeconds()
              + " s; check the"
              + " broker at "
              + bootstrapServers);
    }
    return sample;
  }

  private static boolean atEnd(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> partition : end.entrySet()) {
      if (consumer.position(partition.getKey()) < partition.getValue()) {
        return false;
      }
    }
    return true;
  }

  /** The row images, keys and schema types of a topic's sampled change events. */
  private static final class Sample {
    int messages;
    final List<Map<String, String>> images = new ArrayList<>();

    /** Per image: the message key's text (a scalar key) or null. */
    final List<String> scalarKeys = new ArrayList<>();

    final List<String> keyFields = new ArrayList<>();
    final Map<String, JsonNode> schemaFields = new HashMap<>();
    final Set<String> columns = new java.util.LinkedHashSet<>();

    void add(byte[] key, byte[] value) {
      messages++;
      JsonNode node = parse(value);
      if (node == null || !node.isObject()) {
        return;
      }
      boolean wrapped = node.has("schema") && node.has("payload");
      JsonNode event = wrapped ? node.get("payload") : node;
      if (event == null || !event.isObject() || !event.path("op").isTextual()) {
        return;
      }
      String op = event.get("op").asText();
      JsonNode image =
          switch (op) {
            case "c", "r", "u" -> event.get("after");
            case "d" -> event.get("before");
            default -> null;
          };
      if (image == null || !image.isObject()) {
        return;
      }
      if (wrapped) {
        for (JsonNode part : node.get("schema").path("fields")) {
          String field = part.path("field").asText();
          if (field.equals("after") || field.equals("before")) {
            for (JsonNode column : part.path("fields")) {
              schemaFields.putIfAbsent(column.path("field").asText(), column);
            }
          }
        }
      }
      Map<String, String> values = new LinkedHashMap<>();
      image
          .fields()
          .forEachRemaining(
              field -> {
                JsonNode v = field.getValue();
                values.put(
                    field.getKey(),
                    v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString());
              });
      columns.addAll(values.keySet());
      images.add(values);
      JsonNode keyNode = parse(key);
      if (keyNode != null && keyNode.isObject()) {
        JsonNode fields =
            keyNode.has("schema") && keyNode.has("payload") ? keyNode.get("payload") : keyNode;
        if (keyFields.isEmpty() && fields.isObject()) {
          fields.fieldNames().forEachRemaining(keyFields::add);
        }
        scalarKeys.add(null);
      } else {
        scalarKeys.add(key == null ? null : new String(key, StandardCharsets.UTF_8).strip());
      }
    }

    Table table(String bootstrapServers, String topic) {
      List<String> header = new ArrayList<>(columns);
      List<List<String>> rows = new ArrayList<>();
      for (Map<String, String> image : images) {
        List<String> row = new ArrayList<>();
        for (String column : header) {
          row.add(image.get(column));
        }
        rows.add(row);
      }
      List<Column> out = new ArrayList<>();
      int misfits = 0;
      for (int i = 0; i < header.size(); i++) {
        JsonNode declared = schemaFields.get(header.get(i));
        String type;
        if (declared != null) {
          type = connectType(declared);
        } else {
          // A source table's column holds one type: the few values that are text among numbers,
          // dates or booleans are broken events, left to the dead letters, not a reason to type
          // the column as text.
          List<List<String>> typed = new ArrayList<>();
          for (List<String> row : rows) {
            if (!SourceTypes.infer(row.get(i)).equals("string")) {
              typed.add(row);
            }
          }
          boolean fewText = !typed.isEmpty() && rows.size() - typed.size() <= rows.size() / 100;
          type = Catalogs.sampledType(fewText ? typed : rows, i);
          if (fewText) {
            misfits += rows.size() - typed.size();
          }
        }
        boolean nullable = declared == null || declared.path("optional").asBoolean(true);
        out.add(new Column(header.get(i), type, nullable));
      }
      List<String> key = new ArrayList<>();
      for (String field : keyFields) {
        if (columns.contains(field)) {
          key.add(field);
        }
      }
      if (key.isEmpty() || key.size() != keyFields.size()) {
        key.clear();
        String matching = columnEqualToKey(header);
        if (matching != null) {
          key.add(matching);
        }
      }
      Map<String, String> source = new LinkedHashMap<>();
      source.put("bootstrap_servers", StarterSpec.quoted(bootstrapServers));
      source.put("topic", StarterSpec.quoted(topic));
      source.put("format", "debezium-json");
      return new Table(
          topic,
          "kafka",
          source,
          out,
          key,
          List.of(),
          (key.isEmpty()
                  ? "the messages' keys name no column of the events: the first column is taken"
                      + " as the key; check it"
                  : "the key is the change events' message key (the source table's primary key)")
              + (misfits == 0
                  ? ""
                  : "\n    # "
                      + (misfits == 1
                          ? "1 sampled value does not fit its column's type"
                          : misfits + " sampled values do not fit their column's type")
                      + ": such events go to the dead letters"));
    }

    /**
     * The column whose value is the message key's text in nearly every sampled event (a key written
     * as a plain value, not a JSON object); null when there is none.
     */
    private String columnEqualToKey(List<String> header) {
      for (String column : header) {
        int equal = 0;
        int keyed = 0;
        for (int i = 0; i < images.size(); i++) {
          String key = scalarKeys.get(i);
          if (key == null) {
            continue;
          }
          keyed++;
          if (key.equals(images.get(i).get(column))) {
            equal++;
          }
        }
        if (keyed > 0 && equal >= keyed * 0.95) {
          return column;
        }
      }
      return null;
    }
  }

  /**
   * The model type of a Kafka Connect field as Debezium's JSON converter describes it: by its
   * semantic type name where it has one, else by its schema type.
   */
  static String connectType(JsonNode field) {
    String name = field.path("name").asText("");
    switch (name) {
      case "io.debezium.time.Date":
      case "org.apache.kafka.connect.data.Date":
        return "date";
      case "io.debezium.time.Timestamp":
      case "io.debezium.time.MicroTimestamp":
      case "io.debezium.time.NanoTimestamp":
      case "io.debezium.time.ZonedTimestamp":
      case "org.apache.kafka.connect.data.Timestamp":
        return "timestamp";
      case "org.apache.kafka.connect.data.Decimal":
        int scale = field.path("parameters").path("scale").asInt(0);
        int precision = field.path("parameters").path("connect.decimal.precision").asInt(38);
        precision = Math.max(1, Math.min(38, precision));
        return "decimal(" + precision + "," + Math.min(scale, precision) + ")";
      case "io.debezium.data.VariableScaleDecimal":
        return "decimal(38,9)";
      default:
        if (!name.isEmpty()) {
          return "string";
        }
    }
    return switch (field.path("type").asText("")) {
      case "int8", "int16", "int32" -> "int";
      case "int64" -> "long";
      case "float", "float32", "double", "float64" -> "decimal(38,9)";
      case "boolean" -> "boolean";
      default -> "string";
    };
  }

  private static JsonNode parse(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return JSON.readTree(bytes);
    } catch (IOException notJson) {
      return null;
    }
  }
}
