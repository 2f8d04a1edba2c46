package dev.watershed.transforms.dedupe;

import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableBiFunction;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Keeps exactly one row per key: the latest (or first) by an order column, with a deterministic
 * tie-break.
 *
 * <p>Exact in batch: rows are combined per key (a pre-combine on each worker, then a final combine
 * per key), so no duplicate survives however the input is split, unlike Beam's best-effort {@code
 * Deduplicate}. The choice is deterministic: when order values are equal (or there is no order
 * column), the row with the smallest tie-break values wins, then the smallest {@code _source} and
 * {@code _position} lineage values when the rows carry them. Rows with a null order value lose to
 * any row with one.
 *
 * <pre>{@code
 * PCollection<Row> latest =
 *     customers.apply(
 *         Dedupe.byKey("email").keepLatest("updated_at").withTieBreak("customer_id"));
 * }</pre>
 *
 * <p>Counters (namespace {@code watershed}): {@code dedupe.<name>.in} and {@code
 * dedupe.<name>.kept}; rows merged away are their difference.
 */
public final class Dedupe extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** Which row of a key survives. */
  public enum Keep {
    /** The row with the greatest order value. */
    LATEST,
    /** The row with the smallest order value. */
    FIRST
  }

  private final List<String> key;
  private final Keep keep;
  private final String orderBy;
  private final List<String> tieBreak;
  private final String metricsName;

  private Dedupe(
      List<String> key, Keep keep, String orderBy, List<String> tieBreak, String metricsName) {
    this.key = List.copyOf(key);
    this.keep = keep;
    this.orderBy = orderBy;
    this.tieBreak = List.copyOf(tieBreak);
    this.metricsName = metricsName;
  }

  /** Dedupes by the given key fields; without an order column the tie-break alone decides. */
  public static Dedupe byKey(String... fields) {
    return byKey(List.of(fields));
  }

  public static Dedupe byKey(List<String> fields) {
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("Dedupe needs at least one key field");
    }
    return new Dedupe(fields, Keep.FIRST, null, List.of(), "rows");
  }

  /** Keeps the row with the greatest {@code orderBy} value per key. */
  public Dedupe keepLatest(String orderBy) {
    return new Dedupe(key, Keep.LATEST, orderBy, tieBreak, metricsName);
  }

  /** Keeps the row with the smallest {@code orderBy} value per key. */
  public Dedupe keepFirst(String orderBy) {
    return new Dedupe(key, Keep.FIRST, orderBy, tieBreak, metricsName);
  }

  /** Fields compared, smallest first, when order values are equal. */
  public Dedupe withTieBreak(String... fields) {
    return withTieBreak(List.of(fields));
  }

  public Dedupe withTieBreak(List<String> fields) {
    return new Dedupe(key, keep, orderBy, fields, metricsName);
  }

  /** The name used in this transform's counters, e.g. the model name. */
  public Dedupe withMetricsName(String name) {
    return new Dedupe(key, keep, orderBy, tieBreak, name);
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> input) {
    Schema schema = input.getSchema();
    List<String> referenced = new ArrayList<>(key);
    referenced.addAll(tieBreak);
    if (orderBy != null) {
      referenced.add(orderBy);
    }
    for (String field : referenced) {
      if (!schema.hasField(field)) {
        throw new IllegalArgumentException(
            "Dedupe: field '" + field + "' is not in the input; it has " + schema.getFieldNames());
      }
    }
    List<String> order = new ArrayList<>(tieBreak);
    for (String lineage : List.of(RawRecords.SOURCE, RawRecords.POSITION)) {
      if (schema.hasField(lineage)) {
        order.add(lineage);
      }
    }
    Chooser chooser = new Chooser(keep, orderBy, order);
    return input
        .apply("KeyRows", ParDo.of(new KeyFn(key, metricsName)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), input.getCoder()))
        .apply("KeepOnePerKey", Combine.perKey(Combine.BinaryCombineFn.of(chooser)))
        .apply("CountKept", ParDo.of(new KeptFn(metricsName)))
        .setRowSchema(schema);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("key", String.join(",", key)));
    builder.add(DisplayData.item("keep", keep.name().toLowerCase(java.util.Locale.ROOT)));
    builder.addIfNotNull(DisplayData.item("orderBy", orderBy));
    builder.add(DisplayData.item("tieBreak", String.join(",", tieBreak)));
  }

  /**
   * Picks the surviving row of two; associative and commutative, so combine order never matters.
   */
  static final class Chooser implements SerializableBiFunction<Row, Row, Row> {
    private final Keep keep;
    private final String orderBy;
    private final List<String> tieBreak;

    Chooser(Keep keep, String orderBy, List<String> tieBreak) {
      this.keep = keep;
      this.orderBy = orderBy;
      this.tieBreak = tieBreak;
    }

    @Override
    public Row apply(Row a, Row b) {
      if (orderBy != null) {
        int byOrder = compareNullsFirst(a.getValue(orderBy), b.getValue(orderBy));
        if (byOrder != 0) {
          // A null order value always loses.
          if (a.getValue(orderBy) == null) {
            return b;
          }
          if (b.getValue(orderBy) == null) {
            return a;
          }
          return (keep == Keep.LATEST) == (byOrder > 0) ? a : b;
        }
      }
      for (String field : tieBreak) {
        int c = compareNullsFirst(a.getValue(field), b.getValue(field));
        if (c != 0) {
          return c < 0 ? a : b;
        }
      }
      return a.toString().compareTo(b.toString()) <= 0 ? a : b;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareNullsFirst(Object x, Object y) {
      if (x == null || y == null) {
        return x == null ? (y == null ? 0 : -1) : 1;
      }
      return ((Comparable) x).compareTo(y);
    }
  }

  private static final class KeyFn extends DoFn<Row, KV<String, Row>> {
    private final List<String> key;
    private final Counter in;

    KeyFn(List<String> key, String name) {
      this.key = key;
      this.in = dev.watershed.transforms.metrics.RunCounters.counter("dedupe." + name + ".in");
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      in.inc();
      out.output(KV.of(keyOf(row, key), row));
    }
  }

  /**
   * The key of a row as text, as every stage that groups or looks up rows by key writes it: the
   * value itself for a one-field key, else each value followed by a separator that cannot occur in
   * normal text.
   */
  public static String keyOf(Row row, List<String> fields) {
    if (fields.size() == 1) {
      return String.valueOf(row.<Object>getValue(fields.get(0)));
    }
    StringBuilder key = new StringBuilder();
    for (String field : fields) {
      key.append(row.<Object>getValue(field)).append('\u0001');
    }
    return key.toString();
  }

  private static final class KeptFn extends DoFn<KV<String, Row>, Row> {
    private final Counter kept;

    KeptFn(String name) {
      this.kept = dev.watershed.transforms.metrics.RunCounters.counter("dedupe." + name + ".kept");
    }

    @ProcessElement
    public void process(@Element KV<String, Row> element, OutputReceiver<Row> out) {
      kept.inc();
      out.output(element.getValue());
    }
  }
}
