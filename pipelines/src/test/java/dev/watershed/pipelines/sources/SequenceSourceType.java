package dev.watershed.pipelines.sources;

import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * A source type that exists only in the tests, registered in the test class path's {@code
 * META-INF/services}: the proof that a new source type is one class plus its registration, with no
 * line of the parser or the composer changed. {@code type: sequence} yields {@code count} records
 * with an {@code n} column of 1 to {@code count}.
 */
public final class SequenceSourceType implements SourceType {
  /** The numbers 1 to {@code count}. */
  public record Config(SourceBasics basics, int count) implements SourceConfig {
    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return new Numbers(name(), count, context.columns());
    }
  }

  private static final class Numbers
      extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
    private final String source;
    private final int count;
    private final List<String> columns;

    Numbers(String source, int count, List<String> columns) {
      this.source = source;
      this.count = count;
      this.columns = columns;
    }

    @Override
    public void populateDisplayData(DisplayData.Builder builder) {
      super.populateDisplayData(builder);
      builder.add(DisplayData.item("count", count));
    }

    @Override
    public WithFailures.Result<PCollection<Row>, Row> expand(PBegin begin) {
      Schema schema = RawRecords.schema(columns);
      List<Row> rows = new ArrayList<>();
      for (int n = 1; n <= count; n++) {
        Row.Builder row = Row.withSchema(schema);
        for (Schema.Field field : schema.getFields()) {
          String name = field.getName();
          row.addValue(
              name.equals(RawRecords.SOURCE)
                  ? source
                  : name.equals(RawRecords.POSITION) ? "n=" + n : name.equals("n") ? "" + n : null);
        }
        rows.add(row.build());
      }
      PCollection<Row> output =
          begin
              .apply("numbers", Create.of(rows).withRowSchema(schema))
              .apply("count read", ParDo.of(new CountFn(source)))
              .setRowSchema(schema);
      PCollection<Row> failures =
          begin.apply("no failures", Create.of(List.<Row>of()).withRowSchema(DeadLetter.SCHEMA));
      return WithFailures.Result.of(output, failures);
    }
  }

  /** Counts what the source read, as every source does: the run summary reconciles with it. */
  private static final class CountFn extends DoFn<Row, Row> {
    private final Counter read;

    CountFn(String source) {
      this.read = RunCounters.counter("source." + source + ".read");
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      read.inc();
      out.output(row);
    }
  }

  @Override
  public String name() {
    return "sequence";
  }

  @Override
  public String description() {
    return "the numbers 1 to count (a test type)";
  }

  @Override
  public List<Key> keys() {
    return List.of(Key.integer("count", "how many numbers"));
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    int count = block.integer("count", 0);
    if (count < 1) {
      block.error("count", "expected a positive count");
    }
    return new Config(basics, count);
  }
}
