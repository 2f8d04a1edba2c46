package dev.watershed.pipelines.config;

import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/** {@code conform:}: how each source's columns become a model's fields. */
final class ConformSection {
  private ConformSection() {}

  static List<ConformSpec> conform(
      ParseContext context,
      YamlObject top,
      Map<String, SourceConfig> sources,
      Map<String, CanonicalModel> models) {
    List<ConformSpec> out = new ArrayList<>();
    if (!top.has("conform")) {
      top.error(null, "missing required key 'conform'");
      return out;
    }
    for (YamlObject entry : top.list("conform")) {
      entry.rejectUnknown(Set.of("from", "to", "fields"));
      String from = entry.string("from", true);
      String to = entry.string("to", true);
      if (from != null && !context.declaredSources().contains(from)) {
        entry.error("from", "no source named '" + from + "'; sources: " + sources.keySet());
      }
      CanonicalModel model = to == null ? null : models.get(to);
      if (to != null && !context.declaredModels().contains(to)) {
        entry.error("to", "no model named '" + to + "'; models: " + models.keySet());
      }
      YamlObject fields = entry.object("fields", true);
      Map<String, FieldRule> rules = new LinkedHashMap<>();
      for (String field : fields.keys()) {
        if (model != null && !model.schema().hasField(field)) {
          fields.error(field, "model '" + to + "' has no field '" + field + "'");
          continue;
        }
        FieldRule rule = fieldRule(context, fields, field, model);
        if (rule != null) {
          rules.put(field, rule);
        }
      }
      if (model != null) {
        for (String key : model.key()) {
          if (!fields.has(key)) {
            entry.error("fields", "key field '" + key + "' of model '" + to + "' needs a rule");
          }
        }
      }
      SourceConfig source = from == null ? null : sources.get(from);
      if (source != null) {
        source.checkColumns(fields, rules, context);
      }
      Map<String, Integer> fieldLines = new LinkedHashMap<>();
      for (String field : rules.keySet()) {
        fieldLines.put(field, fields.lineOf(field));
      }
      out.add(
          new ConformSpec(
              from, to, Collections.unmodifiableMap(rules), entry.line(), Map.copyOf(fieldLines)));
    }
    return out;
  }

  static FieldRule fieldRule(
      ParseContext context, YamlObject fields, String field, CanonicalModel model) {
    Node node = fields.node(field);
    if (node instanceof ScalarNode) {
      String column = fields.string(field, true);
      return column == null ? null : FieldRule.from(column);
    }
    YamlObject spec = fields.object(field, true);
    spec.rejectUnknown(
        Set.of(
            "from",
            "value",
            "prefix",
            "normalize",
            "region",
            "formats",
            "zone",
            "decimal_separator"));
    String from = spec.string("from", false);
    String value = spec.string("value", false);
    if ((from == null) == (value == null)) {
      spec.error(null, "give exactly one of 'from' (a source column) and 'value' (a constant)");
      return null;
    }
    FieldRule rule = from != null ? FieldRule.from(from) : FieldRule.constant(value);
    String prefix = spec.string("prefix", false);
    ModelTypes.Kind kind = model == null ? null : ModelTypes.kind(model.schema().getField(field));
    if (prefix != null) {
      if (kind != null && kind != ModelTypes.Kind.STRING) {
        spec.error(
            "prefix",
            "a prefix needs a string field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      rule = rule.withPrefix(prefix);
    }
    List<FieldRule.Normalizer> normalizers = new ArrayList<>();
    for (String name : spec.strings("normalize")) {
      try {
        normalizers.add(FieldRule.Normalizer.named(name));
      } catch (IllegalArgumentException e) {
        spec.error("normalize", e.getMessage());
      }
    }
    rule = rule.withNormalizers(normalizers);
    if (kind != null) {
      if (normalizers.contains(FieldRule.Normalizer.AMOUNT)
          && kind != ModelTypes.Kind.DECIMAL
          && kind != ModelTypes.Kind.INT
          && kind != ModelTypes.Kind.LONG) {
        spec.error(
            "normalize",
            "'amount' needs a decimal, int or long field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      if (normalizers.contains(FieldRule.Normalizer.BOOLEAN) && kind != ModelTypes.Kind.BOOLEAN) {
        spec.error(
            "normalize",
            "'boolean' needs a boolean field; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
    }
    String region = spec.string("region", false);
    if (region != null) {
      try {
        rule = rule.withRegion(region);
      } catch (IllegalArgumentException e) {
        spec.error("region", e.getMessage());
      }
    }
    List<String> formats = spec.strings("formats");
    if (!formats.isEmpty()) {
      if (kind != null && kind != ModelTypes.Kind.DATE && kind != ModelTypes.Kind.TIMESTAMP) {
        spec.error(
            "formats",
            "formats apply to date and timestamp fields; '"
                + field
                + "' is "
                + kind.name().toLowerCase(Locale.ROOT));
      }
      try {
        rule = rule.withFormats(formats);
      } catch (IllegalArgumentException e) {
        spec.error("formats", e.getMessage());
      }
    }
    String zone = spec.string("zone", false);
    if (zone != null) {
      try {
        rule = rule.withZone(zone);
      } catch (IllegalArgumentException e) {
        spec.error("zone", e.getMessage());
      }
    }
    String separator = spec.string("decimal_separator", false);
    if (separator != null) {
      try {
        if (separator.length() != 1) {
          throw new IllegalArgumentException("decimal separator must be '.' or ','");
        }
        rule = rule.withDecimalSeparator(separator.charAt(0));
      } catch (IllegalArgumentException e) {
        spec.error("decimal_separator", e.getMessage());
      }
    }
    return rule;
  }
}
