package dev.watershed.pipelines.compose;

import dev.watershed.transforms.quality.QualityRule;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The quality gate over {@code Quality.CHECK} rows: one boolean, true unless a check that fails the
 * run did not pass. Every load of the run reads it before committing.
 */
final class Gate extends PTransform<PCollection<Row>, PCollectionView<Boolean>> {
  private Gate() {}

  static Gate fromChecks() {
    return new Gate();
  }

  /** True when the check passed or only warns. */
  static boolean allows(Row check) {
    return check.getBoolean("passed")
        || !QualityRule.OnFailure.FAIL.specName().equals(check.getString("on_failure"));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("closes", "when a rule with on_failure: fail fails"));
  }

  @Override
  public PCollectionView<Boolean> expand(PCollection<Row> checks) {
    return checks
        .apply("Allows", MapElements.into(TypeDescriptors.booleans()).via(Gate::allows))
        .apply("All", Combine.globally(all()))
        .apply("AsView", View.asSingleton());
  }

  private static SerializableFunction<Iterable<Boolean>, Boolean> all() {
    return values -> {
      for (Boolean value : values) {
        if (!value) {
          return false;
        }
      }
      return true;
    };
  }
}
