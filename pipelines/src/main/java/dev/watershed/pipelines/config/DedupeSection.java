package dev.watershed.pipelines.config;

import dev.watershed.transforms.dedupe.Dedupe;
import dev.watershed.transforms.model.CanonicalModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code dedupe:}: which duplicate of a key each model keeps. */
final class DedupeSection {
  private DedupeSection() {}

  static Map<String, DedupeSpec> dedupe(
      ParseContext context, YamlObject section, Map<String, CanonicalModel> models) {
    Map<String, DedupeSpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject rule = entry.getValue();
      CanonicalModel model = Sections.modelFor(context, section, name, models);
      if (model == null) {
        continue;
      }
      rule.rejectUnknown(Set.of("key", "keep", "order_by", "tie_break", "prefer"));
      List<String> key = rule.strings("key");
      if (key.isEmpty()) {
        key = model.key();
      }
      String keepText = rule.string("keep", "latest");
      Dedupe.Keep keep = Dedupe.Keep.LATEST;
      if (keepText.equals("first")) {
        keep = Dedupe.Keep.FIRST;
      } else if (!keepText.equals("latest")) {
        rule.error("keep", "unknown value '" + keepText + "'; allowed: latest, first");
      }
      String orderBy = rule.string("order_by", false);
      List<String> tieBreak = rule.strings("tie_break");
      List<String> referenced = new ArrayList<>(key);
      referenced.addAll(tieBreak);
      if (orderBy != null) {
        referenced.add(orderBy);
      }
      for (String field : referenced) {
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          rule.error(null, "model '" + name + "' has no field '" + field + "'");
        }
      }
      Map<String, List<String>> prefer = new LinkedHashMap<>();
      YamlObject preferBlock = rule.object("prefer", false);
      for (String field : preferBlock.keys()) {
        List<String> sources = preferBlock.strings(field);
        if (!model.schema().hasField(field) || field.startsWith("_") || key.contains(field)) {
          preferBlock.error(
              field, "model '" + name + "' has no field '" + field + "' outside its dedupe key");
          continue;
        }
        for (String source : sources) {
          if (!context.declaredSources().contains(source)) {
            preferBlock.error(
                field, "no source named '" + source + "'; sources: " + context.declaredSources());
          }
        }
        if (sources.isEmpty()) {
          preferBlock.error(field, "list the sources whose value wins, first first");
        }
        prefer.put(field, List.copyOf(sources));
      }
      if (!prefer.isEmpty() && model.tracksChanges()) {
        rule.error(
            "prefer", "a model fed by a change stream keeps each key's newest change; no prefer");
      }
      out.put(name, new DedupeSpec(name, key, keep, orderBy, tieBreak, prefer));
    }
    return out;
  }
}
