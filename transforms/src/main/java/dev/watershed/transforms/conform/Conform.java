package dev.watershed.transforms.conform;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.expression.ExpressionException;
import dev.watershed.transforms.expression.LookupTable;
import dev.watershed.transforms.expression.SqlExpression;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.quality.Quality;
import dev.watershed.transforms.records.RawRecords;
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
 * <p>A record with a value that cannot be conformed, or with a key field left empty, goes whole to
 * the dead-letter output ({@link DeadLetter}, stage {@value #STAGE}) with the reason of its first
 * failure, unless that field's rule says otherwise ({@link FieldRule.OnError}: the field is set to
 * null, or its raw text kept in {@code _raw_<field>}, and a finding records it); every other record
 * goes to the main output. Nothing is dropped.
 *
 * <pre>{@code
 * PCollectionTuple customers =
 *     rawContacts.apply(
 *         Conform.to(customerModel)
 *             .withField("customer_id", FieldRule.from("id").withPrefix("crm-"))
 *             .withField("email", FieldRule.from("email_address").withNormalizers("email"))
 *             .withField("country", FieldRule.from("country").withNormalizers("country")));
 * customers.get(Conform.ROWS);          // canonical customer rows
 * customers.get(Conform.DEAD_LETTERS);  // records that could not be conformed
 * customers.get(Conform.FINDINGS);      // fields set to null or kept raw (on_error)
 * }</pre>
 *
 * <p>Counters (namespace {@code watershed}): {@code conform.<model>.ok}, {@code
 * conform.<model>.dead_lettered}, and per field {@code conform.<model>.field.<field>.nulled} and
 * {@code .kept_raw}.
 */
public final class Conform extends PTransform<PCollection<Row>, PCollectionTuple> {
  /** Conformed rows, of the model's schema. */
  public static final TupleTag<Row> ROWS = new TupleTag<>("conformed");

  /** Records that could not be conformed ({@link DeadLetter#SCHEMA}). */
  public static final TupleTag<Row> DEAD_LETTERS = new TupleTag<>("dead_letters");

  /**
   * One warning per field value set to null or kept raw by its rule's {@link FieldRule.OnError}
   * ({@link Quality#FINDING}, rule {@code conform <field>}); the record itself goes on.
   */
  public static final TupleTag<Row> FINDINGS = new TupleTag<>("findings");

  /** Reason of an expression that could not be evaluated on a record. */
  public static final String EXPRESSION_FAILED = "expression failed";

  /** Reason of a value a lookup table lacks. */
  public static final String NOT_IN_LOOKUP = "not in lookup table";

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
    if (rule.onError() != FieldRule.OnError.DEAD_LETTER && model.key().contains(field)) {
      throw new IllegalArgumentException(
          "key field '" + field + "' needs a value: its on_error can only be dead_letter");
    }
    if (rule.onError() == FieldRule.OnError.KEEP_RAW
        && !model.schema().hasField(FieldRule.rawColumn(field))) {
      throw new IllegalArgumentException(
          "model "
              + model.name()
              + " has no field '"
              + FieldRule.rawColumn(field)
              + "' to keep the raw text of '"
              + field
              + "' (CanonicalModel.withRawColumns)");
    }
    Map<String, FieldRule> next = new LinkedHashMap<>(rules);
    next.put(field, rule);
    return new Conform(model, next);
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> input) {
    for (String key : model.key()) {
      if (!rules.containsKey(key)) {
        throw new IllegalArgumentException(
            "conforming to " + model.name() + " needs a rule for key field '" + key + "'");
      }
    }
    Schema inputSchema = input.getSchema();
    for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
      for (String column : rule.getValue().columns()) {
        if (!inputSchema.hasField(column)) {
          throw new IllegalArgumentException(
              "field '"
                  + rule.getKey()
                  + "' reads column '"
                  + column
                  + "', which the input lacks; it has "
                  + inputSchema.getFieldNames());
        }
      }
    }
    PCollectionTuple out =
        input.apply(
            "ConformRows",
            ParDo.of(new ConformFn(model, rules, inputSchema))
                .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
    out.get(ROWS).setRowSchema(model.schema());
    out.get(DEAD_LETTERS).setRowSchema(DeadLetter.SCHEMA);
    out.get(FINDINGS).setRowSchema(Quality.FINDING);
    return out;
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
    final int regionIndex;
    final int rawIndex;
    final FieldRule rule;
    final ModelTypes.Kind kind;
    final int precision;
    final int scale;
    final List<DateTimeFormatter> formats = new ArrayList<>();
    final ZoneId zone;
    final Counter nulled;
    final Counter keptRaw;
    final LookupTable.Index lookupIndex;

    /** The text the failing step was given, for findings and {@code _raw_} columns. */
    String lastText;

    CompiledRule(String modelName, String target, FieldRule rule, Schema model, Schema input) {
      this.target = target;
      this.rule = rule;
      this.targetIndex = model.indexOf(target);
      this.sourceIndex = rule.sourceColumn() == null ? -1 : input.indexOf(rule.sourceColumn());
      this.regionIndex = rule.regionFrom() == null ? -1 : input.indexOf(rule.regionFrom());
      this.rawIndex =
          rule.onError() == FieldRule.OnError.KEEP_RAW
              ? model.indexOf(FieldRule.rawColumn(target))
              : -1;
      Schema.Field field = model.getField(target);
      this.kind = ModelTypes.kind(field);
      this.precision = ModelTypes.precision(field);
      this.scale = ModelTypes.scale(field);
      for (String pattern : rule.formats()) {
        formats.add(Normalizers.formatter(pattern));
      }
      this.zone = ZoneId.of(rule.zone());
      this.nulled = RunCounters.counter("conform." + modelName + ".field." + target + ".nulled");
      this.keptRaw = RunCounters.counter("conform." + modelName + ".field." + target + ".kept_raw");
      this.lookupIndex =
          rule.lookup() == null
              ? null
              : rule.lookup().table().index(rule.lookup().keyColumn(), rule.lookup().valueColumn());
    }

    Object apply(Row raw) throws ConformException {
      lastText = null;
      String text;
      if (rule.expression() != null) {
        try {
          // Columns are read as from: reads them: trimmed, and empty is null.
          text =
              SqlExpression.text(
                  rule.expression().eval(column -> Normalizers.trim(raw.getString(column))));
        } catch (ExpressionException e) {
          throw new ConformException(EXPRESSION_FAILED, target + ": " + e.getMessage());
        }
      } else {
        text = sourceIndex >= 0 ? raw.getString(sourceIndex) : rule.constant();
      }
      lastText = text;
      if (text != null && text.indexOf('\u0000') >= 0) {
        // No database text type holds it (PostgreSQL refuses the whole load): the record's.
        throw new ConformException(
            NUL_CHARACTER,
            target + ": the value holds a NUL character (0x00), which text columns cannot store");
      }
      text = Normalizers.trim(text);
      if (rule.lookup() != null && text != null) {
        text = lookUp(text);
      }
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
            text = Normalizers.phone(text, region(raw));
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

    private String lookUp(String text) throws ConformException {
      FieldRule.Lookup lookup = rule.lookup();
      String found = lookupIndex.get(text);
      if (found != null) {
        return found;
      }
      switch (lookup.onMissing()) {
        case NULL:
          return null;
        case KEEP:
          return text;
        default:
          throw new ConformException(
              NOT_IN_LOOKUP,
              target
                  + ": '"
                  + text
                  + "' is not a "
                  + lookup.keyColumn()
                  + " in lookup table "
                  + lookup.table().name());
      }
    }

    /** The phone region of this record: its country column's, else the rule's fixed one. */
    private String region(Row raw) {
      if (regionIndex < 0) {
        return rule.region();
      }
      try {
        String code = Normalizers.country(raw.getString(regionIndex));
        return code != null && Normalizers.isPhoneRegion(code) ? code : rule.region();
      } catch (ConformException unknownCountry) {
        return rule.region();
      }
    }

    private Object cast(String text, boolean amount, boolean words) throws ConformException {
      switch (kind) {
        case STRING:
          return rule.prefix() == null ? text : rule.prefix() + text;
        case INT:
          Long small = Normalizers.wholeNumber(grouped(text));
          if (small < Integer.MIN_VALUE || small > Integer.MAX_VALUE) {
            throw new ConformException(
                Normalizers.NUMERIC_OVERFLOW, "'" + text + "' does not fit an int");
          }
          return small.intValue();
        case LONG:
          return Normalizers.wholeNumber(grouped(text));
        case DECIMAL:
          // A decimal comma reads like an amount: grouping dots and spaces go, the comma is the
          // fraction's.
          char separator = decimalSeparator();
          return Normalizers.decimal(text, precision, scale, amount || separator == ',', separator);
        case BOOLEAN:
          return Normalizers.bool(text);
        case DATE:
          return Normalizers.date(text, formats, zone);
        case TIMESTAMP:
          return Normalizers.timestamp(text, formats, zone);
      }
      throw new IllegalStateException("unhandled kind " + kind);
    }

    /** Whole numbers written with a decimal comma group thousands with dots: 1.234 is 1234. */
    private String grouped(String text) {
      return decimalSeparator() == ',' ? text.replace(".", "").replace(" ", "") : text;
    }

    /** An expression's numbers are plain ({@code 12.5}); a column's are written as declared. */
    private char decimalSeparator() {
      return rule.expression() != null ? '.' : rule.decimalSeparator();
    }
  }

  private static final class ConformFn extends DoFn<Row, Row> {
    private final CanonicalModel model;
    private final Map<String, FieldRule> rules;
    private final Schema inputSchema;
    private final Counter ok;
    private final Counter deadLettered;
    private transient List<CompiledRule> compiled;
    private transient int[] keyIndexes;
    private transient int sourceIn;
    private transient int positionIn;
    private transient int changeIn;
    private transient int versionIn;
    private transient int changedAtIn;

    ConformFn(CanonicalModel model, Map<String, FieldRule> rules, Schema inputSchema) {
      this.model = model;
      this.rules = rules;
      this.inputSchema = inputSchema;
      this.ok = RunCounters.counter("conform." + model.name() + ".ok");
      this.deadLettered = RunCounters.counter("conform." + model.name() + ".dead_lettered");
    }

    @Setup
    public void setup() {
      compiled = new ArrayList<>();
      for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
        compiled.add(
            new CompiledRule(
                model.name(), rule.getKey(), rule.getValue(), model.schema(), inputSchema));
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
          FieldRule.OnError onError = rule.rule.onError();
          if (onError == FieldRule.OnError.DEAD_LETTER) {
            deadLettered.inc();
            out.get(DEAD_LETTERS).output(DeadLetter.of(STAGE, e.reason(), e.getMessage(), raw));
            return;
          }
          // The field alone gives way: null, its raw text kept where asked, and a finding.
          values[rule.targetIndex] = null;
          if (onError == FieldRule.OnError.KEEP_RAW) {
            values[rule.rawIndex] = rule.lastText;
            rule.keptRaw.inc();
          } else {
            rule.nulled.inc();
          }
          out.get(FINDINGS).output(finding(rule, onError, e, raw));
        }
      }
      for (int key : keyIndexes) {
        if (values[key] == null && !truncate) {
          deadLettered.inc();
          out.get(DEAD_LETTERS)
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
          out.get(DEAD_LETTERS)
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
          out.get(DEAD_LETTERS)
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
      out.get(ROWS).output(Row.withSchema(schema).attachValues(Arrays.asList(values)));
    }

    private Row finding(CompiledRule rule, FieldRule.OnError onError, ConformException e, Row raw) {
      return Row.withSchema(Quality.FINDING)
          .addValues(
              model.name(),
              "conform " + rule.target,
              onError.toString(),
              e.reason() + ": " + e.getMessage(),
              sourceIn >= 0 ? raw.getString(sourceIn) : null,
              positionIn >= 0 ? raw.getString(positionIn) : null,
              RawRecords.payload(raw))
          .build();
    }
  }
}
