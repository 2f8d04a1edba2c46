package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code sinks:}: each sink's type, found in the {@link Registry}, parses its own block; the keys
 * every sink has ({@code type}, {@code write}, {@code models}) are read here.
 */
final class SinksSection {
  /** Keys every sink takes, whatever its type. */
  static final List<Key> COMMON =
      List.of(
          Key.oneOf(
              "write",
              "merge (by the model key), append or overwrite; the default depends on the type",
              "merge",
              "append",
              "overwrite"),
          Key.strings("models", "the models it takes (default: all)"));

  private SinksSection() {}

  static Map<String, SinkConfig> sinks(ParseContext context, YamlObject section) {
    Map<String, SinkConfig> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one sink");
    }
    Map<String, SinkType> types = Registry.sinks();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject block = entry.getValue();
      Sections.checkName(section, name, "sink");
      String typeName = block.string("type", true);
      if (typeName == null) {
        Set<String> any = new LinkedHashSet<>(allowed(null));
        types.values().forEach(type -> any.addAll(allowed(type)));
        block.rejectUnknown(any);
        continue;
      }
      SinkType type = types.get(typeName);
      if (type == null) {
        block.error(
            "type",
            "unknown sink type '" + typeName + "'; allowed: " + String.join(", ", types.keySet()));
        continue;
      }
      block.rejectUnknown(allowed(type));
      WriteMode mode = type.defaultMode();
      String write = block.string("write", false);
      if (write != null) {
        try {
          mode = WriteMode.named(write);
          String refusal = type.refusal(mode);
          if (refusal != null) {
            block.error("write", refusal);
          }
        } catch (IllegalArgumentException e) {
          block.error("write", e.getMessage());
        }
      }
      List<String> models = block.strings("models");
      for (String model : models) {
        if (!context.declaredModels().contains(model)) {
          block.error(
              "models", "no model named '" + model + "'; models: " + context.models().keySet());
        }
      }
      out.put(
          name,
          type.parse(new SinkBasics(name, typeName, block.line(), mode, models), block, context));
    }
    return out;
  }

  private static Set<String> allowed(SinkType type) {
    Set<String> allowed = new LinkedHashSet<>();
    allowed.add("type");
    COMMON.forEach(key -> allowed.add(key.name()));
    if (type != null) {
      type.keys().forEach(key -> allowed.add(key.name()));
    }
    return allowed;
  }
}
