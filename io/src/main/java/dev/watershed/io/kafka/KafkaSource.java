package dev.watershed.io.kafka;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.io.kafka.KafkaRecord;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads a Kafka topic into raw rows ({@link KafkaRecords}), either a fixed range of offsets per
 * partition (batch and micro-batch: {@link #withRanges}) or without end (streaming: {@link
 * #unbounded}).
 *
 * <p>Bounded reads take the offsets to read from the caller, who keeps them with the data it loads
 * ({@link dev.watershed.io.jdbc.RunState}); nothing is committed to Kafka. Unbounded reads use a
 * consumer group and commit its offsets only when a checkpoint is finalized, so a restarted job
 * resumes at the last checkpoint and the records after it are read again, which idempotent sinks
 * absorb.
 *
 * <p>Records that cannot be read go to the failures output with topic, partition and offset;
 * tombstones (null values) are counted ({@code source.<name>.tombstones}) and skipped.
 */
public final class KafkaSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  private final String sourceName;
  private final String bootstrapServers;
  private final String topic;
  private final KafkaRecords.Format format;
  private final List<String> columns;
  private final Map<Integer, KV<Long, Long>> ranges;
  private final String group;

  private KafkaSource(
      String sourceName,
      String bootstrapServers,
      String topic,
      KafkaRecords.Format format,
      List<String> columns,
      Map<Integer, KV<Long, Long>> ranges,
      String group) {
    this.sourceName = sourceName;
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.format = format;
    this.columns = columns;
    this.ranges = ranges;
    this.group = group;
  }

  /** Reads {@code topic}; give either {@link #withRanges} or {@link #unbounded}. */
  public static KafkaSource read(
      String sourceName, String bootstrapServers, String topic, KafkaRecords.Format format) {
    return new KafkaSource(sourceName, bootstrapServers, topic, format, List.of(), Map.of(), null);
  }

  /** The fields (or dotted paths) of the record values (of {@code after}/{@code before}). */
  public KafkaSource withColumns(List<String> names) {
    return new KafkaSource(
        sourceName, bootstrapServers, topic, format, List.copyOf(names), ranges, group);
  }

  /** Reads offsets {@code [from, to)} of each partition. */
  public KafkaSource withRanges(Map<Integer, Long> from, Map<Integer, Long> to) {
    Map<Integer, KV<Long, Long>> next = new TreeMap<>();
    for (Map.Entry<Integer, Long> end : to.entrySet()) {
      long start = from.getOrDefault(end.getKey(), 0L);
      if (start < end.getValue()) {
        next.put(end.getKey(), KV.of(start, end.getValue()));
      }
    }
    return new KafkaSource(sourceName, bootstrapServers, topic, format, columns, next, null);
  }

  /**
   * Reads without end as consumer group {@code groupId}, from its committed offsets (the earliest
   * offsets the first time), committing offsets when checkpoints are finalized.
   */
  public KafkaSource unbounded(String groupId) {
    return new KafkaSource(sourceName, bootstrapServers, topic, format, columns, Map.of(), groupId);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    KafkaRecords records = KafkaRecords.of(sourceName, format, columns);
    TupleTag<Row> rows = new TupleTag<>("rows");
    TupleTag<Row> dead = new TupleTag<>("dead_letters");
    PCollectionTuple out;
    if (group != null) {
      out =
          input
              .apply(
                  "ReadTopic",
                  KafkaIO.<byte[], byte[]>read()
                      .withBootstrapServers(bootstrapServers)
                      .withTopic(topic)
                      .withKeyDeserializer(ByteArrayDeserializer.class)
                      .withValueDeserializer(ByteArrayDeserializer.class)
                      .withConsumerConfigUpdates(
                          Map.of(
                              ConsumerConfig.GROUP_ID_CONFIG,
                              group,
                              ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                              "earliest"))
                      .commitOffsetsInFinalize())
              .apply(
                  "ParseRecords",
                  ParDo.of(new ParseFn(records, sourceName, rows, dead))
                      .withOutputTags(rows, TupleTagList.of(dead)));
    } else {
      List<KV<Integer, KV<Long, Long>>> work = new ArrayList<>();
      ranges.forEach((partition, range) -> work.add(KV.of(partition, range)));
      out =
          input
              .apply(
                  "Partitions",
                  Create.of(work)
                      .withCoder(
                          KvCoder.of(
                              VarIntCoder.of(), KvCoder.of(VarLongCoder.of(), VarLongCoder.of()))))
              .apply("SpreadPartitions", Reshuffle.viaRandomKey())
              .apply(
                  "ReadRanges",
                  ParDo.of(
                          new ReadRangeFn(records, sourceName, bootstrapServers, topic, rows, dead))
                      .withOutputTags(rows, TupleTagList.of(dead)));
    }
    return WithFailures.Result.of(
        out.get(rows).setRowSchema(records.schema()),
        out.get(dead).setRowSchema(DeadLetter.SCHEMA));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("topic", topic));
    builder.add(DisplayData.item("format", format.specName()));
    if (group != null) {
      builder.add(DisplayData.item("group", group));
    } else if (ranges != null) {
      builder.add(DisplayData.item("offsets", ranges.toString()));
    }
  }

  /** Reads one record into the rows or the dead letters, counting what it saw. */
  private static final class Reader implements Serializable {
    private final KafkaRecords records;
    private final Counter read;
    private final Counter tombstones;

    Reader(KafkaRecords records, String sourceName) {
      this.records = records;
      this.read = RunCounters.counter("source." + sourceName + ".read");
      this.tombstones = RunCounters.counter("source." + sourceName + ".tombstones");
    }

    void accept(
        String topic,
        int partition,
        long offset,
        byte[] value,
        TupleTag<Row> rows,
        TupleTag<Row> dead,
        DoFn.MultiOutputReceiver out) {
      Row row;
      try {
        row = records.read(topic, partition, offset, value);
      } catch (KafkaRecords.Failure failure) {
        read.inc();
        out.get(dead).output(records.deadLetter(failure, topic, partition, offset, value));
        return;
      }
      if (row == null) {
        tombstones.inc();
        return;
      }
      read.inc();
      out.get(rows).output(row);
    }
  }

  private static final class ParseFn extends DoFn<KafkaRecord<byte[], byte[]>, Row> {
    private final Reader reader;
    private final TupleTag<Row> rows;
    private final TupleTag<Row> dead;

    ParseFn(KafkaRecords records, String sourceName, TupleTag<Row> rows, TupleTag<Row> dead) {
      this.reader = new Reader(records, sourceName);
      this.rows = rows;
      this.dead = dead;
    }

    @ProcessElement
    public void process(@Element KafkaRecord<byte[], byte[]> record, MultiOutputReceiver out) {
      reader.accept(
          record.getTopic(),
          record.getPartition(),
          record.getOffset(),
          record.getKV().getValue(),
          rows,
          dead,
          out);
    }
  }

  private static final class ReadRangeFn extends DoFn<KV<Integer, KV<Long, Long>>, Row> {
    private final Reader reader;
    private final String bootstrapServers;
    private final String topic;
    private final TupleTag<Row> rows;
    private final TupleTag<Row> dead;

    ReadRangeFn(
        KafkaRecords records,
        String sourceName,
        String bootstrapServers,
        String topic,
        TupleTag<Row> rows,
        TupleTag<Row> dead) {
      this.reader = new Reader(records, sourceName);
      this.bootstrapServers = bootstrapServers;
      this.topic = topic;
      this.rows = rows;
      this.dead = dead;
    }

    @ProcessElement
    public void process(@Element KV<Integer, KV<Long, Long>> range, MultiOutputReceiver out) {
      TopicPartition partition = new TopicPartition(topic, range.getKey());
      long from = range.getValue().getKey();
      long to = range.getValue().getValue();
      try (KafkaConsumer<byte[], byte[]> consumer = KafkaOffsets.consumer(bootstrapServers)) {
        consumer.assign(List.of(partition));
        consumer.seek(partition, from);
        long next = from;
        long idleSince = System.nanoTime();
        while (next < to) {
          boolean any = false;
          for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
            any = true;
            next = record.offset() + 1;
            if (record.offset() < to) {
              reader.accept(
                  topic, record.partition(), record.offset(), record.value(), rows, dead, out);
            }
          }
          // Offsets of aborted transactions or compacted records leave gaps: the position moves on.
          next = Math.max(next, consumer.position(partition));
          if (any) {
            idleSince = System.nanoTime();
          } else if (System.nanoTime() - idleSince > 120_000_000_000L) {
            throw new IllegalStateException(
                "no records from " + partition + " for 2 minutes at offset " + next + " of " + to);
          }
        }
      }
    }
  }
}
