package dev.watershed.transforms.dedupe;

import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.KeyRows;
import dev.watershed.transforms.records.CompactRowCoder;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * Dedupe for an endless stream: per key, remembers the row kept last and lets a new row through
 * only when it beats that row by the same rules as {@link Dedupe} (greatest or smallest {@code
 * orderBy}, then tie-break fields, then source position: without an order column the record read
 * last wins). Duplicates and late older versions are dropped at once instead of waiting for the end
 * of input, which never comes.
 *
 * <p>A change stream's delete that passes takes the data values of the row kept before it ({@link
 * LastKnownValues}), as in batch.
 *
 * <p>Memory stays bounded: a key's row is forgotten after {@code timeToLive} without a change to it
 * (processing time). A duplicate arriving later than that passes again; loads that merge with a
 * version guard make it harmless.
 *
 * <p>Counters: {@code dedupe.<name>.in} and {@code dedupe.<name>.kept}, as for {@link Dedupe}.
 */
public final class StreamingDedupe extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final List<String> key;
  private final Dedupe.Keep keep;
  private final String orderBy;
  private final List<String> tieBreak;
  private final String metricsName;
  private final Duration timeToLive;

  private StreamingDedupe(
      List<String> key,
      Dedupe.Keep keep,
      String orderBy,
      List<String> tieBreak,
      String metricsName,
      Duration timeToLive) {
    this.key = key;
    this.keep = keep;
    this.orderBy = orderBy;
    this.tieBreak = tieBreak;
    this.metricsName = metricsName;
    this.timeToLive = timeToLive;
  }

  /**
   * Keeps, per key, the row with the greatest {@code orderBy} value seen within the TTL; with a
   * null {@code orderBy}, the row read last (greatest source position: a later Kafka offset wins).
   */
  public static StreamingDedupe byKey(
      List<String> key, String orderBy, List<String> tieBreak, Duration timeToLive) {
    return new StreamingDedupe(
        List.copyOf(key),
        Dedupe.Keep.LATEST,
        orderBy,
        List.copyOf(tieBreak),
        String.join("_", key),
        timeToLive);
  }

  /** Keeps the smallest {@code orderBy} instead (the first version). */
  public StreamingDedupe keepingFirst() {
    return new StreamingDedupe(key, Dedupe.Keep.FIRST, orderBy, tieBreak, metricsName, timeToLive);
  }

  public StreamingDedupe withMetricsName(String name) {
    return new StreamingDedupe(key, keep, orderBy, tieBreak, name, timeToLive);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("key", String.join(", ", key)));
    builder.add(DisplayData.item("keep", keep.name().toLowerCase(Locale.ROOT)));
    builder.addIfNotNull(DisplayData.item("orderBy", orderBy));
    builder.add(DisplayData.item("stateTtl", timeToLive.toString()));
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> input) {
    Schema schema = input.getSchema();
    Dedupe.Chooser chooser = new Dedupe.Chooser(keep, orderBy, tieBreak);
    return input
        .apply("KeyRows", KeyRows.by(key))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), rowCoder(schema)))
        .apply("KeepNewer", ParDo.of(new KeepFn(chooser, schema, metricsName, timeToLive)))
        .setRowSchema(schema);
  }

  /**
   * Rows in {@link CompactRowCoder}'s form where it can hold them: every checkpoint writes each
   * key's kept row, and Beam's row coder wrote them a byte at a time (measured: most of a
   * checkpoint's time with 200,000 keys).
   */
  private static Coder<Row> rowCoder(Schema schema) {
    Coder<Row> compact = CompactRowCoder.of(schema);
    return compact != null ? compact : RowCoder.of(schema);
  }

  private static final class KeepFn extends DoFn<KV<String, Row>, Row> {
    @StateId("kept")
    private final StateSpec<ValueState<Row>> keptSpec;

    @TimerId("expire")
    private final TimerSpec expireSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final Dedupe.Chooser chooser;
    private final Duration timeToLive;
    private final Counter in;
    private final Counter kept;

    KeepFn(Dedupe.Chooser chooser, Schema schema, String name, Duration timeToLive) {
      this.chooser = chooser;
      this.timeToLive = timeToLive;
      this.keptSpec = StateSpecs.value(rowCoder(schema));
      this.in = RunCounters.counter("dedupe." + name + ".in");
      this.kept = RunCounters.counter("dedupe." + name + ".kept");
    }

    @ProcessElement
    public void process(
        @Element KV<String, Row> element,
        @StateId("kept") ValueState<Row> state,
        @TimerId("expire") Timer expire,
        OutputReceiver<Row> out) {
      in.inc();
      Row incoming = element.getValue();
      Row previous = state.read();
      if (previous != null
          && (previous.equals(incoming) || chooser.apply(previous, incoming) == previous)) {
        return;
      }
      // A delete of a change stream keeps the values the key had (a soft delete shows them).
      incoming = LastKnownValues.carriedInto(incoming, previous);
      state.write(incoming);
      expire.offset(timeToLive).setRelative();
      kept.inc();
      out.output(incoming);
    }

    @OnTimer("expire")
    public void onExpire(@StateId("kept") ValueState<Row> state) {
      state.clear();
    }
  }
}
