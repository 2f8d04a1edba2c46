package dev.watershed.io.kafka;

import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.RowJson;
import java.util.ArrayList;
import java.util.List;
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

  private KafkaSink(
      String bootstrapServers,
      String topic,
      CanonicalModel model,
      String sinkName,
      PCollectionView<Boolean> gate) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.model = model;
    this.sinkName = sinkName;
    this.gate = gate;
  }

  public static KafkaSink write(String bootstrapServers, String topic, CanonicalModel model) {
    return new KafkaSink(bootstrapServers, topic, model, "kafka", null);
  }

  public KafkaSink withSinkName(String name) {
    return new KafkaSink(bootstrapServers, topic, model, name, gate);
  }

  /** Publishes only when {@code commitAllowed} is true. */
  public KafkaSink withGate(PCollectionView<Boolean> commitAllowed) {
    return new KafkaSink(bootstrapServers, topic, model, sinkName, commitAllowed);
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
    return rows.apply("ToJson", gate == null ? toJson : toJson.withSideInputs(gate))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply(
            "Publish",
            KafkaIO.<String, String>write()
                .withBootstrapServers(bootstrapServers)
                .withTopic(topic)
                .withKeySerializer(StringSerializer.class)
                .withValueSerializer(StringSerializer.class));
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
      Row out = Row.withSchema(schema).addValues(values).build();
      published.inc();
      context.output(KV.of(CanonicalModel.keyText(row, key), json.apply(out)));
    }
  }
}
