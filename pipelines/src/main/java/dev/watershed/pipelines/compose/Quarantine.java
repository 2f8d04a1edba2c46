package dev.watershed.pipelines.compose;

import dev.watershed.transforms.deadletter.DeadLetter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Sends every record of a source whose schema drifted under {@code drift: quarantine} to the dead
 * letters (stage {@code extract}, reason {@value #REASON}), keeping its raw payload so that {@code
 * watershed replay} can load it once the spec has caught up with the source.
 */
final class Quarantine extends PTransform<PCollection<Row>, PCollectionTuple> {
  static final String REASON = "schema drift";
  static final TupleTag<Row> ROWS = new TupleTag<>("rows");
  static final TupleTag<Row> DEAD_LETTERS = new TupleTag<>("dead_letters");

  private final String detail;

  private Quarantine(String detail) {
    this.detail = detail;
  }

  static Quarantine all(String detail) {
    return new Quarantine(detail);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("reason", detail));
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> rows) {
    PCollectionTuple out =
        rows.apply(
            "ToDeadLetters",
            ParDo.of(new QuarantineFn(detail)).withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS)));
    out.get(DEAD_LETTERS).setRowSchema(DeadLetter.SCHEMA);
    return out;
  }

  private static final class QuarantineFn extends DoFn<Row, Row> {
    private final String detail;

    QuarantineFn(String detail) {
      this.detail = detail;
    }

    @ProcessElement
    public void process(@Element Row row, MultiOutputReceiver out) {
      out.get(DEAD_LETTERS).output(DeadLetter.of("extract", REASON, detail, row));
    }
  }
}
