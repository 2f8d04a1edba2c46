package dev.watershed.pipelines.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.transform.SqlTransform;
import dev.watershed.transforms.drift.DriftEvent;
import dev.watershed.transforms.quality.QualityRule;
import dev.watershed.transforms.records.SourcePositions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The machine-readable report of a run, {@code <report.path>/run-report.json}, and the files a run
 * leaves for the next one.
 *
 * <p>The report holds the run's status and exit code, its timings, counts per source, model and
 * sink, every quality rule with its failed count and up to five failing rows, every dataset check,
 * the dead-letter reasons and the timeline of the run's phases and stages. A successful run also
 * writes {@code last-successful-run.json} (rows loaded per model), which the next run's {@code
 * row_count} ratios compare against.
 */
public final class RunReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RunReport() {}

  /** The folder of the run report and the run lock. */
  public static Path folder(Spec spec) {
    return Path.of(spec.resolve(spec.reportPath()));
  }

  /** A finding's place in source order: by source, then position ({@link SourcePositions}). */
  static SourceOrder inSourceOrder(String source, String position) {
    return new SourceOrder(source == null ? "" : source, position);
  }

  /** A source and a position in it, comparable in read order. */
  record SourceOrder(String source, String position) implements Comparable<SourceOrder> {
    @Override
    public int compareTo(SourceOrder other) {
      int bySource = source.compareTo(other.source);
      return bySource != 0 ? bySource : SourcePositions.order().compare(position, other.position);
    }
  }

  /** Removes the files the previous run's pipeline wrote, so that none is read as this run's. */
  public static void clearRunFiles(Spec spec) throws IOException {
    Files.deleteIfExists(folder(spec).resolve("checks.jsonl"));
    Files.deleteIfExists(folder(spec).resolve("samples.jsonl"));
  }

  /** Rows loaded per model by the last successful run; empty when there was none. */
  public static Map<String, Long> lastRunRows(Spec spec) throws IOException {
    Path file = folder(spec).resolve("last-successful-run.json");
    Map<String, Long> rows = new LinkedHashMap<>();
    if (Files.isRegularFile(file)) {
      JsonNode models = JSON.readTree(file.toFile()).path("loaded");
      models.fields().forEachRemaining(e -> rows.put(e.getKey(), e.getValue().asLong()));
    }
    return rows;
  }

  /** The quality checks this run's pipeline wrote. */
  public static List<CheckResult> readChecks(Spec spec) throws IOException {
    List<CheckResult> checks = new ArrayList<>();
    for (JsonNode check : lines(folder(spec).resolve("checks.jsonl"))) {
      checks.add(
          new CheckResult(
              check.path("model").asText(),
              check.path("rule").asText(),
              check.path("on_failure").asText(),
              check.path("passed").asBoolean(),
              check.path("observed").asText(),
              check.path("detail").asText()));
    }
    return checks;
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> nodes = new ArrayList<>();
    if (Files.isRegularFile(file)) {
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          nodes.add(JSON.readTree(line));
        }
      }
    }
    return nodes;
  }

  /**
   * Writes a report of a run that has no summary: {@code running} when it starts (a run killed
   * before it ends leaves that, never the previous run's {@code succeeded}), or {@code failed} with
   * its {@code cause} (which the caller has cleared of secrets).
   */
  public static Path writeWithoutSummary(
      Spec spec,
      String runner,
      String status,
      int exitCode,
      Instant started,
      String cause,
      Consumer<String> warnings)
      throws IOException {
    ObjectNode report = JSON.createObjectNode();
    report.put("spec", spec.name());
    report.put("mode", spec.mode());
    report.put("runner", runner);
    report.put("status", status);
    report.put("exit_code", exitCode);
    report.put("started_at", started.toString());
    if (cause != null) {
      report.put("cause", cause);
    }
    Path folder = folder(spec);
    Files.createDirectories(folder);
    Path file = folder.resolve("run-report.json");
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), report);
    try {
      // A page saying "running" or why it failed, never the previous run's.
      RunReportPage.write(spec, report, folder.resolve(RunReportPage.FILE));
    } catch (IOException | RuntimeException e) {
      warnings.accept("warning: could not write the HTML run report: " + e.getMessage());
    }
    if (status.equals("running")) {
      Lineage.started(spec, started, warnings);
    } else if (status.equals("failed")) {
      Lineage.ended(spec, started, status, null, cause, warnings);
    }
    return file;
  }

  /** Writes the report; after a successful run also the row counts the next run compares with. */
  public static Path write(
      RunSummary summary, String status, int exitCode, Instant started, Consumer<String> warnings)
      throws IOException {
    Spec spec = summary.spec();
    ObjectNode report = JSON.createObjectNode();
    report.put("spec", spec.name());
    report.put("mode", spec.mode());
    report.put("runner", summary.runner());
    report.put("status", status);
    report.put("exit_code", exitCode);
    report.put("started_at", started.toString());
    report.put("elapsed_seconds", summary.elapsed().toMillis() / 1000.0);
    StageTimeline timeline = summary.timeline();
    if (!timeline.phases().isEmpty()) {
      ObjectNode node = report.putObject("timeline");
      node.put("stages_measured", timeline.stagesMeasured());
      for (String part : List.of("phases", "stages")) {
        ArrayNode spans = node.putArray(part);
        for (StageTimeline.Span span :
            part.equals("phases") ? timeline.phases() : timeline.stages()) {
          ObjectNode each = spans.addObject();
          each.put("name", span.name());
          each.put("start", span.start());
          each.put("end", span.end());
          if (span.rows() >= 0) {
            each.put("rows", span.rows());
          }
        }
      }
    }
    ObjectNode sources = report.putObject("sources");
    for (SourceConfig source : spec.sources().values()) {
      ObjectNode node = sources.putObject(source.name());
      node.put("type", source.type());
      node.put("read", summary.read(source.name()));
      node.put("dead_lettered", summary.extractDeadLettered(source.name()));
      if (source.isStream()) {
        node.put("tombstones", summary.tombstones(source.name()));
      }
    }
    ObjectNode models = report.putObject("models");
    for (String model : spec.models().keySet()) {
      ObjectNode node = models.putObject(model);
      node.put("in", summary.in(model));
      node.put("conformed", summary.conformed(model));
      node.put("dead_lettered", summary.deadLettered(model));
      node.put("merged_away", summary.mergedAway(model));
      node.put("dropped", summary.dropped(model));
      node.put("loaded", summary.loaded(model));
      node.put("reconciled", summary.reconciled(model));
    }
    ObjectNode sinks = report.putObject("sinks");
    for (SinkConfig sink : spec.sinks().values()) {
      ObjectNode node = sinks.putObject(sink.name());
      for (String model : spec.modelsOf(sink)) {
        ObjectNode m = node.putObject(model);
        m.put("write", sink.mode().specName());
        m.put("rows", summary.loadedInto(sink.name(), model));
        m.put("not_committed", summary.blockedInto(sink.name(), model));
        if (sink.sync() != null) {
          ObjectNode sync = m.putObject("sync");
          sync.put("mode", sink.sync().mode().name().toLowerCase(Locale.ROOT));
          sync.put("unchanged", summary.unchangedFor(sink.name(), model));
          sync.put("removed", summary.removedFrom(sink.name(), model));
          sync.put("held_back", summary.heldBackFrom(sink.name(), model));
        }
      }
    }
    Map<String, List<JsonNode>> samples = new LinkedHashMap<>();
    for (JsonNode finding : lines(folder(spec).resolve("samples.jsonl"))) {
      samples
          .computeIfAbsent(
              finding.path("model").asText() + "." + finding.path("rule").asText(),
              k -> new ArrayList<>())
          .add(finding);
    }
    for (List<JsonNode> findings : samples.values()) {
      findings.sort(
          Comparator.comparing(
              f -> inSourceOrder(f.path("source").asText(), f.path("position").asText())));
    }
    ArrayNode rules = report.putArray("rules");
    for (Map.Entry<String, List<QualityRule>> model : spec.quality().entrySet()) {
      for (QualityRule rule : model.getValue()) {
        ObjectNode node = rules.addObject();
        node.put("model", model.getKey());
        node.put("rule", rule.name());
        node.put("kind", rule.kind().specName());
        node.put("on_failure", rule.onFailure().specName());
        if (rule.kind().isRowRule()) {
          long failed = summary.failed(model.getKey(), rule.name());
          node.put(
              "checked",
              summary.loaded(model.getKey())
                  + summary.dropped(model.getKey())
                  + failedAway(summary, model.getKey()));
          node.put("failed", failed);
          node.put("passed", failed == 0);
          ArrayNode sampled = node.putArray("samples");
          for (JsonNode finding :
              samples.getOrDefault(model.getKey() + "." + rule.name(), List.of())) {
            ObjectNode sample = sampled.addObject();
            sample.put("detail", finding.path("detail").asText());
            sample.put("source", finding.path("source").asText());
            sample.put("position", finding.path("position").asText());
            sample.put("payload", finding.path("payload").asText());
          }
        }
        for (CheckResult check : summary.checks()) {
          if (check.model().equals(model.getKey()) && check.rule().equals(rule.name())) {
            node.put("passed", check.passed());
            node.put("observed", check.observed());
            node.put("detail", check.detail());
          }
        }
      }
    }
    ArrayNode aside = report.putArray("conform_fields");
    for (Map.Entry<String, Map<String, Long>> model : summary.conformedAside().entrySet()) {
      for (Map.Entry<String, Long> field : model.getValue().entrySet()) {
        ObjectNode node = aside.addObject();
        node.put("model", model.getKey());
        node.put("field", field.getKey());
        node.put("values", field.getValue());
        ArrayNode sampled = node.putArray("samples");
        for (JsonNode finding :
            samples.getOrDefault(model.getKey() + ".conform " + field.getKey(), List.of())) {
          ObjectNode sample = sampled.addObject();
          sample.put("on_error", finding.path("on_failure").asText());
          sample.put("detail", finding.path("detail").asText());
          sample.put("source", finding.path("source").asText());
          sample.put("position", finding.path("position").asText());
          sample.put("payload", finding.path("payload").asText());
        }
      }
    }
    ArrayNode drift = report.putArray("drift");
    for (DriftEvent event : summary.drift()) {
      ObjectNode node = drift.addObject();
      node.put("source", event.source());
      node.put("column", event.column());
      node.put("change", event.change());
      node.put("old_type", event.oldType());
      node.put("new_type", event.newType());
      node.put("action", event.action());
    }
    ObjectNode reasons = report.putObject("dead_letter_reasons");
    for (Map.Entry<String, Long> reason : summary.topReasons(Integer.MAX_VALUE)) {
      reasons.put(reason.getKey(), reason.getValue());
    }
    report.put("dead_letters", spec.deadLetter().describe());
    ObjectNode identity = report.putObject("identity");
    for (String model : spec.identity().keySet()) {
      ObjectNode node = identity.putObject(model);
      node.put("records", summary.counter("identity." + model + ".records"));
      node.put("golden_ids", summary.counter("identity." + model + ".golden"));
      node.put("merged_ids", summary.counter("identity." + model + ".merged"));
    }
    if (spec.sqlModels() != null) {
      ArrayNode sqlModels = report.putArray("sql_models");
      for (SqlTransform.ModelResult model : summary.sqlModels().models()) {
        ObjectNode node = sqlModels.addObject();
        node.put("name", model.name());
        node.put("materialized", model.materialized());
        node.put("status", model.status());
        node.put("rows", model.rows());
        node.put("seconds", Math.round(model.seconds() * 1000) / 1000.0);
        model.refs().forEach(node.putArray("refs")::add);
        if (model.error() != null) {
          node.put("error", model.error());
        }
      }
      ArrayNode sqlTests = report.putArray("sql_tests");
      for (SqlTransform.TestResult test : summary.sqlModels().tests()) {
        ObjectNode node = sqlTests.addObject();
        node.put("model", test.model());
        node.put("test", test.name());
        node.put("on_failure", test.fail() ? "fail" : "warn");
        node.put("failed", test.failed());
        node.put("passed", test.passed());
        test.samples().forEach(node.putArray("samples")::add);
        if (test.error() != null) {
          node.put("error", test.error());
        }
      }
    }
    Path folder = folder(spec);
    Files.createDirectories(folder);
    Path file = folder.resolve("run-report.json");
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), report);
    if (status.equals("succeeded")) {
      ObjectNode last = JSON.createObjectNode();
      last.put("started_at", started.toString());
      ObjectNode loaded = last.putObject("loaded");
      for (String model : spec.models().keySet()) {
        loaded.put(model, summary.loaded(model));
      }
      JSON.writerWithDefaultPrettyPrinter()
          .writeValue(folder.resolve("last-successful-run.json").toFile(), last);
    }
    Lineage.ended(spec, started, status, summary, null, warnings);
    try {
      RunReportPage.write(spec, report, folder.resolve(RunReportPage.FILE));
    } catch (IOException | RuntimeException e) {
      warnings.accept("warning: could not write the HTML run report: " + e.getMessage());
    }
    return file;
  }

  /** Rows of a model that left at the quality stage as dead letters. */
  private static long failedAway(RunSummary summary, String model) {
    return summary.counters().getOrDefault("quality." + model + ".dead_lettered", 0L);
  }
}
