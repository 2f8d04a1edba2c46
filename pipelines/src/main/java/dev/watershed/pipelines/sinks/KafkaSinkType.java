package dev.watershed.pipelines.sinks;

import dev.watershed.io.Reachable;
import dev.watershed.io.WriteMode;
import dev.watershed.io.kafka.KafkaOffsets;
import dev.watershed.io.kafka.KafkaSink;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SyncSpec;
import dev.watershed.pipelines.config.YamlObject;
import java.util.List;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: kafka}: a topic per model, JSON values keyed by the model key. */
public final class KafkaSinkType implements SinkType {
  /** Topics on {@code bootstrapServers}; {@code topic} may hold {@code {model}}. */
  public record Config(SinkBasics basics, String bootstrapServers, String topic, SyncSpec sync)
      implements SinkConfig {
    /** The topic {@code model} is written to. */
    public String topicOf(String model) {
      return topic.replace("{model}", model);
    }

    @Override
    public DatasetName datasetName(Spec spec, String model) {
      return DatasetName.kafka(bootstrapServers, topic);
    }

    @Override
    public void checkReachable(Spec spec, String where) {
      Reachable.kafka(where, bootstrapServers, KafkaOffsets.DEFAULT_TIMEOUT);
    }

    @Override
    public boolean streams() {
      return true;
    }

    /**
     * A synced topic carries the diff as changes: consumers see {@code _version}, {@code _deleted}.
     */
    @Override
    public boolean syncsAsChanges() {
      return true;
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      String topic = topicOf(context.model().name());
      KafkaSink sink =
          KafkaSink.write(bootstrapServers, topic, context.model()).withSinkName(name());
      if (context.ledger() != null) {
        sink = sink.withLedger(context.ledger());
      }
      rows.apply(step, context.gate() == null ? sink : sink.withGate(context.gate()));
      return null;
    }
  }

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public String description() {
    return "a Kafka topic per model, JSON keyed by the model key";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("bootstrap_servers", "the brokers, host:port[,host:port...]"),
        Key.string("topic", "the topic; {model} is replaced by the model's name (default {model})"),
        SyncSpec.key());
  }

  @Override
  public WriteMode defaultMode() {
    return WriteMode.APPEND;
  }

  @Override
  public List<WriteMode> modes() {
    return List.of(WriteMode.APPEND, WriteMode.OVERWRITE);
  }

  @Override
  public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
    return new Config(
        basics,
        block.string("bootstrap_servers", true),
        block.string("topic", "{model}"),
        SyncSpec.parse(block));
  }
}
