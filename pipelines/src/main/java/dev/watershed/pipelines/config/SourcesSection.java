package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.ModelTypes;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code sources:}: each source's type, found in the {@link Registry}, parses its own block; the
 * keys every source has ({@code type}, {@code schema}, {@code drift}) are read here.
 */
final class SourcesSection {
  /** Keys every source takes, whatever its type. */
  static final List<Key> COMMON =
      List.of(
          Key.map(
              "schema",
              "the columns' types (column: string, int, long, decimal(p,s), date, timestamp,"
                  + " boolean); default: the schema recorded by the first run"),
          Key.oneOf(
              "drift",
              "when the source's columns change: allow (default), evolve, quarantine, fail",
              "allow",
              "evolve",
              "quarantine",
              "fail"));

  /** Drift policies: what a run does when the source's schema changed. */
  static final Set<String> DRIFT_POLICIES = Set.of("allow", "evolve", "quarantine", "fail");

  private SourcesSection() {}

  static Map<String, SourceConfig> sources(ParseContext context, YamlObject section) {
    Map<String, SourceConfig> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one source");
    }
    Map<String, SourceType> types = Registry.sources();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject block = entry.getValue();
      Sections.checkName(section, name, "source");
      String typeName = block.string("type", true);
      if (typeName == null) {
        // Without a type, any key some type takes is accepted: the missing type is the problem.
        Set<String> any = new LinkedHashSet<>(allowed(null));
        types.values().forEach(type -> any.addAll(allowed(type)));
        block.rejectUnknown(any);
        continue;
      }
      SourceType type = types.get(typeName);
      if (type == null) {
        block.error(
            "type",
            "unknown source type '"
                + typeName
                + "'; allowed: "
                + String.join(", ", types.keySet()));
        continue;
      }
      block.rejectUnknown(allowed(type));
      context.driftManaged(name, block.has("drift"));
      SourceBasics basics =
          new SourceBasics(name, typeName, block.line(), declaredSchema(block), drift(block));
      out.put(name, type.parse(basics, block, context));
    }
    return out;
  }

  private static Set<String> allowed(SourceType type) {
    Set<String> allowed = new LinkedHashSet<>();
    allowed.add("type");
    COMMON.forEach(key -> allowed.add(key.name()));
    if (type != null) {
      type.keys().forEach(key -> allowed.add(key.name()));
    }
    return allowed;
  }

  private static Map<String, String> declaredSchema(YamlObject source) {
    Map<String, String> schema = new LinkedHashMap<>();
    YamlObject declared = source.object("schema", false);
    for (String column : declared.keys()) {
      String type = declared.string(column, true);
      if (type == null) {
        continue;
      }
      try {
        ModelTypes.field("column", type);
        schema.put(column, type);
      } catch (IllegalArgumentException e) {
        declared.error(column, e.getMessage());
      }
    }
    return schema;
  }

  private static String drift(YamlObject source) {
    String drift = source.string("drift", "allow");
    if (!DRIFT_POLICIES.contains(drift)) {
      source.error(
          "drift",
          "unknown drift policy '" + drift + "'; allowed: allow, evolve, quarantine, fail");
      return "allow";
    }
    return drift;
  }
}
