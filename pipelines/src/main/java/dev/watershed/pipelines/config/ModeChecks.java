package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.QualityRule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the spec's parts need of each other and of the mode: change streams feed only change-stream
 * models, an overwrite reads its sources whole, streaming runs row rules on topics into tables.
 */
final class ModeChecks {
  private ModeChecks() {}

  /**
   * Models fed by a change stream (a {@code debezium-json} Kafka source) carry change metadata, and
   * are loaded as upserts and deletes; they cannot also be fed by sources that are not change
   * streams, nor keep history or resolve identities yet.
   */
  static Map<String, CanonicalModel> withChangeStreams(
      ParseContext context,
      YamlObject top,
      Map<String, CanonicalModel> models,
      Map<String, SourceConfig> sources,
      List<ConformSpec> conform) {
    Map<String, CanonicalModel> out = new LinkedHashMap<>(models);
    for (CanonicalModel model : models.values()) {
      List<SourceConfig> feeding = new ArrayList<>();
      for (ConformSpec entry : conform) {
        if (entry.to().equals(model.name()) && sources.containsKey(entry.from())) {
          feeding.add(sources.get(entry.from()));
        }
      }
      long changeStreams = feeding.stream().filter(SourceConfig::isChangeStream).count();
      if (changeStreams == 0) {
        continue;
      }
      if (changeStreams < feeding.size()) {
        top.object("models", false)
            .error(
                model.name(),
                "model '"
                    + model.name()
                    + "' is fed by change streams and by other sources; feed it from change"
                    + " streams only, or conform the others to a model of their own");
      }
      out.put(model.name(), model.withChanges());
    }
    return out;
  }

  /** What each mode needs of sources and sinks. */
  /**
   * An overwrite replaces a destination with what one run read; a source read in part (an
   * incremental JDBC source, a Kafka topic from its stored offsets) gives a run only what changed
   * since the last, so the destination would lose every earlier row.
   */
  static void checkOverwritesReadEverything(
      YamlObject top,
      Map<String, SourceConfig> sources,
      Map<String, CanonicalModel> models,
      List<ConformSpec> conform,
      Map<String, SinkConfig> sinks) {
    for (SinkConfig sink : sinks.values()) {
      if (sink.mode() != WriteMode.OVERWRITE) {
        continue;
      }
      List<String> written = sink.models().isEmpty() ? List.copyOf(models.keySet()) : sink.models();
      for (ConformSpec entry : conform) {
        SourceConfig source = sources.get(entry.from());
        if (!written.contains(entry.to()) || source == null || !source.readsInPart()) {
          continue;
        }
        top.object("sinks", false)
            .error(
                sink.name(),
                "sink '"
                    + sink.name()
                    + "' overwrites '"
                    + entry.to()
                    + "' with each run's rows, but source '"
                    + source.name()
                    + "' is read in part ("
                    + (source.isStream()
                        ? "a topic, from the offsets stored by the last run"
                        : "incremental, past the stored mark")
                    + "): every run would drop the rows of earlier runs. Set write: append"
                    + (sink.isTable() ? " or write: merge" : "")
                    + ", or read the source whole");
      }
    }
  }

  static void checkMode(
      ParseContext context,
      YamlObject top,
      String mode,
      Map<String, SourceConfig> sources,
      Map<String, CanonicalModel> models,
      List<ConformSpec> conform,
      Map<String, SinkConfig> sinks,
      Map<String, IdentitySpec> identity,
      Map<String, HistorySpec> history,
      Map<String, List<QualityRule>> quality,
      DeadLetterSpec deadLetter) {
    checkOverwritesReadEverything(top, sources, models, conform, sinks);
    for (CanonicalModel model : models.values()) {
      HistorySpec kept = history.get(model.name());
      if (kept != null && !kept.strategy().equals("changes") && !kept.deletes().equals("ignore")) {
        for (ConformSpec entry : conform) {
          SourceConfig source = sources.get(entry.from());
          if (entry.to().equals(model.name()) && source != null && source.readsInPart()) {
            top.error(
                "history",
                "history of '"
                    + model.name()
                    + "' detects deletes from a full snapshot, but source '"
                    + source.name()
                    + "' is read in part (incremental or a topic); set deletes: ignore");
          }
        }
      }
      boolean included =
          identity.values().stream().anyMatch(i -> i.include().containsKey(model.name()));
      if (model.tracksChanges() && (identity.containsKey(model.name()) || included)) {
        top.error(
            "identity",
            "model '"
                + model.name()
                + "' is fed by a change stream; identity resolution of change streams is not"
                + " available yet");
      }
    }
    for (IdentitySpec resolved : identity.values()) {
      for (SinkConfig sink : sinks.values()) {
        boolean writesModel =
            sink.isTable() && (sink.models().isEmpty() || sink.models().contains(resolved.model()));
        for (String other : resolved.include().keySet()) {
          if (writesModel && !sink.models().isEmpty() && !sink.models().contains(other)) {
            top.object("sinks", false)
                .error(
                    sink.name(),
                    "identity of '"
                        + resolved.model()
                        + "' includes '"
                        + other
                        + "', so a table sink writing '"
                        + resolved.model()
                        + "' must write '"
                        + other
                        + "' too (later runs match against it)");
          }
        }
      }
    }
    if (mode.equals("batch")) {
      return;
    }
    for (SourceConfig source : sources.values()) {
      boolean ok = mode.equals("streaming") ? source.isStream() : source.readsInPart();
      if (!ok) {
        top.object("sources", false)
            .error(
                source.name(),
                mode.equals("streaming")
                    ? "in streaming mode every source is a kafka topic; read '"
                        + source.name()
                        + "' in batch or micro-batch mode"
                    : "in micro-batch mode every source is a kafka topic or an incremental jdbc"
                        + " source (add incremental: { column: ..., tie_break: ... })");
      }
      if (mode.equals("micro-batch")) {
        boolean kept =
            conform.stream()
                .filter(c -> c.from().equals(source.name()))
                .anyMatch(
                    c ->
                        sinks.values().stream()
                            .anyMatch(
                                s ->
                                    s.isTable()
                                        && (s.models().isEmpty() || s.models().contains(c.to()))));
        if (!kept) {
          top.object("sources", false)
              .error(
                  source.name(),
                  "micro-batch keeps where '"
                      + source.name()
                      + "' was read up to in a table sink (duckdb, postgres, mariadb); add one");
        }
      }
    }
    if (mode.equals("streaming")) {
      if (!identity.isEmpty() || !history.isEmpty()) {
        top.error(
            identity.isEmpty() ? "history" : "identity",
            "identity resolution and history run in batch and micro-batch mode, not streaming");
      }
      for (Map.Entry<String, List<QualityRule>> rules : quality.entrySet()) {
        for (QualityRule rule : rules.getValue()) {
          boolean allRows =
              !rule.kind().isRowRule()
                  || rule.kind() == QualityRule.Kind.UNIQUE
                  || rule.kind() == QualityRule.Kind.RELATIONSHIPS;
          if (allRows) {
            top.error(
                "quality",
                "rule "
                    + rule.name()
                    + " of "
                    + rules.getKey()
                    + " judges all rows together; in streaming mode only row rules run"
                    + " (not_null, accepted_values, regex, range, expression)");
          } else if (rule.onFailure() == QualityRule.OnFailure.FAIL) {
            top.error(
                "quality",
                "rule "
                    + rule.name()
                    + " of "
                    + rules.getKey()
                    + ": on_failure: fail stops a whole run, which a stream does not have; use"
                    + " dead_letter, drop or warn");
          }
        }
      }
      if (deadLetter.isTable()) {
        top.error(
            "dead_letter",
            "in streaming mode dead letters go to JSON lines (type: jsonl) or a kafka topic");
      }
      for (SinkConfig sink : sinks.values()) {
        if (sink.sync() != null) {
          top.object("sinks", false)
              .error(
                  sink.name(),
                  "sync compares a whole model with what the sink last received, which a stream"
                      + " never has; run it in batch or micro-batch mode, or drop sync");
        }
        if (sink.streams()) {
          continue;
        }
        if (!sink.isTable()) {
          top.object("sinks", false)
              .error(
                  sink.name(),
                  "in streaming mode sinks are tables (duckdb, postgres, mariadb), kafka topics or"
                      + " http APIs");
        } else {
          top.object("sinks", false)
              .error(sink.name(), "in streaming mode table sinks merge; set write: merge");
        }
      }
    }
  }
}
