package dev.watershed.pipelines.compose;

import dev.watershed.transforms.deadletter.DeadLetter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;

/**
 * Writes dead letters as one JSON lines file, replaced on every run, and counts them per stage and
 * source ({@code dead.<stage>.<source>}) and per stage and reason ({@code
 * reason.<stage>.<reason>}).
 */
final class DeadLetterFile extends PTransform<PCollection<Row>, PDone> {
  private final String file;

  private DeadLetterFile(String file) {
    this.file = file;
  }

  static DeadLetterFile to(String file) {
    return new DeadLetterFile(file);
  }

  @Override
  public PDone expand(PCollection<Row> deadLetters) {
    String prefix =
        file.endsWith(".jsonl") ? file.substring(0, file.length() - ".jsonl".length()) : file;
    return deadLetters
        .apply("Count", ParDo.of(new CountFn()))
        .setRowSchema(DeadLetter.SCHEMA)
        .apply("Write", RowFiles.jsonLines(prefix));
  }

  static final class CountFn extends DoFn<Row, Row> {
    @ProcessElement
    public void process(@Element Row deadLetter, OutputReceiver<Row> out) {
      String stage = deadLetter.getString(DeadLetter.STAGE);
      Metrics.counter("watershed", "dead." + stage + "." + deadLetter.getString(DeadLetter.SOURCE))
          .inc();
      Metrics.counter(
              "watershed", "reason." + stage + "." + deadLetter.getString(DeadLetter.REASON))
          .inc();
      out.output(deadLetter);
    }
  }
}
