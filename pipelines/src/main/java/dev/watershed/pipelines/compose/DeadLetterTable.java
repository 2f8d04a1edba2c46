package dev.watershed.pipelines.compose;

import dev.watershed.io.WriteMode;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcLoad;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.model.CanonicalModel;
import java.time.Instant;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Appends dead letters to a table in the warehouse (one row per dead letter, the columns of {@link
 * DeadLetter}), counting them as {@link DeadLetterFile} does. The load is the same all-or-nothing
 * append as any other table load; dead letters are recorded even when a quality gate stops the data
 * loads.
 */
final class DeadLetterTable extends PTransform<PCollection<Row>, PCollection<Long>> {
  /** Dead letters as a model, so that the table load creates and fills the table. */
  static final CanonicalModel MODEL =
      CanonicalModel.builder("dead_letter")
          .field(DeadLetter.STAGE, "string")
          .field(DeadLetter.REASON, "string")
          .field(DeadLetter.RULE, "string")
          .field(DeadLetter.DETAIL, "string")
          .field(DeadLetter.SOURCE, "string")
          .field(DeadLetter.POSITION, "string")
          .field(DeadLetter.PAYLOAD, "string")
          .field(DeadLetter.TIME, "timestamp")
          .key(DeadLetter.TIME)
          .build();

  private final JdbcEndpoint endpoint;
  private final String table;
  private final String pipeline;

  private DeadLetterTable(JdbcEndpoint endpoint, String table, String pipeline) {
    this.endpoint = endpoint;
    this.table = table;
    this.pipeline = pipeline;
  }

  /** Appends the dead letters of {@code pipeline}'s runs to {@code table}. */
  static DeadLetterTable into(JdbcEndpoint endpoint, String table, String pipeline) {
    return new DeadLetterTable(endpoint, table, pipeline);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
  }

  @Override
  public PCollection<Long> expand(PCollection<Row> deadLetters) {
    return deadLetters
        .apply("Count", ParDo.of(new DeadLetterFile.CountFn()))
        .setRowSchema(DeadLetter.SCHEMA)
        .apply("AsRows", ParDo.of(new AsModelFn()))
        .setRowSchema(MODEL.schema())
        .apply(
            "Append",
            JdbcLoad.into(endpoint, table, MODEL)
                .withPipeline(pipeline)
                .withMode(WriteMode.APPEND)
                .withSinkName("dead_letters"));
  }

  private static final class AsModelFn extends DoFn<Row, Row> {
    @ProcessElement
    public void process(@Element Row letter, OutputReceiver<Row> out) {
      out.output(
          Row.withSchema(MODEL.schema())
              .addValues(
                  letter.getString(DeadLetter.STAGE),
                  letter.getString(DeadLetter.REASON),
                  letter.getString(DeadLetter.RULE),
                  letter.getString(DeadLetter.DETAIL),
                  letter.getString(DeadLetter.SOURCE),
                  letter.getString(DeadLetter.POSITION),
                  letter.getString(DeadLetter.PAYLOAD),
                  Instant.parse(letter.getString(DeadLetter.TIME)),
                  String.valueOf(letter.getString(DeadLetter.SOURCE)),
                  String.valueOf(letter.getString(DeadLetter.POSITION)))
              .build());
    }
  }
}
