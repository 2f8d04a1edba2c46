package dev.watershed.pipelines.config;

import dev.watershed.transforms.conform.FieldRule;
import dev.watershed.transforms.expression.LookupTable;
import dev.watershed.transforms.expression.SqlExpression;
import dev.watershed.transforms.expression.ValueType;
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
      Map<String, CanonicalModel> models,
      Map<String, LookupTable> lookups) {
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
        FieldRule rule = fieldRule(context, fields, field, model, lookups);
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
      ParseContext context,
      YamlObject fields,
      String field,
      CanonicalModel model,
      Map<String, LookupTable> lookups) {
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
            "expr",
            "lookup",
            "prefix",
            "normalize",
            "region",
            "region_from",
            "formats",
            "zone",
            "decimal_separator",
            "locale",
            "on_error"));
    String from = spec.string("from", false);
    String value = spec.string("value", false);
    String expr = spec.string("expr", false);
    int given = (from == null ? 0 : 1) + (value == null ? 0 : 1) + (expr == null ? 0 : 1);
    if (given != 1) {
      spec.error(
          null,
          "give exactly one of 'from' (a source column), 'value' (a constant) and 'expr' (a SQL"
              + " expression over the source's columns)");
      return null;
    }
    ModelTypes.Kind kind = model == null ? null : ModelTypes.kind(model.schema().getField(field));
    FieldRule rule;
    if (expr != null) {
      SqlExpression expression;
      try {
        // A source's raw columns are text; expressions read them as numbers or dates as needed.
        expression = SqlExpression.parse(expr, column -> ValueType.TEXT, loaded(lookups));
      } catch (IllegalArgumentException e) {
        spec.error("expr", e.getMessage());
        return null;
      }
      if (kind != null && !fits(expression.type(), kind)) {
        spec.error(
            "expr",
            "the expression gives "
                + article(expression.type())
                + ", which cannot fill "
                + kind.name().toLowerCase(Locale.ROOT)
                + " field '"
                + field
                + "'");
      }
      rule = FieldRule.expression(expression);
    } else {
      rule = from != null ? FieldRule.from(from) : FieldRule.constant(value);
    }
    rule = lookup(spec, rule, lookups);
    String onError = spec.string("on_error", false);
    if (onError != null) {
      try {
        rule = rule.withOnError(FieldRule.OnError.named(onError));
        if (rule.onError() != FieldRule.OnError.DEAD_LETTER
            && model != null
            && model.key().contains(field)) {
          spec.error(
              "on_error",
              "'"
                  + field
                  + "' is a key field of model '"
                  + model.name()
                  + "' and needs a value: only dead_letter is allowed");
        }
      } catch (IllegalArgumentException e) {
        spec.error("on_error", e.getMessage());
      }
    }
    String regionFrom = spec.string("region_from", false);
    if (regionFrom != null) {
      rule = rule.withRegionFrom(regionFrom);
    }
    String locale = spec.string("locale", false);
    if (locale != null) {
      try {
        rule = rule.withLocale(locale);
      } catch (IllegalArgumentException e) {
        spec.error("locale", e.getMessage());
      }
    }
    String prefix = spec.string("prefix", false);
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

  private static FieldRule lookup(
      YamlObject spec, FieldRule rule, Map<String, LookupTable> lookups) {
    if (!spec.has("lookup")) {
      return rule;
    }
    YamlObject lookup = spec.object("lookup", true);
    lookup.rejectUnknown(Set.of("table", "key", "value", "on_missing"));
    String tableName = lookup.string("table", true);
    String valueColumn = lookup.string("value", true);
    if (tableName == null || valueColumn == null) {
      return rule;
    }
    LookupTable table = lookups.get(tableName);
    if (table == null && lookups.containsKey(tableName)) {
      return rule; // declared, with a problem of its own
    }
    if (table == null) {
      lookup.error(
          "table",
          "no lookup table '"
              + tableName
              + "'; declare it under lookups: (declared: "
              + lookups.keySet()
              + ")");
      return rule;
    }
    try {
      return rule.withLookup(
          table,
          lookup.string("key", table.keyColumn()),
          valueColumn,
          FieldRule.OnMissing.named(lookup.string("on_missing", "error")));
    } catch (IllegalArgumentException e) {
      lookup.error(null, e.getMessage());
      return rule;
    }
  }

  private static Map<String, LookupTable> loaded(Map<String, LookupTable> lookups) {
    Map<String, LookupTable> out = new LinkedHashMap<>();
    lookups.forEach(
        (name, table) -> {
          if (table != null) {
            out.put(name, table);
          }
        });
    return out;
  }

  /** True when an expression's value can fill a field of {@code kind} (after the usual cast). */
  private static boolean fits(ValueType type, ModelTypes.Kind kind) {
    switch (type) {
      case ANY:
      case TEXT:
        return true;
      case NUMBER:
        return kind == ModelTypes.Kind.STRING
            || kind == ModelTypes.Kind.INT
            || kind == ModelTypes.Kind.LONG
            || kind == ModelTypes.Kind.DECIMAL;
      case BOOLEAN:
        return kind == ModelTypes.Kind.STRING || kind == ModelTypes.Kind.BOOLEAN;
      default:
        return kind == ModelTypes.Kind.STRING
            || kind == ModelTypes.Kind.DATE
            || kind == ModelTypes.Kind.TIMESTAMP;
    }
  }

  private static String article(ValueType type) {
    return type == ValueType.ANY ? "null" : "a " + type;
  }

  /**
   * The models with a {@code _raw_<field>} column for each field some conform rule keeps raw
   * ({@code on_error: keep_raw}).
   */
  static Map<String, CanonicalModel> withRawColumns(
      Map<String, CanonicalModel> models, List<ConformSpec> conform) {
    Map<String, CanonicalModel> out = new LinkedHashMap<>();
    for (CanonicalModel model : models.values()) {
      List<String> raw = new ArrayList<>();
      for (ConformSpec entry : conform) {
        if (!model.name().equals(entry.to())) {
          continue;
        }
        for (Map.Entry<String, FieldRule> rule : entry.fields().entrySet()) {
          if (rule.getValue().onError() == FieldRule.OnError.KEEP_RAW
              && !raw.contains(rule.getKey())) {
            raw.add(rule.getKey());
          }
        }
      }
      out.put(model.name(), raw.isEmpty() ? model : model.withRawColumns(raw));
    }
    return out;
  }
}
