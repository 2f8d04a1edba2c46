package dev.watershed.pipelines.compose;

import dev.watershed.transforms.quality.Quality;
import java.io.Serializable;
import java.util.Comparator;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Top;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Up to N findings per model and rule, for the samples in the run report: the first N in source
 * order (by source, then position), so that every run of the same input shows the same samples.
 */
final class Samples extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final int perRule;

  private Samples(int perRule) {
    this.perRule = perRule;
  }

  static Samples perRule(int n) {
    return new Samples(n);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("perRule", perRule));
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> findings) {
    return findings
        .apply(
            "ByRule",
            WithKeys.<String, Row>of(f -> f.getString("model") + "." + f.getString("rule"))
                .withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), findings.getCoder()))
        .apply("Sample", Top.perKey(perRule, new LaterInSourceOrder()))
        .apply("Values", Values.create())
        .apply("Flatten", Flatten.iterables())
        .setRowSchema(Quality.FINDING);
  }

  /**
   * Orders findings later-first by source and position, so that {@link Top} (which keeps the
   * largest) keeps the earliest.
   */
  private static final class LaterInSourceOrder implements Comparator<Row>, Serializable {
    @Override
    public int compare(Row a, Row b) {
      return RunReport.inSourceOrder(b.getString("source"), b.getString("position"))
          .compareTo(RunReport.inSourceOrder(a.getString("source"), a.getString("position")));
    }
  }
}
