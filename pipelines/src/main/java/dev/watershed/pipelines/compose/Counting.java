package dev.watershed.pipelines.compose;

import dev.watershed.transforms.metrics.RunCounters;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.Row;

/** Passes rows through unchanged, counting them under a {@code watershed} counter. */
final class Counting extends DoFn<Row, Row> {
  private final Counter counter;

  private Counting(String name) {
    this.counter = RunCounters.counter(name);
  }

  static ParDo.SingleOutput<Row, Row> rows(String counterName) {
    return ParDo.of(new Counting(counterName));
  }

  @ProcessElement
  public void process(@Element Row row, OutputReceiver<Row> out) {
    counter.inc();
    out.output(row);
  }
}
