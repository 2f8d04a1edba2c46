package dev.watershed.pipelines.compose;

import dev.watershed.transforms.quality.Quality;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Sample;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/** Up to N findings per model and rule, for the samples in the run report. */
final class Samples extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final int perRule;

  private Samples(int perRule) {
    this.perRule = perRule;
  }

  static Samples perRule(int n) {
    return new Samples(n);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> findings) {
    return findings
        .apply(
            "ByRule",
            WithKeys.<String, Row>of(f -> f.getString("model") + "." + f.getString("rule"))
                .withKeyType(TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), findings.getCoder()))
        .apply("Sample", Sample.fixedSizePerKey(perRule))
        .apply("Values", Values.create())
        .apply("Flatten", Flatten.iterables())
        .setRowSchema(Quality.FINDING);
  }
}
