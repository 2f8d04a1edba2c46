package dev.watershed.transforms.conform;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Conforms raw source records ({@link RawRecords}) to a {@link CanonicalModel}: maps columns to
 * fields, normalises values, casts them to the declared types and adds prefixes.
 *
 * <p>A record with any value that cannot be conformed, or with a key field left empty, goes whole
 * to the dead-letter output ({@link DeadLetter}, stage {@value #STAGE}) with the reason of its
 * first failure; every other record goes to the main output. Nothing is dropped.
 *
 * <pre>{@code
 * WithFailures.Result<PCollection<Row>, Row> customers =
 *     rawContacts.apply(
 *         Conform.to(customerModel)
 *             .withField("customer_id", FieldRule.from("id").withPrefix("crm-"))
 *             .withField("email", FieldRule.from("email_address").withNormalizers("email"))
 *             .withField("country", FieldRule.from("country").withNormalizers("country")));
 * customers.output();         // canonical customer rows
 * customers.failures();       // dead letters
 * }</pre>
 *
 * <p>Counters (namespace {@code watershed}): {@code conform.<model>.ok} and {@code
 * conform.<model>.dead_lettered}.
 */
public final class Conform
    extends PTransform<PCollection<Row>, WithFailures.Result<PCollection<Row>, Row>> {
  /** The stage name written into dead letters. */
  public static final String STAGE = "conform";

  /** Reason for a record whose key field is empty after conforming. */
  public static final String MISSING_KEY = "missing key";

  /** Reason of a value holding a NUL character, which no text column can store. */
  public static final String NUL_CHARACTER = "NUL character";

  /** Reason of a change whose version (its position in the source's log) is not a number. */
  public static final String INVALID_VERSION = "invalid change version";

  private final CanonicalModel model;
  private final Map<String, FieldRule> rules;

  private Conform(CanonicalModel model, Map<String, FieldRule> rules) {
    this.model = model;
    this.rules = rules;
  }

  /** Conforms records to {@code model}; add a rule per field with {@link #withField}. */
  public static Conform to(CanonicalModel model) {
    return new Conform(model, Map.of());
  }

  /** Sets how {@code field} of the model gets its value. Fields without a rule stay null. */
  public Conform withField(String field, FieldRule rule) {
    if (!model.schema().hasField(field) || RawRecords.isMetadata(field)) {
      throw new IllegalArgumentException("model " + model.name() + " has no field '" + field + "'");
    }
    Map<String, FieldRule> next = new LinkedHashMap<>(rules);
    next.put(field, rule);
    return new Conform(model, next);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PCollection<Row> input) {
    for (String key : model.key()) {
      if (!rules.containsKey(key)) {
        throw new IllegalArgumentException(
            "conforming to " + model.name() + " needs a rule for key field '" + key + "'");
      }
    }
    Schema inputSchema = input.getSchema();
    for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
      String column = rule.getValue().sourceColumn();
      if (column != null && !inputSchema.hasField(column)) {
        throw new IllegalArgumentException(
            "field '"
                + rule.getKey()
                + "' reads column '"
                + column
                + "', which the input lacks; it has "
                + inputSchema.getFieldNames());
      }
    }
    TupleTag<Row> ok = new TupleTag<>("conformed");
    TupleTag<Row> dead = new TupleTag<>("dead_letters");
    PCollectionTuple out =
        input.apply(
            "ConformRows",
            ParDo.of(new ConformFn(model, rules, inputSchema, ok, dead))
                .withOutputTags(ok, TupleTagList.of(dead)));
    PCollection<Row> rows = out.get(ok).setRowSchema(model.schema());
    PCollection<Row> failures = out.get(dead).setRowSchema(DeadLetter.SCHEMA);
    return WithFailures.Result.of(rows, failures);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("model", model.name()));
    for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
      builder.add(DisplayData.item("field." + rule.getKey(), rule.getValue().toString()));
    }
  }

  /** One compiled rule: indexes and formatters resolved once per worker. */
  private static final class CompiledRule {
    final String target;
    final int targetIndex;
    final int sourceIndex;
    final FieldRule rule;
    final ModelTypes.Kind kind;
    final int precision;
    final int scale;
    final List<DateTimeFormatter> formats = new ArrayList<>();
    final ZoneId zone;

    CompiledRule(String target, FieldRule rule, Schema model, Schema input) {
      this.target = target;
      this.rule = rule;
      this.targetIndex = model.indexOf(target);
      this.sourceIndex = rule.sourceColumn() == null ? -1 : input.indexOf(rule.sourceColumn());
      Schema.Field field = model.getField(target);
      this.kind = ModelTypes.kind(field);
      this.precision = ModelTypes.precision(field);
      this.scale = ModelTypes.scale(field);
      for (String pattern : rule.formats()) {
        formats.add(Normalizers.formatter(pattern));
      }
      this.zone = ZoneId.of(rule.zone());
    }

    Object apply(Row raw) throws ConformException {
      String text = sourceIndex >= 0 ? raw.getString(sourceIndex) : rule.constant();
      if (text != null && text.indexOf('\u0000') >= 0) {
        // No database text type holds it (PostgreSQL refuses the whole load): the record's.
        throw new ConformException(
            NUL_CHARACTER,
            target + ": the value holds a NUL character (0x00), which text columns cannot store");
      }
      text = Normalizers.trim(text);
      boolean amount = false;
      boolean words = false;
      for (FieldRule.Normalizer normalizer : rule.normalizers()) {
        switch (normalizer) {
          case TRIM:
            text = Normalizers.trim(text);
            break;
          case LOWER:
            text = Normalizers.lower(text);
            break;
          case UPPER:
            text = Normalizers.upper(text);
            break;
          case TITLE:
            text = Normalizers.title(text);
            break;
          case COLLAPSE_SPACES:
            text = Normalizers.collapseSpaces(text);
            break;
          case EMAIL:
            text = Normalizers.email(text);
            break;
          case PHONE:
            text = Normalizers.phone(text, rule.region());
            break;
          case COUNTRY:
            text = Normalizers.country(text);
            break;
          case AMOUNT:
            amount = true;
            break;
          case BOOLEAN:
            words = true;
            break;
        }
      }
      if (text == null) {
        return null;
      }
      try {
        return cast(text, amount, words);
      } catch (ConformException e) {
        throw new ConformException(e.reason(), target + ": " + e.getMessage());
      }
    }

    private Object cast(String text, boolean amount, boolean words) throws ConformException {
      switch (kind) {
        case STRING:
          return rule.prefix() == null ? text : rule.prefix() + text;
        case INT:
          Long small = Normalizers.wholeNumber(text);
          if (small < Integer.MIN_VALUE || small > Integer.MAX_VALUE) {
            throw new ConformException(
                Normalizers.NUMERIC_OVERFLOW, "'" + text + "' does not fit an int");
          }
          return small.intValue();
        case LONG:
          return Normalizers.wholeNumber(text);
        case DECIMAL:
          BigDecimal value =
              Normalizers.decimal(text, precision, scale, amount, rule.decimalSeparator());
          return value;
        case BOOLEAN:
          return Normalizers.bool(text);
        case DATE:
          return Normalizers.date(text, formats);
        case TIMESTAMP:
          return Normalizers.timestamp(text, formats, zone);
      }
      throw new IllegalStateException("unhandled kind " + kind);
    }
  }

  private static final class ConformFn extends DoFn<Row, Row> {
    private final CanonicalModel model;
    private final Map<String, FieldRule> rules;
    private final Schema inputSchema;
    private final TupleTag<Row> conformed;
    private final TupleTag<Row> dead;
    private final Counter ok;
    private final Counter deadLettered;
    private transient List<CompiledRule> compiled;
    private transient int[] keyIndexes;
    private transient int sourceIn;
    private transient int positionIn;
    private transient int changeIn;
    private transient int versionIn;
    private transient int changedAtIn;

    ConformFn(
        CanonicalModel model,
        Map<String, FieldRule> rules,
        Schema inputSchema,
        TupleTag<Row> conformed,
        TupleTag<Row> dead) {
      this.model = model;
      this.conformed = conformed;
      this.rules = rules;
      this.inputSchema = inputSchema;
      this.dead = dead;
      this.ok = RunCounters.counter("conform." + model.name() + ".ok");
      this.deadLettered = RunCounters.counter("conform." + model.name() + ".dead_lettered");
    }

    @Setup
    public void setup() {
      compiled = new ArrayList<>();
      for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
        compiled.add(new CompiledRule(rule.getKey(), rule.getValue(), model.schema(), inputSchema));
      }
      keyIndexes = model.key().stream().mapToInt(model.schema()::indexOf).toArray();
      sourceIn =
          inputSchema.hasField(RawRecords.SOURCE) ? inputSchema.indexOf(RawRecords.SOURCE) : -1;
      positionIn =
          inputSchema.hasField(RawRecords.POSITION) ? inputSchema.indexOf(RawRecords.POSITION) : -1;
      changeIn = indexOrMissing(RawRecords.CHANGE);
      versionIn = indexOrMissing(RawRecords.VERSION);
      changedAtIn = indexOrMissing(RawRecords.CHANGED_AT);
    }

    private int indexOrMissing(String field) {
      return inputSchema.hasField(field) ? inputSchema.indexOf(field) : -1;
    }

    @ProcessElement
    public void process(@Element Row raw, MultiOutputReceiver out) {
      Schema schema = model.schema();
      Object[] values = new Object[schema.getFieldCount()];
      String change = changeIn >= 0 ? raw.getString(changeIn) : null;
      boolean truncate = RawRecords.TRUNCATE.equals(change);
      boolean delete = truncate || RawRecords.DELETE.equals(change);
      for (CompiledRule rule : compiled) {
        if (truncate) {
          // A truncate has no row: no value, no key.
          break;
        }
        if (delete && !model.key().contains(rule.target)) {
          // A delete's old image matters only for its key; its other values are not conformed.
          continue;
        }
        try {
          values[rule.targetIndex] = rule.apply(raw);
        } catch (ConformException e) {
          deadLettered.inc();
          out.get(dead).output(DeadLetter.of(STAGE, e.reason(), e.getMessage(), raw));
          return;
        }
      }
      for (int key : keyIndexes) {
        if (values[key] == null && !truncate) {
          deadLettered.inc();
          out.get(dead)
              .output(
                  DeadLetter.of(
                      STAGE,
                      MISSING_KEY,
                      "key field '" + schema.getField(key).getName() + "' is empty",
                      raw));
          return;
        }
      }
      values[schema.indexOf(RawRecords.SOURCE)] = sourceIn >= 0 ? raw.getString(sourceIn) : "";
      values[schema.indexOf(RawRecords.POSITION)] =
          positionIn >= 0 ? raw.getString(positionIn) : "";
      if (model.tracksChanges()) {
        values[schema.indexOf(RawRecords.DELETED)] = delete;
        String version = versionIn >= 0 ? raw.getString(versionIn) : null;
        String changedAt = changedAtIn >= 0 ? raw.getString(changedAtIn) : null;
        try {
          values[schema.indexOf(RawRecords.VERSION)] =
              version == null ? null : Long.valueOf(version.trim());
        } catch (NumberFormatException e) {
          deadLettered.inc();
          out.get(dead)
              .output(
                  DeadLetter.of(
                      STAGE,
                      INVALID_VERSION,
                      "the change's version '" + version + "' is not a whole number",
                      raw));
          return;
        }
        try {
          values[schema.indexOf(RawRecords.CHANGED_AT)] =
              changedAt == null ? null : Instant.parse(changedAt);
        } catch (DateTimeParseException e) {
          deadLettered.inc();
          out.get(dead)
              .output(
                  DeadLetter.of(
                      STAGE,
                      Normalizers.UNPARSABLE_TIMESTAMP,
                      "the change's time '" + changedAt + "' is not an ISO-8601 instant",
                      raw));
          return;
        }
      }
      ok.inc();
      // The rules cast every value to its field's Java type, so the row is attached as is:
      // Row.Builder.build() would re-check every value of every row (measured: a quarter of a
      // PostgreSQL-to-PostgreSQL load's CPU).
      out.get(conformed).output(Row.withSchema(schema).attachValues(Arrays.asList(values)));
    }
  }
}
