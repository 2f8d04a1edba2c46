package dev.watershed.pipelines.compose;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.RowJson;
import dev.watershed.transforms.records.RawRecords;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.io.kafka.KafkaIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Appends dead letters to one JSON lines file, each marked with the run that wrote it ({@code run}:
 * the run's start time), and counts them per stage and source ({@code dead.<stage>.<source>}) and
 * per stage and reason ({@code reason.<stage>.<reason>}). The file is never replaced: a record
 * rejected by a run whose read mark moved past it is still there for a replay after later runs,
 * blocked ones included; a replay rewrites it to hold what remains to replay.
 */
final class DeadLetterFile extends PTransform<PCollection<Row>, PDone> {
  private final String file;
  private final String run;
  private final String bootstrapServers;

  private DeadLetterFile(String file, String run, String bootstrapServers) {
    this.file = file;
    this.run = run;
    this.bootstrapServers = bootstrapServers;
  }

  /**
   * Publishes dead letters as JSON to a Kafka topic, keyed by their source and position, in batch
   * and streaming alike (at least once).
   */
  static DeadLetterFile toKafka(String bootstrapServers, String topic) {
    return new DeadLetterFile(topic, null, bootstrapServers);
  }

  /**
   * Appends each bundle's dead letters to {@code file} (JSON lines) when the bundle finishes,
   * marked with {@code run}. Dead letters of a bundle retried after a failure are appended again:
   * at least once.
   */
  static DeadLetterFile appending(String file, String run) {
    return new DeadLetterFile(file, run, null);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.addIfNotNull(DisplayData.item("file", file));
    builder.addIfNotNull(DisplayData.item("brokers", bootstrapServers));
  }

  @Override
  public PDone expand(PCollection<Row> deadLetters) {
    if (bootstrapServers != null) {
      return deadLetters
          .apply("Count", ParDo.of(new CountFn()))
          .setRowSchema(DeadLetter.SCHEMA)
          .apply("ToJson", ParDo.of(new ToJsonFn()))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
          .apply(
              "Publish",
              KafkaIO.<String, String>write()
                  .withBootstrapServers(bootstrapServers)
                  .withTopic(file)
                  .withKeySerializer(StringSerializer.class)
                  .withValueSerializer(StringSerializer.class));
    }
    String path = file.endsWith(".jsonl") ? file : file + ".jsonl";
    deadLetters
        .apply("Count", ParDo.of(new CountFn()))
        .setRowSchema(DeadLetter.SCHEMA)
        .apply("Append", ParDo.of(new AppendFn(path, run)));
    return PDone.in(deadLetters.getPipeline());
  }

  /** The field of a dead letter in the file that names the run which wrote it. */
  static final String RUN = "run";

  /** Appends the JSON lines of each bundle to one file; one writer at a time per JVM. */
  static final class AppendFn extends DoFn<Row, Void> {
    private static final Object LOCK = new Object();
    private final String path;
    private final String run;
    private transient StringBuilder lines;
    private transient RowJson json;

    AppendFn(String path, String run) {
      this.path = path;
      this.run = run;
    }

    @StartBundle
    public void start() {
      lines = new StringBuilder();
      if (json == null) {
        json = new RowJson();
      }
    }

    @ProcessElement
    public void process(@Element Row deadLetter) {
      String object = json.apply(deadLetter);
      lines.append(object, 0, object.length() - 1);
      RawRecords.appendJsonField(lines, false, RUN, run);
      lines.append("}\n");
    }

    @FinishBundle
    public void finish() throws IOException {
      if (lines.length() == 0) {
        return;
      }
      Path file = Path.of(path);
      synchronized (LOCK) {
        if (file.getParent() != null) {
          Files.createDirectories(file.getParent());
        }
        Files.writeString(
            file,
            lines,
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
      }
      lines.setLength(0);
    }
  }

  /** A dead letter as a Kafka record: key {@code source/position}, value the JSON object. */
  static final class ToJsonFn extends DoFn<Row, KV<String, String>> {
    private transient RowJson json;

    @ProcessElement
    public void process(@Element Row deadLetter, OutputReceiver<KV<String, String>> out) {
      if (json == null) {
        json = new RowJson();
      }
      out.output(
          KV.of(
              deadLetter.getString(DeadLetter.SOURCE)
                  + "/"
                  + deadLetter.getString(DeadLetter.POSITION),
              json.apply(deadLetter)));
    }
  }

  static final class CountFn extends DoFn<Row, Row> {
    @ProcessElement
    public void process(@Element Row deadLetter, OutputReceiver<Row> out) {
      String stage = deadLetter.getString(DeadLetter.STAGE);
      RunCounters.counter("dead." + stage + "." + deadLetter.getString(DeadLetter.SOURCE)).inc();
      RunCounters.counter("reason." + stage + "." + deadLetter.getString(DeadLetter.REASON)).inc();
      out.output(deadLetter);
    }
  }
}
