package dev.watershed.pipelines.sources;

import dev.watershed.io.Reachable;
import dev.watershed.io.kafka.KafkaOffsets;
import dev.watershed.io.kafka.KafkaRecords;
import dev.watershed.io.kafka.KafkaSource;
import dev.watershed.pipelines.config.ConsumedTopic;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: kafka}: a topic of JSON records or Debezium change events. */
public final class KafkaSourceType implements SourceType {
  /** How long Kafka requests may take unless the source says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = KafkaOffsets.DEFAULT_TIMEOUT;

  /**
   * A topic: {@code format} is {@code json} or {@code debezium-json}; {@code group} the consumer
   * group a streaming run commits offsets for; {@code timeout} how long a request to the brokers
   * may take, retries included, before the run fails (a busy machine needs more than a few
   * seconds).
   */
  public record Config(
      SourceBasics basics,
      String bootstrapServers,
      String topic,
      String format,
      String group,
      Duration timeout)
      implements SourceConfig {
    @Override
    public DatasetName datasetName(Spec spec) {
      return DatasetName.kafka(bootstrapServers, topic);
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      KafkaSource read =
          KafkaSource.read(name(), bootstrapServers, topic, KafkaRecords.Format.named(format))
              .withColumns(context.columns());
      if (context.spec().isStreaming()) {
        return read.unbounded(group);
      }
      ReadRange range = context.range();
      return range == null
          ? read.withRanges(Map.of(), Map.of())
          : read.withRanges(KafkaOffsets.parse(range.from()), KafkaOffsets.parse(range.to()));
    }

    @Override
    public void checkReachable(Spec spec, String where) {
      Reachable.kafka(where, bootstrapServers, timeout);
    }

    @Override
    public ConsumedTopic consumedTopic() {
      return new ConsumedTopic(bootstrapServers, topic, group);
    }

    @Override
    public boolean readsInPart() {
      return true;
    }

    @Override
    public boolean isStream() {
      return true;
    }

    @Override
    public boolean isChangeStream() {
      return format.equals("debezium-json");
    }

    @Override
    public String firstMark() {
      return KafkaOffsets.format(KafkaOffsets.beginning(bootstrapServers, topic, timeout));
    }

    @Override
    public String currentMark() {
      return KafkaOffsets.format(KafkaOffsets.end(bootstrapServers, topic, timeout));
    }

    /** Offsets between the marks, summed over the partitions. */
    @Override
    public long pending(ReadRange range) {
      long pending = 0;
      Map<Integer, Long> from = KafkaOffsets.parse(range.from());
      for (Map.Entry<Integer, Long> end : KafkaOffsets.parse(range.to()).entrySet()) {
        pending += end.getValue() - from.getOrDefault(end.getKey(), 0L);
      }
      return pending;
    }
  }

  @Override
  public String name() {
    return "kafka";
  }

  @Override
  public String description() {
    return "a Kafka topic of JSON records or Debezium change events";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("bootstrap_servers", "the brokers, host:port[,host:port...]"),
        Key.string("topic", "the topic to read"),
        Key.oneOf(
            "format",
            "json: one record per message (default); debezium-json: change events",
            "json",
            "debezium-json"),
        Key.string("group", "the consumer group of a streaming run (default watershed-<source>)"),
        Key.duration("timeout", "how long a request to the brokers may take (default 30s)"));
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    String format = block.string("format", "json");
    if (!format.equals("json") && !format.equals("debezium-json")) {
      block.error("format", "unknown format '" + format + "'; allowed: debezium-json, json");
    }
    return new Config(
        basics,
        block.string("bootstrap_servers", true),
        block.string("topic", true),
        format,
        block.string("group", "watershed-" + basics.name()),
        block.duration("timeout", DEFAULT_TIMEOUT));
  }
}
