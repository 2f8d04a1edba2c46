package dev.watershed.pipelines.compose;

import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.transform.SqlTransform;
import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.drift.DriftEvent;
import dev.watershed.transforms.quality.QualityRule;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * What a run did, from its counters: rows read per source, conformed, dead-lettered, merged away by
 * dedupe and loaded per model and sink, and whether every model reconciles:
 *
 * <pre>in = loaded + merged away + dead-lettered + dropped</pre>
 *
 * <p>where {@code in} counts every record read from the model's sources, and dead letters count
 * both records that could not be read (extract) and those that could not be conformed.
 */
public final class RunSummary {
  private final Spec spec;
  private final Map<String, Long> counters;
  private final Duration elapsed;
  private final String runner;
  private final List<CheckResult> checks;
  private final List<DriftEvent> drift;
  private final StageTimeline timeline;
  private final SqlTransform.Outcome sqlModels;

  private RunSummary(
      Spec spec,
      Map<String, Long> counters,
      Duration elapsed,
      String runner,
      List<CheckResult> checks,
      List<DriftEvent> drift,
      StageTimeline timeline,
      SqlTransform.Outcome sqlModels) {
    this.timeline = timeline;
    this.sqlModels = sqlModels;
    this.checks = List.copyOf(checks);
    this.drift = List.copyOf(drift);
    this.spec = spec;
    this.counters = counters;
    this.elapsed = elapsed;
    this.runner = runner;
  }

  public static RunSummary of(
      Spec spec, Map<String, Long> counters, Duration elapsed, String runner) {
    return new RunSummary(
        spec,
        Map.copyOf(counters),
        elapsed,
        runner,
        List.of(),
        List.of(),
        StageTimeline.NONE,
        SqlTransform.Outcome.NONE);
  }

  /** The same summary with the run's quality checks. */
  public RunSummary withChecks(List<CheckResult> results) {
    return new RunSummary(spec, counters, elapsed, runner, results, drift, timeline, sqlModels);
  }

  /** The same summary with the schema changes found before the run. */
  public RunSummary withDrift(List<DriftEvent> events) {
    return new RunSummary(spec, counters, elapsed, runner, checks, events, timeline, sqlModels);
  }

  /** The same summary with when the run did what. */
  public RunSummary withTimeline(StageTimeline stages) {
    return new RunSummary(spec, counters, elapsed, runner, checks, drift, stages, sqlModels);
  }

  /** The same summary with what the SQL models did after the load. */
  public RunSummary withSqlModels(SqlTransform.Outcome outcome) {
    return new RunSummary(spec, counters, elapsed, runner, checks, drift, timeline, outcome);
  }

  public SqlTransform.Outcome sqlModels() {
    return sqlModels;
  }

  public StageTimeline timeline() {
    return timeline;
  }

  public List<DriftEvent> drift() {
    return drift;
  }

  public List<CheckResult> checks() {
    return checks;
  }

  /** True when a check that fails the run did not pass: then nothing was committed. */
  public boolean blocked() {
    return checks.stream().anyMatch(CheckResult::blocks);
  }

  public Map<String, Long> counters() {
    return counters;
  }

  public Duration elapsed() {
    return elapsed;
  }

  public String runner() {
    return runner;
  }

  public Spec spec() {
    return spec;
  }

  /** The {@code watershed} counters of a finished run, by name. */
  public static Map<String, Long> counters(PipelineResult result) {
    MetricQueryResults metrics = result.metrics().queryMetrics(MetricsFilter.builder().build());
    Map<String, Long> out = new TreeMap<>();
    for (MetricResult<Long> counter : metrics.getCounters()) {
      if (!counter.getName().getNamespace().equals("watershed")) {
        continue;
      }
      Long value;
      try {
        value = counter.getCommitted();
      } catch (UnsupportedOperationException e) {
        value = counter.getAttempted();
      }
      out.merge(counter.getName().getName(), value == null ? 0L : value, Long::sum);
    }
    return out;
  }

  /**
   * A counter of the run by its name ({@code identity.customer.golden}); 0 when it never counted.
   */
  public long counter(String name) {
    return counters.getOrDefault(name, 0L);
  }

  public long read(String source) {
    return counter("source." + source + ".read");
  }

  /** Kafka records with a null value (a tombstone), skipped: not counted as read. */
  public long tombstones(String source) {
    return counter("source." + source + ".tombstones");
  }

  public long extractDeadLettered(String source) {
    return counter("dead.extract." + source);
  }

  private Set<String> sourcesOf(String model) {
    Set<String> sources = new LinkedHashSet<>();
    for (ConformSpec entry : spec.conformInto(model)) {
      sources.add(entry.from());
    }
    return sources;
  }

  /** Records read from the sources that feed {@code model}. */
  public long in(String model) {
    return sourcesOf(model).stream().mapToLong(this::read).sum();
  }

  public long conformed(String model) {
    return counter("conform." + model + ".ok");
  }

  /**
   * Dead letters on the way to {@code model}: unreadable records of its sources, and unconformable
   * ones.
   */
  public long deadLettered(String model) {
    long extract = sourcesOf(model).stream().mapToLong(this::extractDeadLettered).sum();
    return extract
        + counter("conform." + model + ".dead_lettered")
        + counter("quality." + model + ".dead_lettered");
  }

  /** Rows dropped by quality rules set to drop. */
  public long dropped(String model) {
    return counter("quality." + model + ".dropped");
  }

  /** Rows a sink refused (BigQuery rejects rows it cannot store); they are dead letters. */
  public long rejectedBy(String sink, String model) {
    return counter("rejected." + sink + "." + model);
  }

  /** Rows a sink did not commit because the quality gate was closed. */
  public long blockedInto(String sink, String model) {
    return counter("blocked." + sink + "." + model);
  }

  /**
   * Per model and field whose conform rule sets unconformable values to null or keeps them raw
   * ({@code on_error}): how many values it did so with, as model → field → count. Fields that never
   * did are left out.
   */
  public Map<String, Map<String, Long>> conformedAside() {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    for (ConformSpec entry : spec.conform()) {
      for (Map.Entry<String, FieldRule> rule : entry.fields().entrySet()) {
        if (rule.getValue().onError() == FieldRule.OnError.DEAD_LETTER) {
          continue;
        }
        String prefix = "conform." + entry.to() + ".field." + rule.getKey();
        long count = counter(prefix + ".nulled") + counter(prefix + ".kept_raw");
        if (count > 0) {
          out.computeIfAbsent(entry.to(), m -> new TreeMap<>()).put(rule.getKey(), count);
        }
      }
    }
    return out;
  }

  private FieldRule.OnError onErrorOf(String model, String field) {
    for (ConformSpec entry : spec.conformInto(model)) {
      FieldRule rule = entry.fields().get(field);
      if (rule != null && rule.onError() != FieldRule.OnError.DEAD_LETTER) {
        return rule.onError();
      }
    }
    return FieldRule.OnError.DEAD_LETTER;
  }

  /** The number of rows that failed a quality rule of a model. */
  public long failed(String model, String rule) {
    return counter("quality." + model + "." + rule + ".failed");
  }

  /**
   * Whether {@code rule} of {@code model} passed: no row failed a row rule; a dataset rule's check
   * passed. Null when a dataset rule was not checked (a run that stopped before its checks).
   */
  public Boolean passed(String model, QualityRule rule) {
    if (rule.kind().isRowRule()) {
      return failed(model, rule.name()) == 0;
    }
    return checks.stream()
        .filter(c -> c.model().equals(model) && c.rule().equals(rule.name()))
        .map(CheckResult::passed)
        .findFirst()
        .orElse(null);
  }

  /**
   * Bytes of the files a file sink (Parquet, CSV, JSON lines) published for a model; null for other
   * sinks, whose bytes written are not known.
   */
  public Long bytesInto(String sink, String model) {
    return counters.get("bytes." + sink + "." + model);
  }

  public long mergedAway(String model) {
    long merged = 0;
    for (String stage : List.of(model, model + "_key")) {
      merged += counter("dedupe." + stage + ".in") - counter("dedupe." + stage + ".kept");
    }
    return merged;
  }

  public long loaded(String model) {
    return counter("model." + model + ".loaded");
  }

  public long loadedInto(String sink, String model) {
    return counter("load." + sink + "." + model);
  }

  /**
   * The synced sinks whose destination failed during the run (refused credentials, or down), as
   * "sink model"; their rows are dead letters the next run sends again.
   */
  public List<String> destinationsDown() {
    List<String> down = new ArrayList<>();
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        if (counter("down." + sink.name() + "." + model) > 0) {
          down.add(sink.name() + " " + model);
        }
      }
    }
    return down;
  }

  /** Rows a synced sink already held as they are, which the run did not send it again. */
  public long unchangedFor(String sink, String model) {
    return counter("sync." + sink + "." + model + ".unchanged");
  }

  /** New keys a sink synced in {@code update} mode was not sent. */
  public long heldBackFrom(String sink, String model) {
    return counter("sync." + sink + "." + model + ".held_back");
  }

  /** Deletes a mirroring sink was sent for keys the model no longer has. */
  public long removedFrom(String sink, String model) {
    return counter("sync." + sink + "." + model + ".removed");
  }

  /**
   * True when every model reconciles and every sink took every row of each model it writes: a
   * synced sink's {@code loaded + blocked + rejected + unchanged + held back = model loaded +
   * removed}.
   */
  public boolean reconciled() {
    for (String model : spec.models().keySet()) {
      if (!reconciled(model)) {
        return false;
      }
    }
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        if (loadedInto(sink.name(), model)
                + blockedInto(sink.name(), model)
                + rejectedBy(sink.name(), model)
                + unchangedFor(sink.name(), model)
                + heldBackFrom(sink.name(), model)
            != loaded(model) + removedFrom(sink.name(), model)) {
          return false;
        }
      }
    }
    return true;
  }

  public boolean reconciled(String model) {
    return in(model) == loaded(model) + mergedAway(model) + deadLettered(model) + dropped(model);
  }

  /** Dead-letter counts by stage and reason, largest first. */
  public List<Map.Entry<String, Long>> topReasons(int limit) {
    List<Map.Entry<String, Long>> reasons = new ArrayList<>();
    for (Map.Entry<String, Long> counter : counters.entrySet()) {
      if (counter.getKey().startsWith("reason.") && counter.getValue() > 0) {
        String rest = counter.getKey().substring("reason.".length());
        int dot = rest.indexOf('.');
        reasons.add(
            Map.entry(rest.substring(0, dot) + ": " + rest.substring(dot + 1), counter.getValue()));
      }
    }
    reasons.sort(
        (a, b) ->
            b.getValue().equals(a.getValue())
                ? a.getKey().compareTo(b.getKey())
                : Long.compare(b.getValue(), a.getValue()));
    return reasons.subList(0, Math.min(limit, reasons.size()));
  }

  /** The summary as printed at the end of {@code watershed run}. */
  public String render() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%n%s: %s run on %s in %.1f s%n%n",
            spec.name(), spec.mode(), runner, elapsed.toMillis() / 1000.0));
    out.append(String.format("%-14s %-8s %10s %14s%n", "source", "type", "read", "dead-lettered"));
    for (SourceConfig source : spec.sources().values()) {
      out.append(
          String.format(
              "%-14s %-8s %10d %14d%n",
              source.name(),
              source.type(),
              read(source.name()),
              extractDeadLettered(source.name())));
    }
    for (SourceConfig source : spec.sources().values()) {
      long skipped = tombstones(source.name());
      if (skipped > 0) {
        out.append(
            String.format(
                "%-14s %d tombstones skipped (null values that follow deletes; not records)%n",
                source.name(), skipped));
      }
    }
    out.append(
        String.format(
            "%n%-14s %10s %10s %14s %12s %8s %10s  %s%n",
            "model",
            "in",
            "conformed",
            "dead-lettered",
            "merged away",
            "dropped",
            "loaded",
            "in = loaded + merged away + dead-lettered + dropped"));
    for (String model : spec.models().keySet()) {
      out.append(
          String.format(
              "%-14s %10d %10d %14d %12d %8d %10d  %s%n",
              model,
              in(model),
              conformed(model),
              deadLettered(model),
              mergedAway(model),
              dropped(model),
              loaded(model),
              reconciled(model) ? "reconciled" : "DOES NOT RECONCILE"));
    }
    out.append(String.format("%n%-14s %-14s %-10s %10s%n", "sink", "model", "write", "rows"));
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        out.append(
            String.format(
                "%-14s %-14s %-10s %10d%s%n",
                sink.name(),
                model,
                sink.mode().specName(),
                loadedInto(sink.name(), model),
                sink.sync() == null
                    ? ""
                    : "  (sync "
                        + sink.sync().mode().name().toLowerCase(Locale.ROOT)
                        + ": "
                        + unchangedFor(sink.name(), model)
                        + " unchanged, not sent; "
                        + removedFrom(sink.name(), model)
                        + " removed"
                        + (heldBackFrom(sink.name(), model) > 0
                            ? "; " + heldBackFrom(sink.name(), model) + " new, held back"
                            : "")
                        + ")"));
      }
    }
    if (!spec.identity().isEmpty()) {
      out.append(
          String.format(
              "%n%-14s %10s %12s %12s%n", "identity", "records", "golden ids", "merged ids"));
      for (String model : spec.identity().keySet()) {
        out.append(
            String.format(
                "%-14s %10d %12d %12d%n",
                model,
                counter("identity." + model + ".records"),
                counter("identity." + model + ".golden"),
                counter("identity." + model + ".merged")));
      }
    }
    if (spec.quality().values().stream().anyMatch(rules -> !rules.isEmpty())) {
      out.append(
          String.format(
              "%n%-14s %-40s %-12s %10s%n", "model", "quality rule", "on failure", "failed"));
      for (Map.Entry<String, List<QualityRule>> model : spec.quality().entrySet()) {
        for (QualityRule rule : model.getValue()) {
          String result;
          if (rule.kind().isRowRule()) {
            result = String.valueOf(failed(model.getKey(), rule.name()));
          } else {
            result =
                checks.stream()
                    .filter(c -> c.model().equals(model.getKey()) && c.rule().equals(rule.name()))
                    .map(c -> (c.passed() ? "passed: " : "FAILED: ") + c.detail())
                    .findFirst()
                    .orElse("not checked");
          }
          out.append(
              String.format(
                  "%-14s %-40s %-12s %10s%n",
                  model.getKey(), rule.name(), rule.onFailure().specName(), result));
        }
      }
      if (blocked()) {
        out.append(String.format("%nquality checks failed: nothing was committed to any sink%n"));
      }
    }
    Map<String, Map<String, Long>> aside = conformedAside();
    if (!aside.isEmpty()) {
      out.append(String.format("%n%-14s %-28s %10s%n", "model", "field (on_error)", "values"));
      for (Map.Entry<String, Map<String, Long>> model : aside.entrySet()) {
        for (Map.Entry<String, Long> field : model.getValue().entrySet()) {
          out.append(
              String.format(
                  "%-14s %-28s %10d%n",
                  model.getKey(),
                  field.getKey() + " (" + onErrorOf(model.getKey(), field.getKey()) + ")",
                  field.getValue()));
        }
      }
    }
    if (!drift.isEmpty()) {
      out.append(String.format("%nschema drift%n"));
      for (DriftEvent event : drift) {
        out.append("  ").append(event.describe()).append(System.lineSeparator());
      }
    }
    List<Map.Entry<String, Long>> reasons = topReasons(5);
    if (!reasons.isEmpty()) {
      out.append(String.format("%ntop dead-letter reasons%n"));
      for (Map.Entry<String, Long> reason : reasons) {
        out.append(String.format("  %-40s %8d%n", reason.getKey(), reason.getValue()));
      }
    }
    out.append(sqlModels.render());
    out.append(String.format("%ndead letters: %s%n", spec.deadLetter().describe()));
    return out.toString();
  }
}
