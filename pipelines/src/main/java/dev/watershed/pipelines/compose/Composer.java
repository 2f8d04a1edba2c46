package dev.watershed.pipelines.compose;

import dev.watershed.io.WriteMode;
import dev.watershed.io.files.ReplaySource;
import dev.watershed.io.jdbc.DestinationValues;
import dev.watershed.io.jdbc.HighestMark;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcLoad;
import dev.watershed.io.jdbc.Scd2;
import dev.watershed.io.sync.SyncDiff;
import dev.watershed.io.sync.SyncLedger;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.DeadLetterSpec;
import dev.watershed.pipelines.config.DedupeSpec;
import dev.watershed.pipelines.config.HistorySpec;
import dev.watershed.pipelines.config.IdentitySpec;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SyncSpec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.transforms.conform.Conform;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.dedupe.Dedupe;
import dev.watershed.transforms.dedupe.StreamingDedupe;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.Quality;
import dev.watershed.transforms.quality.QualityRule;
import dev.watershed.transforms.records.RawRecords;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Filter;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;

/**
 * Turns a {@link Spec} into a Beam graph: the only class that knows both.
 *
 * <p>The graph, in the order {@code watershed plan} prints it:
 *
 * <ol>
 *   <li>{@code source <name>}: each source read into raw rows;
 *   <li>{@code conform <source> to <model>}: each conform entry;
 *   <li>{@code collect <model>}: the conformed rows of a model from all its sources;
 *   <li>{@code dedupe <model>}: exact dedupe when the spec asks for it, and by the model key
 *       whenever a sink merges (a merge needs one row per key);
 *   <li>{@code load <sink> <model>}: each model into each sink that takes it;
 *   <li>{@code dead letters}: every stage's dead letters into one JSON lines file.
 * </ol>
 *
 * <p>Counters that {@link RunSummary} reads are named here and in the transforms.
 */
public final class Composer {
  private final Spec spec;
  private final Pipeline pipeline;
  private final RunContext context;
  private final List<PCollection<Row>> checks = new ArrayList<>();
  private final List<PCollection<Row>> findings = new ArrayList<>();
  private PCollectionView<Boolean> gate;
  private final List<PCollection<Row>> deadLetters = new ArrayList<>();

  /** By source: the highest value of its {@link SourceConfig#markField} this run read. */
  private final Map<String, PCollectionView<String>> foundMarks = new LinkedHashMap<>();

  private Composer(Spec spec, Pipeline pipeline, RunContext context) {
    this.spec = spec;
    this.pipeline = pipeline;
    this.context = context;
  }

  /**
   * Adds the spec's steps to {@code pipeline}; returns the plan: the steps of the graph with their
   * display data ({@link Plan}).
   */
  public static List<String> compose(Spec spec, Pipeline pipeline) {
    return compose(spec, pipeline, RunContext.at(Instant.now()));
  }

  /** As {@link #compose(Spec, Pipeline)}, with the run's clock and the last run's row counts. */
  public static List<String> compose(Spec spec, Pipeline pipeline, RunContext context) {
    Composer composer = new Composer(spec, pipeline, context);
    composer.build();
    return Plan.of(spec, pipeline);
  }

  private void build() {
    Map<String, PCollection<Row>> raw = new LinkedHashMap<>();
    for (SourceConfig source : spec.sources().values()) {
      raw.put(source.name(), read(source));
    }
    Map<String, List<PCollection<Row>>> conformed = new LinkedHashMap<>();
    for (ConformSpec entry : spec.conform()) {
      CanonicalModel model = spec.models().get(entry.to());
      Conform conform = Conform.to(model);
      for (Map.Entry<String, FieldRule> rule : entry.fields().entrySet()) {
        conform = conform.withField(rule.getKey(), rule.getValue());
      }
      String name = "conform " + entry.from() + " to " + entry.to();
      PCollectionTuple result = raw.get(entry.from()).apply(name, conform);
      deadLetters.add(result.get(Conform.DEAD_LETTERS));
      if (entry.fields().values().stream()
          .anyMatch(rule -> rule.onError() != FieldRule.OnError.DEAD_LETTER)) {
        findings.add(result.get(Conform.FINDINGS));
      }
      conformed.computeIfAbsent(entry.to(), m -> new ArrayList<>()).add(result.get(Conform.ROWS));
    }
    Map<String, PCollection<Row>> deduped = new LinkedHashMap<>();
    Map<String, PCollection<Row>> collected = new LinkedHashMap<>();
    for (CanonicalModel model : spec.models().values()) {
      PCollection<Row> rows =
          PCollectionList.of(conformed.get(model.name()))
              .apply("collect " + model.name(), Flatten.pCollections())
              .setRowSchema(model.schema());
      collected.put(model.name(), rows);
      deduped.put(model.name(), dedupe(model, rows));
    }
    Map<String, PCollection<Row>> ready = new LinkedHashMap<>();
    for (CanonicalModel model : spec.models().values()) {
      PCollection<Row> rows = quality(model, deduped.get(model.name()), deduped);
      ready.put(
          model.name(),
          rows.apply("count " + model.name(), Counting.rows("model." + model.name() + ".loaded"))
              .setRowSchema(model.schema()));
    }
    gate = gateAndReport();
    for (SinkConfig sink : spec.sinks().values()) {
      for (String modelName : spec.modelsOf(sink)) {
        load(sink, spec.models().get(modelName), ready.get(modelName));
      }
    }
    if (!context.isReplay()) {
      // History needs a full snapshot; a replay holds only the records that failed before.
      for (HistorySpec history : spec.history().values()) {
        CanonicalModel model = spec.models().get(history.model());
        // A change stream's history has every change, not only the newest per key.
        keepHistory(
            history,
            model,
            model.tracksChanges() ? collected.get(model.name()) : ready.get(model.name()));
      }
    }
    IdentitySteps identities = new IdentitySteps(spec, pipeline, context, gate);
    for (IdentitySpec identity : spec.identity().values()) {
      identities.resolve(identity, spec.models().get(identity.model()), ready);
    }
    writeDeadLetters();
  }

  private PCollection<Row> read(SourceConfig source) {
    Set<String> columns = new LinkedHashSet<>();
    for (ConformSpec entry : spec.conform()) {
      if (entry.from().equals(source.name())) {
        for (FieldRule rule : entry.fields().values()) {
          columns.addAll(rule.columns());
        }
      }
    }
    String markField = source.markField();
    if (markField != null) {
      columns.add(markField);
    }
    String name = "source " + source.name();
    if (context.isReplay()) {
      return replay(source, name, List.copyOf(columns));
    }
    PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read =
        source.read(
            new ReadContext(
                spec,
                List.copyOf(columns),
                context.ranges().get(source.name()),
                context.missingColumns().getOrDefault(source.name(), Set.of())));
    WithFailures.Result<PCollection<Row>, Row> result = pipeline.apply(name, read);
    deadLetters.add(result.failures());
    if (markField != null && context.ranges().containsKey(source.name())) {
      foundMarks.put(
          source.name(), result.output().apply("mark " + source.name(), HighestMark.of(markField)));
    }
    String drift = context.quarantine().get(source.name());
    if (drift != null) {
      PCollectionTuple quarantined =
          result.output().apply("quarantine " + source.name(), Quarantine.all(drift));
      deadLetters.add(quarantined.get(Quarantine.DEAD_LETTERS));
      return quarantined.get(Quarantine.ROWS).setRowSchema(result.output().getSchema());
    }
    return result.output();
  }

  /** In a replay, a source yields the raw records of its dead letters instead of reading. */
  private PCollection<Row> replay(SourceConfig source, String name, List<String> columns) {
    List<ReplaySource.Record> records = context.replay().getOrDefault(source.name(), List.of());
    ReplaySource replay = source.replay(spec, records);
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(name, replay.withColumns(columns));
    deadLetters.add(result.failures());
    return result.output();
  }

  /** Loads the model's rows into {@code <model>_history} in every table sink that writes it. */
  private void keepHistory(HistorySpec history, CanonicalModel model, PCollection<Row> rows) {
    Scd2 scd2 =
        (history.strategy().equals("changes")
                ? Scd2.changes(history.tracked())
                : history.strategy().equals("timestamp")
                    ? Scd2.timestamp(history.tracked(), history.updatedAt())
                    : Scd2.check(history.tracked()))
            .withDeletes(Scd2.Deletes.valueOf(history.deletes().toUpperCase(Locale.ROOT)))
            .withClock(context.now());
    for (TableSink sink : spec.tableSinksOf(model.name())) {
      String table = sink.tableOf(model.name()) + "_history";
      String name = "history " + sink.name() + " " + model.name();
      rows.apply(
          name,
          JdbcLoad.into(sink.endpoint(spec), table, model)
              .withPipeline(spec.name())
              .withHistory(scd2)
              .withSinkName(sink.name() + "_history")
              .withGate(gate));
    }
  }

  /** The read marks of the sources feeding {@code model} that a load commits with its rows. */
  private Map<String, String> marksFor(CanonicalModel model) {
    Map<String, String> marks = new TreeMap<>();
    for (ConformSpec entry : spec.conformInto(model.name())) {
      ReadRange range = context.ranges().get(entry.from());
      if (range != null && range.to() != null) {
        marks.put(entry.from(), range.to());
      }
    }
    return marks;
  }

  /** The marks found in the data of the sources feeding {@code model}, by source. */
  private Map<String, PCollectionView<String>> foundMarksFor(CanonicalModel model) {
    Map<String, PCollectionView<String>> marks = new TreeMap<>();
    for (ConformSpec entry : spec.conformInto(model.name())) {
      PCollectionView<String> found = foundMarks.get(entry.from());
      if (found != null) {
        marks.put(entry.from(), found);
      }
    }
    return marks;
  }

  /** The first table sink that merges {@code model}, or null. */
  private TableSink mergingTableSink(String model) {
    for (TableSink sink : spec.tableSinksOf(model)) {
      if (sink.mode() == WriteMode.MERGE) {
        return sink;
      }
    }
    return null;
  }

  /** The database of a dead-letter table. */
  public static JdbcEndpoint deadLetterEndpoint(Spec spec, DeadLetterSpec target) {
    return target.type().equals("duckdb")
        ? JdbcEndpoint.of("jdbc:duckdb:" + spec.resolve(target.path()))
        : JdbcEndpoint.of(target.url()).withUser(target.user()).withPassword(target.password());
  }

  /** A replay adds to what earlier runs loaded: it never overwrites. */
  private WriteMode writeMode(SinkConfig sink) {
    return context.isReplay() && sink.mode() == WriteMode.OVERWRITE
        ? WriteMode.APPEND
        : sink.mode();
  }

  private PCollection<Row> dedupe(CanonicalModel model, PCollection<Row> rows) {
    DedupeSpec rule = spec.dedupe().get(model.name());
    if (model.tracksChanges() || spec.isStreaming()) {
      return dedupeChanges(model, rows, rule);
    }
    boolean merged =
        spec.sinks().values().stream()
            .anyMatch(s -> s.mode() == WriteMode.MERGE && spec.modelsOf(s).contains(model.name()));
    PCollection<Row> out = rows;
    if (rule != null) {
      out =
          out.apply(
                  "dedupe " + model.name(),
                  dedupeOf(model.name(), rule.key(), rule).withPreferredSources(rule.prefer()))
              .setRowSchema(model.schema());
    }
    if (merged && (rule == null || !rule.key().equals(model.key()))) {
      String name = "dedupe " + model.name() + " by key";
      out =
          out.apply(name, dedupeOf(model.name() + "_key", model.key(), rule))
              .setRowSchema(model.schema());
    }
    return out;
  }

  /**
   * One row per key for change streams (the newest by {@code _version}) and for streams (the rule's
   * order, or the first seen): over the whole input in batch, per key with a time-to-live while
   * streaming.
   */
  private PCollection<Row> dedupeChanges(
      CanonicalModel model, PCollection<Row> rows, DedupeSpec rule) {
    String orderBy =
        model.tracksChanges() ? RawRecords.VERSION : rule == null ? null : rule.orderBy();
    boolean latest = model.tracksChanges() || rule == null || rule.keep() == Dedupe.Keep.LATEST;
    List<String> tieBreak = rule == null ? List.of() : rule.tieBreak();
    String name = "dedupe " + model.name() + " by key";
    if (spec.isStreaming()) {
      StreamingDedupe dedupe =
          StreamingDedupe.byKey(
                  model.key(),
                  orderBy,
                  tieBreak,
                  Duration.millis(spec.timing().stateTtl().toMillis()))
              .withMetricsName(model.name() + "_key");
      if (!latest) {
        dedupe = dedupe.keepingFirst();
      }
      return rows.apply(name, dedupe).setRowSchema(model.schema());
    }
    Dedupe dedupe =
        Dedupe.byKey(model.key())
            .withMetricsName(model.name() + "_key")
            .keeping(latest ? Dedupe.Keep.LATEST : Dedupe.Keep.FIRST, orderBy);
    if (model.tracksChanges()) {
      dedupe = dedupe.withValuesCarriedIntoDeletes();
    }
    return rows.apply(name, dedupe.withTieBreak(tieBreak)).setRowSchema(model.schema());
  }

  /**
   * Checks a model's quality rules after dedupe, so that rules describe the rows a run would load
   * (a unique rule on a column other than the key is meaningful only once versions are merged).
   */
  private PCollection<Row> quality(
      CanonicalModel model, PCollection<Row> rows, Map<String, PCollection<Row>> deduped) {
    // Dataset rules judge a whole run's rows; a replay holds only the records that failed before.
    List<QualityRule> rules =
        spec.qualityOf(model.name()).stream()
            .filter(rule -> !context.isReplay() || rule.kind().isRowRule())
            .toList();
    if (rules.isEmpty()) {
      return rows;
    }
    if (spec.isStreaming()) {
      return withDeletes(model, rows, streamingQuality(model, rows, rules));
    }
    Quality quality =
        Quality.of(model.name(), rules)
            .withClock(context.now())
            .withLastRunRows(context.lastRunRows().get(model.name()))
            .withHeldNewest(context.heldNewest().get(model.name()));
    for (QualityRule rule : rules) {
      if (rule instanceof QualityRule.Relationships reference) {
        String other = reference.referenceModel();
        quality = quality.withReference(other, deduped.get(other));
      }
      TableSink merged = mergingTableSink(model.name());
      if (rule.kind() == QualityRule.Kind.UNIQUE && merged != null) {
        // A merge load keeps earlier runs' rows: a value must be unique against them too.
        String table = merged.tableOf(model.name());
        quality =
            quality.withExistingValues(
                rule.column(),
                model.key(),
                pipeline.apply(
                    "stored " + model.name() + "." + rule.column() + " in " + merged.name(),
                    DestinationValues.of(
                        merged.endpoint(spec), table, model.key(), rule.column())));
      }
    }
    String name = "quality " + model.name();
    PCollectionTuple checked = upserts(model, rows).apply(name, quality);
    deadLetters.add(checked.get(Quality.DEAD_LETTERS));
    checks.add(checked.get(Quality.CHECKS));
    findings.add(checked.get(Quality.FINDINGS));
    return withDeletes(model, rows, checked.get(Quality.ROWS));
  }

  /**
   * The rows quality rules judge: all of them, or for a change stream only the upserts, since a
   * delete has no new image to judge.
   */
  private static PCollection<Row> upserts(CanonicalModel model, PCollection<Row> rows) {
    if (!model.tracksChanges()) {
      return rows;
    }
    return rows.apply(
            "upserts of " + model.name(),
            Filter.by((Row row) -> !Boolean.TRUE.equals(row.getBoolean(RawRecords.DELETED))))
        .setRowSchema(model.schema());
  }

  /**
   * {@code checked} and, for a change stream, the deletes of {@code rows}, which pass as they are.
   */
  private static PCollection<Row> withDeletes(
      CanonicalModel model, PCollection<Row> rows, PCollection<Row> checked) {
    if (!model.tracksChanges()) {
      return checked;
    }
    PCollection<Row> deletes =
        rows.apply(
                "deletes of " + model.name(),
                Filter.by((Row row) -> Boolean.TRUE.equals(row.getBoolean(RawRecords.DELETED))))
            .setRowSchema(model.schema());
    return PCollectionList.of(checked)
        .and(deletes)
        .apply("with deletes " + model.name(), Flatten.pCollections())
        .setRowSchema(model.schema());
  }

  /** Row rules on a stream: each change's new image judged on its own. */
  private PCollection<Row> streamingQuality(
      CanonicalModel model, PCollection<Row> rows, List<QualityRule> rules) {
    String name = "quality " + model.name();
    PCollectionTuple checked =
        upserts(model, rows).apply(name, Quality.rowRulesOnly(model.name(), rules));
    deadLetters.add(checked.get(Quality.DEAD_LETTERS));
    return checked.get(Quality.ROWS);
  }

  /**
   * Writes the quality checks and up to five failing rows per rule for the run report, and returns
   * the gate every load waits for: open unless a rule that fails the run failed.
   */
  private PCollectionView<Boolean> gateAndReport() {
    String folder = spec.resolve(spec.reportPath());
    if (!spec.isStreaming() && !findings.isEmpty()) {
      // Samples of quality findings and of conform fields set aside (on_error), for the report.
      PCollectionList.of(findings)
          .apply("collect findings", Flatten.pCollections())
          .setRowSchema(Quality.FINDING)
          .apply("sample findings", Samples.perRule(5))
          .apply("write samples", RowFiles.jsonLines(folder + "/samples"));
    }
    if (checks.isEmpty()) {
      return null;
    }
    PCollection<Row> allChecks =
        PCollectionList.of(checks)
            .apply("collect checks", Flatten.pCollections())
            .setRowSchema(Quality.CHECK);
    allChecks.apply("write checks", RowFiles.jsonLines(folder + "/checks"));
    return allChecks.apply("quality gate", Gate.fromChecks());
  }

  private static Dedupe dedupeOf(String metricsName, List<String> key, DedupeSpec rule) {
    Dedupe dedupe = Dedupe.byKey(key).withMetricsName(metricsName);
    if (rule == null) {
      return dedupe;
    }
    return dedupe.keeping(rule.keep(), rule.orderBy()).withTieBreak(rule.tieBreak());
  }

  private void load(SinkConfig sink, CanonicalModel model, PCollection<Row> rows) {
    String name = "load " + sink.name() + " " + model.name();
    SyncSpec sync = sink.sync();
    SyncLedger ledger = null;
    if (sync != null) {
      // The sink receives only what it has not received as it is now; a table applies it as a
      // change stream (deletes included).
      ledger = sync.ledgerOf(spec, sink.name(), model.name());
      rows =
          rows.apply(
              "sync " + sink.name() + " " + model.name(), SyncDiff.of(ledger, model, sync.mode()));
      if (sink.syncsAsChanges()) {
        model = model.withChanges();
        rows =
            rows.apply(
                "changes " + sink.name() + " " + model.name(),
                SyncDiff.asChanges(model, context.now()));
      }
    }
    DedupeSpec rule = spec.dedupe().get(model.name());
    String version = rule != null && rule.keep() == Dedupe.Keep.LATEST ? rule.orderBy() : null;
    PCollection<Row> refused =
        sink.load(
            rows,
            name,
            new LoadContext(
                spec,
                model,
                writeMode(sink),
                version,
                gate,
                marksFor(model),
                foundMarksFor(model),
                context.now(),
                ledger));
    if (refused != null) {
      deadLetters.add(refused);
    }
  }

  private void writeDeadLetters() {
    PCollection<Row> all =
        PCollectionList.of(deadLetters)
            .apply("collect dead letters", Flatten.pCollections())
            .setRowSchema(DeadLetter.SCHEMA);
    DeadLetterSpec target = spec.deadLetter();
    if (target.isKafka() && context.deadLetterFile() == null) {
      all.apply("dead letters", DeadLetterFile.toKafka(target.url(), target.table()));
      return;
    }
    if (target.isTable() && context.deadLetterFile() == null) {
      all.apply(
          "dead letters",
          DeadLetterTable.into(deadLetterEndpoint(spec, target), target.table(), spec.name()));
      return;
    }
    String file = context.deadLetterFile() != null ? context.deadLetterFile() : target.file();
    all.apply(
        "dead letters", DeadLetterFile.appending(spec.resolve(file), context.now().toString()));
  }
}
