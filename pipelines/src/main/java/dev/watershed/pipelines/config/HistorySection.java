package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code history:}: the SCD2 history each model keeps. */
final class HistorySection {
  private HistorySection() {}

  static Map<String, HistorySpec> history(
      ParseContext context,
      YamlObject section,
      Map<String, CanonicalModel> models,
      Map<String, DedupeSpec> dedupe) {
    Map<String, HistorySpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject spec = entry.getValue();
      CanonicalModel model = Sections.modelFor(context, section, name, models);
      if (model == null) {
        continue;
      }
      spec.rejectUnknown(Set.of("scd2", "strategy", "updated_at", "deletes"));
      List<String> tracked = spec.strings("scd2");
      if (tracked.isEmpty()) {
        spec.error(
            null, "missing required key 'scd2' (the columns whose changes make a new version)");
      }
      for (String column : tracked) {
        if (!model.schema().hasField(column) || column.startsWith("_")) {
          spec.error("scd2", "model '" + name + "' has no field '" + column + "'");
        }
      }
      String strategy = spec.string("strategy", model.tracksChanges() ? "changes" : "check");
      if (model.tracksChanges() && !strategy.equals("changes")) {
        spec.error(
            "strategy",
            "model '"
                + name
                + "' is fed by a change stream: its history follows the changes;"
                + " use strategy: changes (the default)");
      } else if (!model.tracksChanges() && !Set.of("check", "timestamp").contains(strategy)) {
        spec.error(
            "strategy",
            "unknown strategy '"
                + strategy
                + "'; allowed: check, timestamp (changes: for models fed by change streams)");
      }
      DedupeSpec rule = dedupe.get(name);
      String updatedAt = spec.string("updated_at", rule == null ? null : rule.orderBy());
      if (strategy.equals("timestamp")) {
        if (updatedAt == null) {
          spec.error(
              null,
              "the timestamp strategy needs updated_at (the field that says when a record changed)");
        } else if (!model.schema().hasField(updatedAt)) {
          spec.error("updated_at", "model '" + name + "' has no field '" + updatedAt + "'");
        }
      }
      String deletes = spec.string("deletes", "ignore");
      if (!Set.of("ignore", "invalidate", "new_record").contains(deletes)) {
        spec.error(
            "deletes",
            "unknown deletes policy '" + deletes + "'; allowed: ignore, invalidate, new_record");
      }
      out.put(name, new HistorySpec(name, tracked, strategy, updatedAt, deletes));
    }
    return out;
  }
}
