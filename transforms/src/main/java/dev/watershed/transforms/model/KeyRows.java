package dev.watershed.transforms.model;

import java.util.List;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;

/** Keys each row by its key's text ({@link CanonicalModel#keyText}), for grouping by key. */
public final class KeyRows extends DoFn<Row, KV<String, Row>> {
  private final List<String> key;

  private KeyRows(List<String> key) {
    this.key = List.copyOf(key);
  }

  /** The step that keys rows by {@code key}'s fields. */
  public static ParDo.SingleOutput<Row, KV<String, Row>> by(List<String> key) {
    return ParDo.of(new KeyRows(key));
  }

  @ProcessElement
  public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
    out.output(KV.of(CanonicalModel.keyText(row, key), row));
  }
}
