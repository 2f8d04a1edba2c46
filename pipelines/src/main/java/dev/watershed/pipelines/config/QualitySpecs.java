package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.quality.Expression;
import dev.watershed.transforms.quality.QualityRule;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads the {@code quality:} section: for each model, a list of rules, each a mapping with one rule
 * key and optional {@code on_failure} and {@code name}.
 *
 * <pre>
 * quality:
 *   customer:
 *     - not_null: email
 *     - unique: email
 *       on_failure: warn
 *     - accepted_values: { column: plan, values: [free, pro] }
 *     - regex: { column: email, pattern: "[^@]+@[^@]+" }
 *     - range: { column: balance, min: -1000, max: 100000 }
 *     - relationships: { column: customer_email, to: customer.email }
 *     - expression: "status = 'closed' or resolved_at is null"
 *       name: open_tickets_are_unresolved
 *     - row_count: { min: 1, max: 1000000, min_ratio_of_last_run: 0.8 }
 *     - freshness: { column: updated_at, within: 2d }
 *     - null_rate: { column: phone, max: 0.2 }
 *     - duplicate_rate: { column: email, max: 0.01 }
 * </pre>
 */
final class QualitySpecs {
  private static final Set<String> KINDS = new LinkedHashSet<>();

  static {
    for (QualityRule.Kind kind : QualityRule.Kind.values()) {
      KINDS.add(kind.specName());
    }
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(d|h|m|s)");

  private QualitySpecs() {}

  static Map<String, List<QualityRule>> parse(
      YamlObject section, Map<String, CanonicalModel> models, Set<String> declaredModels) {
    Map<String, List<QualityRule>> out = new LinkedHashMap<>();
    for (String modelName : section.keys()) {
      CanonicalModel model = models.get(modelName);
      if (model == null) {
        if (!declaredModels.contains(modelName)) {
          section.error(modelName, "no model named '" + modelName + "'; models: " + declaredModels);
        }
        continue;
      }
      List<QualityRule> rules = new ArrayList<>();
      for (YamlObject item : section.list(modelName)) {
        QualityRule rule = rule(item, model, models);
        if (rule != null) {
          rules.add(rule);
        }
      }
      out.put(modelName, rules);
    }
    return out;
  }

  private static QualityRule rule(
      YamlObject item, CanonicalModel model, Map<String, CanonicalModel> models) {
    Set<String> allowed = new LinkedHashSet<>(KINDS);
    allowed.add("on_failure");
    allowed.add("name");
    item.rejectUnknown(allowed);
    List<String> kinds = item.keys().stream().filter(KINDS::contains).toList();
    boolean unknownKeys = item.keys().stream().anyMatch(k -> !allowed.contains(k));
    if (kinds.isEmpty() && unknownKeys) {
      return null; // the unknown key is the problem, already reported
    }
    if (kinds.size() != 1) {
      item.error(
          null,
          "give exactly one rule (" + String.join(", ", KINDS) + ") per item, found " + kinds);
      return null;
    }
    String kind = kinds.get(0);
    QualityRule rule = build(item, kind, model, models);
    if (rule == null) {
      return null;
    }
    String onFailure = item.string("on_failure", false);
    if (onFailure != null) {
      try {
        rule = rule.withOnFailure(QualityRule.OnFailure.named(onFailure));
      } catch (IllegalArgumentException e) {
        item.error("on_failure", e.getMessage());
      }
    }
    String name = item.string("name", false);
    return name == null ? rule : rule.withName(name);
  }

  private static QualityRule build(
      YamlObject item, String kind, CanonicalModel model, Map<String, CanonicalModel> models) {
    switch (kind) {
      case "not_null":
      case "unique":
        String column = column(item, kind, model);
        if (column == null) {
          return null;
        }
        return kind.equals("not_null") ? QualityRule.notNull(column) : QualityRule.unique(column);
      case "expression":
        String text = item.string(kind, true);
        if (text == null) {
          return null;
        }
        try {
          return QualityRule.expression(Expression.parse(text, model.schema()));
        } catch (IllegalArgumentException e) {
          item.error(kind, e.getMessage());
          return null;
        }
      default:
        break;
    }
    YamlObject args = item.object(kind, true);
    String column = null;
    if (!kind.equals("row_count")) {
      column = args.string("column", true);
      if (column != null && (!model.schema().hasField(column) || column.startsWith("_"))) {
        args.error("column", "model '" + model.name() + "' has no field '" + column + "'");
        return null;
      }
      if (column == null) {
        return null;
      }
    }
    switch (kind) {
      case "accepted_values":
        args.rejectUnknown(Set.of("column", "values"));
        List<String> values = args.strings("values");
        if (values.isEmpty()) {
          args.error(null, "missing required key 'values' (the allowed values)");
          return null;
        }
        return QualityRule.acceptedValues(column, values);
      case "regex":
        args.rejectUnknown(Set.of("column", "pattern"));
        String pattern = args.string("pattern", true);
        if (pattern == null) {
          return null;
        }
        try {
          return QualityRule.regex(column, pattern);
        } catch (PatternSyntaxException e) {
          args.error("pattern", "not a valid regular expression: " + e.getDescription());
          return null;
        }
      case "range":
        args.rejectUnknown(Set.of("column", "min", "max"));
        String min = args.string("min", false);
        String max = args.string("max", false);
        if (min == null && max == null) {
          args.error(null, "give min, max or both");
          return null;
        }
        return QualityRule.range(column, min, max);
      case "relationships":
        args.rejectUnknown(Set.of("column", "to"));
        String to = args.string("to", true);
        if (to == null) {
          return null;
        }
        int dot = to.indexOf('.');
        CanonicalModel target = dot < 0 ? null : models.get(to.substring(0, dot));
        if (target == null || !target.schema().hasField(to.substring(dot + 1))) {
          args.error(
              "to",
              "'" + to + "' is not a model field; write it as model.field, e.g. customer.email");
          return null;
        }
        return QualityRule.relationships(column, to.substring(0, dot), to.substring(dot + 1));
      case "row_count":
        args.rejectUnknown(Set.of("min", "max", "min_ratio_of_last_run"));
        Integer minRows = args.has("min") ? args.integer("min", 0) : null;
        Integer maxRows = args.has("max") ? args.integer("max", 0) : null;
        QualityRule.RowCount rowCount =
            QualityRule.rowCount(
                minRows == null ? null : minRows.longValue(),
                maxRows == null ? null : maxRows.longValue());
        Double ratio = fraction(args, "min_ratio_of_last_run", false);
        return ratio == null ? rowCount : rowCount.withMinRatioOfLastRun(ratio);
      case "freshness":
        args.rejectUnknown(Set.of("column", "within"));
        String within = args.string("within", true);
        Duration duration = within == null ? null : duration(within);
        if (within != null && duration == null) {
          args.error(
              "within",
              "'" + within + "' is not a duration; write e.g. 30d, 12h, 15m, 45s or PT1H");
        }
        return duration == null ? null : QualityRule.freshness(column, duration);
      default:
        args.rejectUnknown(Set.of("column", "max"));
        Double rate = fraction(args, "max", true);
        if (rate == null) {
          return null;
        }
        return kind.equals("null_rate")
            ? QualityRule.nullRate(column, rate)
            : QualityRule.duplicateRate(column, rate);
    }
  }

  private static String column(YamlObject item, String kind, CanonicalModel model) {
    String column = item.string(kind, true);
    if (column != null && (!model.schema().hasField(column) || column.startsWith("_"))) {
      item.error(kind, "model '" + model.name() + "' has no field '" + column + "'");
      return null;
    }
    return column;
  }

  private static Double fraction(YamlObject args, String key, boolean required) {
    String text = args.string(key, required);
    if (text == null) {
      return null;
    }
    try {
      double value = Double.parseDouble(text);
      if (value < 0 || value > 1) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      args.error(key, "expected a fraction between 0 and 1, got '" + text + "'");
      return null;
    }
  }

  /** {@code 30d}, {@code 12h}, {@code 15m}, {@code 45s} or ISO-8601 ({@code PT1H}). */
  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      switch (m.group(2)) {
        case "d":
          return Duration.ofDays(n);
        case "h":
          return Duration.ofHours(n);
        case "m":
          return Duration.ofMinutes(n);
        default:
          return Duration.ofSeconds(n);
      }
    }
    try {
      return Duration.parse(text.trim());
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
