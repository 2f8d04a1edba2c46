package dev.watershed.transforms.quality;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.RowJson;
import dev.watershed.transforms.quality.QualityRule.Kind;
import dev.watershed.transforms.quality.QualityRule.OnFailure;
import dev.watershed.transforms.records.RawRecords;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Checks a model's rows against its {@link QualityRule}s.
 *
 * <p>Row rules run in order on every row (per-row rules first, then {@code unique}, then {@code
 * relationships}); a failure emits a {@link #FINDINGS finding} and then does what the rule's {@link
 * OnFailure} says: the row goes to {@link #DEAD_LETTERS} (stage {@value #STAGE}, reason {@value
 * #REASON}, the rule's name), is dropped, or is kept. Dataset rules are then checked once on the
 * rows that passed, the rows the run would load. Every dataset rule, and every row rule set to fail
 * that failed, yields one {@link #CHECKS check}; a check that did not pass and whose rule fails the
 * run means no load of the run may commit.
 *
 * <pre>{@code
 * PCollectionTuple checked =
 *     customers.apply(
 *         Quality.of("customer", List.of(QualityRule.notNull("email"), QualityRule.rowCount(1L, null)))
 *             .withClock(Instant.now()));
 * checked.get(Quality.ROWS);          // rows to load
 * checked.get(Quality.DEAD_LETTERS);  // rows that failed a dead_letter rule
 * checked.get(Quality.CHECKS);        // dataset checks: passed or not
 * }</pre>
 *
 * <p>Counters (namespace {@code watershed}): {@code quality.<model>.<rule>.failed}, {@code
 * quality.<model>.dead_lettered}, {@code quality.<model>.dropped}.
 */
public final class Quality extends PTransform<PCollection<Row>, PCollectionTuple> {
  /** The stage name written into dead letters. */
  public static final String STAGE = "quality";

  /** The reason written into dead letters; the rule is named in the dead letter's rule field. */
  public static final String REASON = "quality rule failed";

  public static final TupleTag<Row> ROWS = new TupleTag<>("rows");
  public static final TupleTag<Row> DEAD_LETTERS = new TupleTag<>("dead_letters");
  public static final TupleTag<Row> FINDINGS = new TupleTag<>("findings");
  public static final TupleTag<Row> CHECKS = new TupleTag<>("checks");

  /** One row that failed one rule. */
  public static final Schema FINDING =
      Schema.builder()
          .addStringField("model")
          .addStringField("rule")
          .addStringField("on_failure")
          .addStringField("detail")
          .addNullableField("source", Schema.FieldType.STRING)
          .addNullableField("position", Schema.FieldType.STRING)
          .addStringField("payload")
          .build();

  /** The outcome of one dataset rule, or of a row rule that fails the run. */
  public static final Schema CHECK =
      Schema.builder()
          .addStringField("model")
          .addStringField("rule")
          .addStringField("on_failure")
          .addBooleanField("passed")
          .addStringField("observed")
          .addStringField("detail")
          .build();

  private final String model;
  private final List<QualityRule> rules;
  private final Map<String, PCollection<Row>> references;
  private final Instant now;
  private final Long lastRunRows;
  private final Instant heldNewest;
  private final List<String> key;
  private final Map<String, PCollection<KV<String, String>>> existing;

  private Quality(
      String model,
      List<QualityRule> rules,
      Map<String, PCollection<Row>> references,
      Instant now,
      Long lastRunRows,
      Instant heldNewest,
      List<String> key,
      Map<String, PCollection<KV<String, String>>> existing) {
    this.heldNewest = heldNewest;
    this.key = key;
    this.existing = existing;
    this.model = model;
    this.rules = List.copyOf(rules);
    this.references = references;
    this.now = now;
    this.lastRunRows = lastRunRows;
  }

  public static Quality of(String model, List<QualityRule> rules) {
    return new Quality(model, rules, Map.of(), Instant.EPOCH, null, null, List.of(), Map.of());
  }

  /** The rows of another model, for {@code relationships} rules that point at it. */
  public Quality withReference(String referencedModel, PCollection<Row> rows) {
    Map<String, PCollection<Row>> next = new HashMap<>(references);
    next.put(referencedModel, rows);
    return new Quality(model, rules, next, now, lastRunRows, heldNewest, key, existing);
  }

  /** The run's clock, for {@code freshness} rules. */
  public Quality withClock(Instant instant) {
    return new Quality(model, rules, references, instant, lastRunRows, heldNewest, key, existing);
  }

  /** Rows the last successful run loaded, for {@code row_count} ratios; null when unknown. */
  public Quality withLastRunRows(Long rows) {
    return new Quality(model, rules, references, now, rows, heldNewest, key, existing);
  }

  /**
   * The newest record the destination already holds, for {@code freshness} rules: a run that reads
   * nothing newer (an incremental run with nothing new) is as fresh as that. Null when unknown.
   */
  public Quality withHeldNewest(Instant newest) {
    return new Quality(model, rules, references, now, lastRunRows, newest, key, existing);
  }

  /**
   * The values of {@code column} already in the destination, as (value, key text) pairs, so that
   * {@code unique(column)} also fails a row whose value belongs to another key there. {@code
   * keyFields} are the model's key.
   */
  public Quality withExistingValues(
      String column, List<String> keyFields, PCollection<KV<String, String>> values) {
    Map<String, PCollection<KV<String, String>>> next = new HashMap<>(existing);
    next.put(column, values);
    return new Quality(
        model, rules, references, now, lastRunRows, heldNewest, List.copyOf(keyFields), next);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("model", model));
    for (QualityRule rule : rules) {
      builder.add(
          DisplayData.item(
              "rule." + rule.name(),
              rule.kind().specName() + ", on failure " + rule.onFailure().specName()));
    }
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> input) {
    Schema schema = input.getSchema();
    List<QualityRule> perRow = new ArrayList<>();
    for (QualityRule rule : rules) {
      if (rule.column() != null && !schema.hasField(rule.column())) {
        throw new IllegalArgumentException(
            "rule " + rule.name() + ": model " + model + " has no field '" + rule.column() + "'");
      }
      if (rule.kind().isRowRule()
          && rule.kind() != Kind.UNIQUE
          && rule.kind() != Kind.RELATIONSHIPS) {
        perRow.add(rule);
      }
    }
    List<PCollection<Row>> deadLetters = new ArrayList<>();
    List<PCollection<Row>> findings = new ArrayList<>();
    PCollectionTuple step =
        input.apply(
            "RowRules",
            ParDo.of(new QualityFns.RowRulesFn(model, perRow))
                .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
    PCollection<Row> rows = collect(step, schema, deadLetters, findings);
    for (QualityRule rule : rules) {
      if (rule.kind() == Kind.UNIQUE) {
        rows = collect(unique(rows, rule), schema, deadLetters, findings);
      } else if (rule.kind() == Kind.RELATIONSHIPS) {
        rows =
            collect(
                relationships(rows, (QualityRule.Relationships) rule),
                schema,
                deadLetters,
                findings);
      }
    }
    PCollection<Row> allFindings =
        PCollectionList.of(findings)
            .apply("Findings", Flatten.pCollections())
            .setRowSchema(FINDING);
    List<PCollection<Row>> checks = new ArrayList<>();
    checks.add(failingRowRules(allFindings));
    for (QualityRule rule : rules) {
      if (!rule.kind().isRowRule()) {
        checks.add(datasetCheck(rows, rule));
      }
    }
    return PCollectionTuple.of(ROWS, rows)
        .and(
            DEAD_LETTERS,
            PCollectionList.of(deadLetters)
                .apply("DeadLetters", Flatten.pCollections())
                .setRowSchema(DeadLetter.SCHEMA))
        .and(FINDINGS, allFindings)
        .and(
            CHECKS,
            PCollectionList.of(checks).apply("Checks", Flatten.pCollections()).setRowSchema(CHECK));
  }

  static PCollection<Row> collect(
      PCollectionTuple step,
      Schema schema,
      List<PCollection<Row>> deadLetters,
      List<PCollection<Row>> findings) {
    deadLetters.add(step.get(DEAD_LETTERS).setRowSchema(DeadLetter.SCHEMA));
    findings.add(step.get(FINDINGS).setRowSchema(FINDING));
    return step.get(ROWS).setRowSchema(schema);
  }

  private PCollectionTuple unique(PCollection<Row> rows, QualityRule rule) {
    String column = rule.column();
    PCollection<KV<String, String>> stored = existing.get(column);
    if (stored != null) {
      TupleTag<Row> mine = new TupleTag<>("rows");
      TupleTag<String> keys = new TupleTag<>("stored_keys");
      PCollection<KV<String, Row>> keyed =
          rows.apply("KeyBy " + rule.name(), ParDo.of(new QualityFns.KeyByFn(column)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), rows.getCoder()));
      return KeyedPCollectionTuple.of(mine, keyed)
          .and(keys, stored)
          .apply("Join stored " + rule.name(), CoGroupByKey.create())
          .apply(
              rule.name(),
              ParDo.of(new QualityFns.UniqueWithStoredFn(model, rule, key, mine, keys))
                  .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
    }
    return rows.apply("KeyBy " + rule.name(), ParDo.of(new QualityFns.KeyByFn(column)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), rows.getCoder()))
        .apply("Group " + rule.name(), GroupByKey.create())
        .apply(
            rule.name(),
            ParDo.of(new QualityFns.UniqueFn(model, rule))
                .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
  }

  private PCollectionTuple relationships(PCollection<Row> rows, QualityRule.Relationships rule) {
    PCollection<Row> referenced = references.get(rule.referenceModel());
    if (referenced == null) {
      throw new IllegalArgumentException(
          "rule "
              + rule.name()
              + " needs the rows of model "
              + rule.referenceModel()
              + " (withReference)");
    }
    String field = rule.referenceField();
    TupleTag<Row> mine = new TupleTag<>("rows");
    TupleTag<Integer> known = new TupleTag<>("known");
    PCollection<KV<String, Row>> keyed =
        rows.apply("KeyBy " + rule.name(), ParDo.of(new QualityFns.KeyByFn(rule.column())))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), rows.getCoder()));
    PCollection<KV<String, Integer>> values =
        referenced
            .apply(
                "Values of " + rule.referenceModel() + "." + field + " for " + rule.name(),
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.integers()))
                    .via((Row r) -> KV.of(keyText(r.getValue(field)), 1)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of()));
    return KeyedPCollectionTuple.of(mine, keyed)
        .and(known, values)
        .apply("Join " + rule.name(), CoGroupByKey.create())
        .apply(
            rule.name(),
            ParDo.of(new QualityFns.RelationshipFn(model, rule, mine, known))
                .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
  }

  /** One check per row rule set to fail the run that some row failed. */
  private PCollection<Row> failingRowRules(PCollection<Row> findings) {
    return findings
        .apply(
            "RulesThatFailTheRun",
            MapElements.into(TypeDescriptors.strings())
                .via(
                    (Row f) ->
                        OnFailure.FAIL.specName().equals(f.getString("on_failure"))
                            ? f.getString("rule")
                            : ""))
        .apply("CountFailuresPerRule", Count.perElement())
        .apply("FailedRowRules", ParDo.of(new QualityFns.FailedRowRulesFn(model)))
        .setRowSchema(CHECK);
  }

  private PCollection<Row> datasetCheck(PCollection<Row> rows, QualityRule rule) {
    if (rule.kind() == Kind.DUPLICATE_RATE) {
      String column = rule.column();
      return rows.apply(
              "Values " + rule.name(),
              MapElements.into(TypeDescriptors.strings())
                  .via((Row r) -> keyText(r.getValue(column))))
          .apply("Count " + rule.name(), Count.perElement())
          .apply(
              "Repeats " + rule.name(),
              MapElements.into(
                      TypeDescriptors.kvs(TypeDescriptors.longs(), TypeDescriptors.longs()))
                  .via(
                      (KV<String, Long> v) ->
                          v.getKey().equals(NULL_KEY)
                              ? KV.of(0L, 0L)
                              : KV.of(v.getValue() - 1, v.getValue())))
          .apply(rule.name(), Combine.globally(new QualityFns.DuplicateRateFn(model, rule)))
          .setRowSchema(CHECK);
    }
    return rows.apply(
            rule.name(),
            Combine.globally(new QualityFns.DatasetFn(model, rule, now, lastRunRows, heldNewest)))
        .setRowSchema(CHECK);
  }

  static final String NULL_KEY = "\u0000null";

  static String keyText(Object value) {
    return value == null ? NULL_KEY : QualityRule.text(value);
  }

  static Row check(
      String model,
      String rule,
      OnFailure onFailure,
      boolean passed,
      String observed,
      String detail) {
    return Row.withSchema(CHECK)
        .addValues(model, rule, onFailure.specName(), passed, observed, detail)
        .build();
  }

  /** Reports a failed row and applies the rule's action; true when the row goes on. */
  static boolean fail(
      String model, QualityRule rule, Row row, String detail, DoFn.MultiOutputReceiver out) {
    RunCounters.counter("quality." + model + "." + rule.name() + ".failed").inc();
    String payload = new RowJson().apply(row);
    Schema schema = row.getSchema();
    String source = schema.hasField(RawRecords.SOURCE) ? row.getString(RawRecords.SOURCE) : null;
    String position =
        schema.hasField(RawRecords.POSITION) ? row.getString(RawRecords.POSITION) : null;
    out.get(FINDINGS)
        .output(
            Row.withSchema(FINDING)
                .addValues(
                    model,
                    rule.name(),
                    rule.onFailure().specName(),
                    detail,
                    source,
                    position,
                    payload)
                .build());
    switch (rule.onFailure()) {
      case DEAD_LETTER:
        RunCounters.counter("quality." + model + ".dead_lettered").inc();
        out.get(DEAD_LETTERS)
            .output(
                DeadLetter.forRule(STAGE, REASON, rule.name(), detail, source, position, payload));
        return false;
      case DROP:
        RunCounters.counter("quality." + model + ".dropped").inc();
        return false;
      default:
        return true;
    }
  }

  /**
   * Only the rules that judge one row at a time (not_null, accepted_values, regex, range,
   * expression), for endless streams, where rules over all rows (unique, relationships, dataset
   * rules) and a gate that stops a whole run have no end of input to wait for. Output: {@link
   * #ROWS}, {@link #DEAD_LETTERS} and {@link #FINDINGS}.
   */
  public static PTransform<PCollection<Row>, PCollectionTuple> rowRulesOnly(
      String model, List<QualityRule> rules) {
    for (QualityRule rule : rules) {
      if (!rule.kind().isRowRule()
          || rule.kind() == Kind.UNIQUE
          || rule.kind() == Kind.RELATIONSHIPS) {
        throw new IllegalArgumentException(
            "rule " + rule.name() + " judges all rows together; it cannot run on a stream");
      }
    }
    return new PTransform<PCollection<Row>, PCollectionTuple>() {
      @Override
      public PCollectionTuple expand(PCollection<Row> input) {
        PCollectionTuple step =
            input.apply(
                "RowRules",
                ParDo.of(new QualityFns.RowRulesFn(model, rules))
                    .withOutputTags(ROWS, TupleTagList.of(DEAD_LETTERS).and(FINDINGS)));
        step.get(ROWS).setRowSchema(input.getSchema());
        step.get(DEAD_LETTERS).setRowSchema(DeadLetter.SCHEMA);
        step.get(FINDINGS).setRowSchema(FINDING);
        return step;
      }
    };
  }
}
