package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.QualityRule;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An integration spec, parsed and validated: immutable, and free of unresolved references.
 *
 * <p>Relative paths are resolved against {@link #baseDir()} with {@link #resolve}; {@link
 * #secrets()} holds every value that came from an {@code ${env:...}} or {@code ${file:...}}
 * reference, so that output can be scrubbed of them.
 */
public record Spec(
    String name,
    String mode,
    Map<String, SourceConfig> sources,
    Map<String, CanonicalModel> models,
    List<ConformSpec> conform,
    Map<String, DedupeSpec> dedupe,
    Map<String, List<QualityRule>> quality,
    Map<String, IdentitySpec> identity,
    Map<String, HistorySpec> history,
    Map<String, SinkConfig> sinks,
    DeadLetterSpec deadLetter,
    String reportPath,
    Set<String> secrets,
    Path baseDir,
    Timing timing,
    LineageSpec lineage,
    SqlModelsSpec sqlModels) {

  /** The modes a spec runs in. */
  public static final List<String> MODES = List.of("batch", "micro-batch", "streaming");

  /**
   * How often and how long things happen outside batch mode: {@code every} is the micro-batch tick,
   * {@code checkpointEvery} the streaming checkpoint interval (offsets are committed and sinks
   * flushed with each checkpoint), {@code stateTtl} how long streaming dedupe remembers a key after
   * its last change.
   */
  public record Timing(Duration every, Duration checkpointEvery, Duration stateTtl) {
    public static final Timing DEFAULT =
        new Timing(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofHours(24));
  }

  /** This spec run in another mode (one of {@link #MODES}). */
  public Spec withMode(String other) {
    return new Spec(
        name,
        other,
        sources,
        models,
        conform,
        dedupe,
        quality,
        identity,
        history,
        sinks,
        deadLetter,
        reportPath,
        secrets,
        baseDir,
        timing,
        lineage,
        sqlModels);
  }

  /** This spec with other models and conform entries (schema evolution). */
  public Spec withModels(Map<String, CanonicalModel> otherModels, List<ConformSpec> otherConform) {
    return new Spec(
        name,
        mode,
        sources,
        otherModels,
        otherConform,
        dedupe,
        quality,
        identity,
        history,
        sinks,
        deadLetter,
        reportPath,
        secrets,
        baseDir,
        timing,
        lineage,
        sqlModels);
  }

  public boolean isStreaming() {
    return mode.equals("streaming");
  }

  /** A path from the spec, resolved against the base folder unless absolute or a URL. */
  public String resolve(String path) {
    if (path == null || path.contains("://") || Path.of(path).isAbsolute()) {
      return path;
    }
    return baseDir.resolve(path).normalize().toString();
  }

  /** The quality rules of {@code model}, in spec order (none when it has no quality entry). */
  public List<QualityRule> qualityOf(String model) {
    return quality.getOrDefault(model, List.of());
  }

  /** The file the run report is written to. */
  public String reportFile() {
    return (reportPath.endsWith("/") ? reportPath : reportPath + "/") + "run-report.json";
  }

  /** The conform entries that produce {@code model}, in spec order. */
  public List<ConformSpec> conformInto(String model) {
    return conform.stream().filter(c -> c.to().equals(model)).toList();
  }

  /** The models a sink writes: those it lists, or all. */
  public List<String> modelsOf(SinkConfig sink) {
    return sink.models().isEmpty() ? List.copyOf(models.keySet()) : sink.models();
  }

  /** The database sinks, in the spec's order. */
  public List<TableSink> tableSinks() {
    return sinks.values().stream()
        .filter(TableSink.class::isInstance)
        .map(TableSink.class::cast)
        .toList();
  }

  /** The database sinks that write {@code model}. */
  public List<TableSink> tableSinksOf(String model) {
    return tableSinks().stream().filter(sink -> modelsOf(sink).contains(model)).toList();
  }

  @Override
  public String toString() {
    return "spec " + name;
  }
}
