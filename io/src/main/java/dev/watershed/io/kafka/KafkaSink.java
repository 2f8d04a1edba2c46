package dev.watershed.io.kafka;

import dev.watershed.io.sync.RecordLedger;
import dev.watershed.io.sync.SyncLedger;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.RowJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Publishes model rows to a Kafka topic as JSON values keyed by the model key, so other systems can
 * consume the conformed data. Rows of a change stream carry {@code _version} and {@code _deleted},
 * so consumers can apply them in order.
 *
 * <p>Kafka has no transaction that spans a batch run's other loads: with a gate, rows are held
 * until the gate opens and dropped when it stays shut, so a run stopped by quality rules publishes
 * nothing. Delivery is at least once (a retried bundle publishes again); consumers dedupe by key
 * and {@code _version}. Counter: {@code load.<sink>.<model>}.
 */
public final class KafkaSink extends PTransform<PCollection<Row>, PDone> {
  private final String bootstrapServers;
  private final String topic;
  private final CanonicalModel model;
  private final String sinkName;
  private final PCollectionView<Boolean> gate;
  private final SyncLedger ledger;

  private KafkaSink(
      String bootstrapServers,
      String topic,
      CanonicalModel model,
      String sinkName,
      PCollectionView<Boolean> gate,
      SyncLedger ledger) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.model = model;
    this.sinkName = sinkName;
    this.gate = gate;
    this.ledger = ledger;
  }

  public static KafkaSink write(String bootstrapServers, String topic, CanonicalModel model) {
    return new KafkaSink(bootstrapServers, topic, model, "kafka", null, null);
  }

  public KafkaSink withSinkName(String name) {
    return new KafkaSink(bootstrapServers, topic, model, name, gate, ledger);
  }

  /** Publishes only when {@code commitAllowed} is true. */
  public KafkaSink withGate(PCollectionView<Boolean> commitAllowed) {
    return new KafkaSink(bootstrapServers, topic, model, sinkName, commitAllowed, ledger);
  }

  /**
   * Records in {@code ledger} what the brokers acknowledged (all in-sync replicas), for a
   * diff-based sync ({@link dev.watershed.io.sync.SyncDiff}): each worker's messages are flushed at
   * the end of its bundle, and the ledger is written once every bundle is acknowledged.
   */
  public KafkaSink withLedger(SyncLedger ledger) {
    return new KafkaSink(bootstrapServers, topic, model, sinkName, gate, ledger);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("topic", topic));
    builder.add(DisplayData.item("key", String.join(", ", model.key())));
  }

  @Override
  public PDone expand(PCollection<Row> rows) {
    Schema published = Schema.builder().addFields(model.loadFields()).build();
    ParDo.SingleOutput<Row, KV<String, String>> toJson =
        ParDo.of(new ToJsonFn(model.key(), published, gate, sinkName + "." + model.name()));
    PCollection<KV<String, String>> messages =
        rows.apply("ToJson", gate == null ? toJson : toJson.withSideInputs(gate))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()));
    if (ledger == null) {
      return messages.apply(
          "Publish",
          KafkaIO.<String, String>write()
              .withBootstrapServers(bootstrapServers)
              .withTopic(topic)
              .withKeySerializer(StringSerializer.class)
              .withValueSerializer(StringSerializer.class));
    }
    PCollection<Void> acknowledged =
        messages.apply("Publish", ParDo.of(new PublishFn(bootstrapServers, topic)));
    rows.apply("Ledger", RecordLedger.after(acknowledged, ledger, model, gate));
    return PDone.in(rows.getPipeline());
  }

  /**
   * Publishes with acks=all and idempotence, and fails the bundle unless every message of it was
   * acknowledged when it ends.
   */
  private static final class PublishFn extends DoFn<KV<String, String>, Void> {
    private final String bootstrapServers;
    private final String topic;
    private transient KafkaProducer<String, String> producer;
    private transient AtomicReference<Exception> failed;

    PublishFn(String bootstrapServers, String topic) {
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
    }

    @Setup
    public void setup() {
      Properties properties = new Properties();
      properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      properties.put(ProducerConfig.ACKS_CONFIG, "all");
      properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      producer = new KafkaProducer<>(properties, new StringSerializer(), new StringSerializer());
      failed = new AtomicReference<>();
    }

    @ProcessElement
    public void process(@Element KV<String, String> message) {
      producer.send(
          new ProducerRecord<>(topic, message.getKey(), message.getValue()),
          (metadata, error) -> {
            if (error != null) {
              failed.compareAndSet(null, error);
            }
          });
    }

    @FinishBundle
    public void finish() throws Exception {
      producer.flush();
      Exception error = failed.getAndSet(null);
      if (error != null) {
        throw new IllegalStateException("publishing to " + topic + " failed: " + error, error);
      }
    }

    @Teardown
    public void teardown() {
      if (producer != null) {
        producer.close();
      }
    }
  }

  private static final class ToJsonFn extends DoFn<Row, KV<String, String>> {
    private final List<String> key;
    private final Schema schema;
    private final PCollectionView<Boolean> gate;
    private final Counter published;
    private transient RowJson json;

    ToJsonFn(List<String> key, Schema schema, PCollectionView<Boolean> gate, String name) {
      this.key = key;
      this.schema = schema;
      this.gate = gate;
      this.published = RunCounters.counter("load." + name);
    }

    @ProcessElement
    public void process(@Element Row row, ProcessContext context) {
      if (gate != null && !context.sideInput(gate)) {
        return;
      }
      if (json == null) {
        json = new RowJson();
      }
      List<Object> values = new ArrayList<>(schema.getFieldCount());
      for (Schema.Field field : schema.getFields()) {
        values.add(row.getValue(field.getName()));
      }
      // Not validated: a synced delete holds only its key (RowJson writes the rest as null).
      Row out = Row.withSchema(schema).attachValues(values);
      published.inc();
      context.output(KV.of(CanonicalModel.keyText(row, key), json.apply(out)));
    }
  }
}
