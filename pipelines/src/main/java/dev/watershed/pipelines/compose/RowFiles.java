package dev.watershed.pipelines.compose;

import dev.watershed.transforms.model.RowJson;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/** Writes rows as one JSON lines file, {@code <prefix>.jsonl}, replaced on every run. */
final class RowFiles extends PTransform<PCollection<Row>, PDone> {
  private final String prefix;

  private RowFiles(String prefix) {
    this.prefix = prefix;
  }

  static RowFiles jsonLines(String prefix) {
    return new RowFiles(prefix);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("files", prefix));
  }

  @Override
  public PDone expand(PCollection<Row> rows) {
    return rows.apply("ToJson", MapElements.into(TypeDescriptors.strings()).via(new RowJson()))
        .apply("WriteFile", TextIO.write().to(prefix).withSuffix(".jsonl").withoutSharding());
  }
}
