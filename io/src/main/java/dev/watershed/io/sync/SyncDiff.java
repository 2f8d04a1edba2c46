package dev.watershed.io.sync;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.KeyRows;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Impulse;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * A diff-based sync's selection: of a model's rows, only those a destination has not received as
 * they are now ({@link SyncLedger}): keys it never received, and keys whose row changed since; in
 * {@link Mode#MIRROR} also a delete (a row with its key and {@code _deleted = true}) for every key
 * the destination received that the model no longer has. Rows it already holds unchanged are held
 * back and counted ({@code sync.<destination>.<model>.unchanged}); deletes are counted ({@code
 * .removed}); in {@link Mode#UPDATE} new keys are held back and counted ({@code .held_back}).
 *
 * <p>A row's hash covers the model's data fields (not lineage such as {@code _source}), so a row
 * that a run rebuilds unchanged from another source is still unchanged.
 */
public final class SyncDiff extends PTransform<PCollection<Row>, PCollection<Row>> {
  /**
   * What a sync sends: rows added or changed ({@code UPSERT}); only changes to keys the destination
   * received before, new keys held back ({@code UPDATE}); rows added or changed and deletes of rows
   * gone ({@code MIRROR}).
   */
  public enum Mode {
    UPSERT,
    UPDATE,
    MIRROR
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SyncLedger ledger;
  private final CanonicalModel model;
  private final Mode mode;

  private SyncDiff(SyncLedger ledger, CanonicalModel model, Mode mode) {
    this.ledger = ledger;
    this.model = model;
    this.mode = mode;
  }

  public static SyncDiff of(SyncLedger ledger, CanonicalModel model, Mode mode) {
    return new SyncDiff(ledger, model, mode);
  }

  /**
   * The schema of what the diff sends: the rows', with {@code _deleted} where they lack it, every
   * field nullable (a delete holds only its key).
   */
  public static Schema outputSchema(Schema rows) {
    Schema.Builder builder = Schema.builder();
    for (Schema.Field field : rows.getFields()) {
      builder.addField(field.withNullable(true));
    }
    if (!rows.hasField(RawRecords.DELETED)) {
      builder.addNullableField(RawRecords.DELETED, Schema.FieldType.BOOLEAN);
    }
    return builder.build();
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    Schema out = outputSchema(rows.getSchema());
    List<String> key = model.key();
    TupleTag<Row> now = new TupleTag<>("now");
    TupleTag<SyncLedger.Entry> before = new TupleTag<>("before");
    PCollection<KV<String, Row>> current =
        rows.apply("KeyRows", KeyRows.by(key))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), rows.getCoder()));
    PCollection<KV<String, SyncLedger.Entry>> received =
        rows.getPipeline()
            .apply("Start", Impulse.create())
            .apply("ReadLedger", ParDo.of(new ReadLedgerFn(ledger)));
    return KeyedPCollectionTuple.of(now, current)
        .and(before, received)
        .apply("ByKey", CoGroupByKey.create())
        .apply(
            "Diff",
            ParDo.of(
                new DiffFn(
                    now,
                    before,
                    model,
                    mode,
                    out,
                    "sync." + ledger.destination() + "." + ledger.model())))
        .setRowSchema(out);
  }

  /**
   * The diff's rows as a change stream of {@code changes} (the model {@link
   * CanonicalModel#withChanges with changes}), for destinations that apply changes (tables): each
   * row versioned by {@code now}'s milliseconds and changed at {@code now}, so a later run's
   * version is always newer.
   */
  public static PTransform<PCollection<Row>, PCollection<Row>> asChanges(
      CanonicalModel changes, java.time.Instant now) {
    Schema schema = changes.schema();
    long version = now.toEpochMilli();
    return new PTransform<>() {
      @Override
      public PCollection<Row> expand(PCollection<Row> rows) {
        return rows.apply(
                "AsChanges",
                MapElements.into(TypeDescriptors.rows())
                    .via(
                        (Row row) -> {
                          List<Object> values = new ArrayList<>(schema.getFieldCount());
                          for (Schema.Field field : schema.getFields()) {
                            String name = field.getName();
                            if (name.equals(RawRecords.VERSION)) {
                              values.add(version);
                            } else if (name.equals(RawRecords.CHANGED_AT)) {
                              values.add(now);
                            } else {
                              values.add(
                                  row.getSchema().hasField(name) ? row.getValue(name) : null);
                            }
                          }
                          return Row.withSchema(schema).attachValues(values);
                        }))
            .setRowSchema(schema);
      }
    };
  }

  /** The hash of what a destination receives of {@code row}: its data fields, in order. */
  public static String hash(Row row, CanonicalModel model) {
    StringBuilder text = new StringBuilder();
    for (Schema.Field field : model.dataFields()) {
      Object value = row.getValue(field.getName());
      text.append(field.getName())
          .append('=')
          .append(value == null ? "\u0000" : text(value))
          .append('\u0001');
    }
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String text(Object value) {
    if (value instanceof BigDecimal decimal) {
      return decimal.stripTrailingZeros().toPlainString();
    }
    if (value instanceof byte[] bytes) {
      return HexFormat.of().formatHex(bytes);
    }
    return value.toString();
  }

  /** The key's values of {@code row} as a JSON object, as the ledger keeps them. */
  public static String keyJson(Row row, List<String> key) {
    ObjectNode node = JSON.createObjectNode();
    for (String field : key) {
      Object value = row.getValue(field);
      node.put(field, value == null ? null : value.toString());
    }
    return node.toString();
  }

  /** The ledger entry of a row a destination accepted. */
  public static SyncLedger.Entry entry(Row row, CanonicalModel model) {
    return new SyncLedger.Entry(
        CanonicalModel.keyText(row, model.key()), keyJson(row, model.key()), hash(row, model));
  }

  private static final class ReadLedgerFn extends DoFn<byte[], KV<String, SyncLedger.Entry>> {
    private final SyncLedger ledger;

    ReadLedgerFn(SyncLedger ledger) {
      this.ledger = ledger;
    }

    @ProcessElement
    public void process(OutputReceiver<KV<String, SyncLedger.Entry>> out) throws Exception {
      ledger.read(entry -> out.output(KV.of(entry.keyText(), entry)));
    }
  }

  private static final class DiffFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final TupleTag<Row> now;
    private final TupleTag<SyncLedger.Entry> before;
    private final CanonicalModel model;
    private final Mode mode;
    private final Schema out;
    private final Counter unchanged;
    private final Counter removed;
    private final Counter heldBack;

    DiffFn(
        TupleTag<Row> now,
        TupleTag<SyncLedger.Entry> before,
        CanonicalModel model,
        Mode mode,
        Schema out,
        String counterPrefix) {
      this.now = now;
      this.before = before;
      this.model = model;
      this.mode = mode;
      this.out = out;
      this.unchanged = RunCounters.counter(counterPrefix + ".unchanged");
      this.removed = RunCounters.counter(counterPrefix + ".removed");
      this.heldBack = RunCounters.counter(counterPrefix + ".held_back");
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> byKey, OutputReceiver<Row> output) {
      SyncLedger.Entry received = null;
      for (SyncLedger.Entry entry : byKey.getValue().getAll(before)) {
        received = entry;
      }
      boolean present = false;
      for (Row row : byKey.getValue().getAll(now)) {
        if (RawRecords.isDeleted(row)) {
          continue;
        }
        present = true;
        if (received != null && received.hash().equals(hash(row, model))) {
          unchanged.inc();
        } else if (received == null && mode == Mode.UPDATE) {
          heldBack.inc();
        } else {
          output.output(withDeleted(row, false));
        }
      }
      if (!present && received != null && mode == Mode.MIRROR) {
        removed.inc();
        output.output(deleteOf(received));
      }
    }

    private Row withDeleted(Row row, boolean deleted) {
      List<Object> values = new ArrayList<>(row.getValues());
      if (!row.getSchema().hasField(RawRecords.DELETED)) {
        values.add(deleted);
      }
      return Row.withSchema(out).attachValues(values);
    }

    /** A row holding only the key of an entry, marked deleted. */
    private Row deleteOf(SyncLedger.Entry entry) {
      JsonNode key;
      try {
        key = JSON.readTree(entry.keyJson());
      } catch (Exception e) {
        throw new IllegalStateException("a sync ledger entry holds no key: " + entry.keyJson(), e);
      }
      List<Object> values = new ArrayList<>(out.getFieldCount());
      for (Schema.Field field : out.getFields()) {
        String name = field.getName();
        if (name.equals(RawRecords.DELETED)) {
          values.add(true);
        } else if (key.has(name) && !key.get(name).isNull()) {
          values.add(typed(field.getType(), key.get(name).asText()));
        } else {
          values.add(null);
        }
      }
      return Row.withSchema(out).attachValues(values);
    }

    /** A key value from its text, in the field's type. */
    private static Object typed(Schema.FieldType type, String text) {
      return switch (type.getTypeName()) {
        case INT16 -> Short.parseShort(text);
        case INT32 -> Integer.parseInt(text);
        case INT64 -> Long.parseLong(text);
        case BOOLEAN -> Boolean.parseBoolean(text);
        case DECIMAL -> new BigDecimal(text);
        case DOUBLE -> Double.parseDouble(text);
        case FLOAT -> Float.parseFloat(text);
        case DATETIME -> org.joda.time.Instant.parse(text);
        default -> text;
      };
    }
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "diff against the " + ledger;
  }
}
