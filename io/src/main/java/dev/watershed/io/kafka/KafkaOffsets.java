package dev.watershed.io.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Offsets of a topic's partitions, as a plain map from partition number to offset. */
public final class KafkaOffsets {
  private KafkaOffsets() {}

  static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers) {
    return consumer(bootstrapServers, DEFAULT_TIMEOUT);
  }

  /** How long an offsets request may take, retries included, unless the caller says otherwise. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, Duration timeout) {
    return new KafkaConsumer<>(
        Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG,
            5000,
            ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            (int) timeout.toMillis()),
        new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  private static List<TopicPartition> partitions(
      KafkaConsumer<byte[], byte[]> consumer, String topic, Duration timeout) {
    List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
    if (infos == null || infos.isEmpty()) {
      throw new IllegalArgumentException("Kafka topic '" + topic + "' does not exist");
    }
    List<TopicPartition> partitions = new ArrayList<>();
    for (PartitionInfo info : infos) {
      partitions.add(new TopicPartition(topic, info.partition()));
    }
    return partitions;
  }

  /** The next offset to be written in each partition: a bounded read ends here. */
  public static Map<Integer, Long> end(String bootstrapServers, String topic) {
    return end(bootstrapServers, topic, DEFAULT_TIMEOUT);
  }

  /** As {@link #end(String, String)}, waiting at most {@code timeout} for the brokers. */
  public static Map<Integer, Long> end(String bootstrapServers, String topic, Duration timeout) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrapServers, timeout)) {
      Map<Integer, Long> out = new TreeMap<>();
      consumer
          .endOffsets(partitions(consumer, topic, timeout), timeout)
          .forEach((tp, offset) -> out.put(tp.partition(), offset));
      return out;
    }
  }

  /** The first offset still held in each partition: a first bounded read starts here. */
  public static Map<Integer, Long> beginning(
      String bootstrapServers, String topic, Duration timeout) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrapServers, timeout)) {
      Map<Integer, Long> out = new TreeMap<>();
      consumer
          .beginningOffsets(partitions(consumer, topic, timeout), timeout)
          .forEach((tp, offset) -> out.put(tp.partition(), offset));
      return out;
    }
  }

  /** The offsets consumer group {@code group} committed for {@code topic}, by partition. */
  public static Map<Integer, Long> committed(String bootstrapServers, String topic, String group) {
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      Map<TopicPartition, OffsetAndMetadata> offsets =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      Map<Integer, Long> out = new TreeMap<>();
      offsets.forEach(
          (tp, offset) -> {
            if (tp.topic().equals(topic) && offset != null) {
              out.put(tp.partition(), offset.offset());
            }
          });
      return out;
    } catch (ExecutionException e) {
      throw new IllegalStateException("could not read offsets of group " + group, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading offsets of group " + group, e);
    }
  }

  /** Records not yet committed by {@code group}: the sum over partitions of end minus committed. */
  public static long lag(String bootstrapServers, String topic, String group) {
    Map<Integer, Long> end = end(bootstrapServers, topic);
    Map<Integer, Long> committed = committed(bootstrapServers, topic, group);
    long lag = 0;
    for (Map.Entry<Integer, Long> partition : end.entrySet()) {
      lag += partition.getValue() - committed.getOrDefault(partition.getKey(), 0L);
    }
    return lag;
  }

  /** Offsets as the text kept in {@code _watershed_state}: {@code 0:17,1:4}. */
  public static String format(Map<Integer, Long> offsets) {
    StringBuilder text = new StringBuilder();
    offsets.forEach(
        (partition, offset) ->
            text.append(text.length() == 0 ? "" : ",")
                .append(partition)
                .append(':')
                .append(offset));
    return text.toString();
  }

  /** Parses {@link #format}'s text. */
  public static Map<Integer, Long> parse(String text) {
    Map<Integer, Long> out = new TreeMap<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String part : text.split(",")) {
      String[] pair = part.split(":");
      out.put(Integer.parseInt(pair[0].trim()), Long.parseLong(pair[1].trim()));
    }
    return out;
  }
}
