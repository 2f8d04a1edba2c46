package dev.watershed.pipelines.config;

import dev.watershed.transforms.identity.BlockingKey;
import dev.watershed.transforms.identity.Comparison;
import dev.watershed.transforms.identity.FellegiSunter;
import dev.watershed.transforms.identity.ResolveIdentities;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.quality.Expression;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code identity:}: blocking, comparisons, match rule or weights, survivorship. */
final class IdentitySection {
  private IdentitySection() {}

  static Map<String, IdentitySpec> identity(
      ParseContext context, YamlObject section, Map<String, CanonicalModel> models) {
    Map<String, IdentitySpec> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject spec = entry.getValue();
      CanonicalModel model = Sections.modelFor(context, section, name, models);
      if (model == null) {
        continue;
      }
      spec.rejectUnknown(
          Set.of(
              "blocking",
              "compare",
              "threshold",
              "prior",
              "match",
              "order_by",
              "survivorship",
              "source_priority",
              "include"));
      List<BlockingKey> blocking = new ArrayList<>();
      for (String key : spec.strings("blocking")) {
        String[] parts = key.split("\\+");
        for (String part : parts) {
          String field = part.contains(":") ? part.substring(0, part.indexOf(':')) : part;
          if (!model.schema().hasField(field.trim()) || field.startsWith("_")) {
            spec.error("blocking", "model '" + name + "' has no field '" + field.trim() + "'");
          }
        }
        try {
          blocking.add(
              BlockingKey.of(Arrays.stream(parts).map(String::trim).toArray(String[]::new)));
        } catch (IllegalArgumentException e) {
          spec.error("blocking", e.getMessage());
        }
      }
      if (blocking.isEmpty()) {
        spec.error(
            null, "missing required key 'blocking' (the fields records must share to be compared)");
      }
      List<Comparison> comparisons = new ArrayList<>();
      List<List<Double>> m = new ArrayList<>();
      List<List<Double>> u = new ArrayList<>();
      for (YamlObject compare : spec.list("compare")) {
        compare.rejectUnknown(Set.of("field", "method", "thresholds", "tolerance", "m", "u"));
        m.add(numbers(compare, "m"));
        u.add(numbers(compare, "u"));
        String field = compare.string("field", true);
        String method = compare.string("method", "exact");
        if (field == null) {
          continue;
        }
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          compare.error("field", "model '" + name + "' has no field '" + field + "'");
          continue;
        }
        double[] thresholds =
            compare.strings("thresholds").stream().mapToDouble(Double::parseDouble).toArray();
        try {
          switch (Comparison.Method.named(method)) {
            case EXACT -> comparisons.add(Comparison.exact(field));
            case JARO_WINKLER ->
                comparisons.add(
                    Comparison.jaroWinkler(
                        field, thresholds.length == 0 ? new double[] {0.92, 0.8} : thresholds));
            case LEVENSHTEIN ->
                comparisons.add(
                    Comparison.levenshtein(
                        field, thresholds.length == 0 ? new double[] {0.8} : thresholds));
            case DATE -> comparisons.add(Comparison.date(field));
            case NUMERIC ->
                comparisons.add(
                    Comparison.numeric(
                        field, Double.parseDouble(compare.string("tolerance", "0"))));
          }
        } catch (IllegalArgumentException e) {
          compare.error("method", e.getMessage());
        }
      }
      if (comparisons.isEmpty()) {
        spec.error(
            null, "missing required key 'compare' (the fields compared between candidate records)");
      }
      double threshold = 0.9;
      String text = spec.string("threshold", "0.9");
      try {
        threshold = Double.parseDouble(text);
        if (threshold <= 0 || threshold >= 1) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        spec.error("threshold", "expected a probability between 0 and 1, got '" + text + "'");
      }
      String orderBy = spec.string("order_by", null);
      if (orderBy != null && !model.schema().hasField(orderBy)) {
        spec.error("order_by", "model '" + name + "' has no field '" + orderBy + "'");
      }
      Map<String, String> survivorship = new LinkedHashMap<>();
      String defaultRule = orderBy != null ? "most_recent" : "non_null_first";
      YamlObject rules = spec.object("survivorship", false);
      for (String field : rules.keys()) {
        String rule = rules.string(field, true);
        if (rule == null) {
          continue;
        }
        if (!IdentitySpec.RULES.contains(rule) && !rule.equals("source_priority")) {
          rules.error(
              field,
              "unknown survivorship rule '"
                  + rule
                  + "'; allowed: most_recent, most_frequent, non_null_first, source_priority");
        } else if (field.equals("default")) {
          defaultRule = rule;
        } else if (!model.schema().hasField(field)) {
          rules.error(field, "model '" + name + "' has no field '" + field + "'");
        } else {
          survivorship.put(field, rule);
        }
        if (rule.equals("most_recent") && orderBy == null) {
          rules.error(
              field, "most_recent needs order_by (the field that says which record is newest)");
        }
      }
      out.put(
          name,
          new IdentitySpec(
              name,
              blocking,
              comparisons,
              threshold,
              orderBy,
              defaultRule,
              survivorship,
              spec.strings("source_priority"),
              matchRule(spec, comparisons),
              weights(spec, comparisons, m, u),
              include(context, spec, model, models)));
    }
    return out;
  }

  /**
   * Records of other models resolved with this one: {@code include: { account: { email:
   * customer_email } }} maps fields of this model to fields of the other, of the same type.
   */
  static Map<String, Map<String, String>> include(
      ParseContext context,
      YamlObject spec,
      CanonicalModel model,
      Map<String, CanonicalModel> models) {
    Map<String, Map<String, String>> include = new LinkedHashMap<>();
    YamlObject section = spec.object("include", false);
    if (!section.keys().isEmpty()
        && ModelTypes.kind(model.schema().getField(model.key().get(0))) != ModelTypes.Kind.STRING) {
      spec.error(
          "include",
          "records of other models join by their key as text; the key of '"
              + model.name()
              + "' must be a string");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      CanonicalModel other = Sections.modelFor(context, section, entry.getKey(), models);
      if (other == null) {
        continue;
      }
      if (other.name().equals(model.name())) {
        section.error(other.name(), "a model's own records are always resolved; list other models");
        continue;
      }
      Map<String, String> fields = new LinkedHashMap<>();
      YamlObject mapping = entry.getValue();
      for (String field : mapping.keys()) {
        String from = mapping.string(field, true);
        if (from == null) {
          continue;
        }
        if (!model.schema().hasField(field) || field.startsWith("_")) {
          mapping.error(field, "model '" + model.name() + "' has no field '" + field + "'");
        } else if (model.key().contains(field)) {
          mapping.error(field, "the key is the included record's own key; map other fields");
        } else if (!other.schema().hasField(from) || from.startsWith("_")) {
          mapping.error(field, "model '" + other.name() + "' has no field '" + from + "'");
        } else if (!ModelTypes.describe(model.schema().getField(field))
            .equals(ModelTypes.describe(other.schema().getField(from)))) {
          mapping.error(
              field,
              "'"
                  + from
                  + "' is "
                  + ModelTypes.describe(other.schema().getField(from))
                  + " but '"
                  + field
                  + "' is "
                  + ModelTypes.describe(model.schema().getField(field)));
        } else {
          fields.put(field, from);
        }
      }
      if (mapping.keys().isEmpty()) {
        section.error(other.name(), "map at least one field, e.g. { email: customer_email }");
      }
      include.put(other.name(), fields);
    }
    return include;
  }

  static List<Double> numbers(YamlObject item, String key) {
    List<Double> values = new ArrayList<>();
    for (String text : item.strings(key)) {
      try {
        values.add(Double.parseDouble(text));
      } catch (NumberFormatException e) {
        item.error(key, "expected numbers, got '" + text + "'");
      }
    }
    return values;
  }

  /** Weights given in the spec: m and u on every comparison, or on none. */
  static FellegiSunter weights(
      YamlObject spec, List<Comparison> comparisons, List<List<Double>> m, List<List<Double>> u) {
    long given =
        m.stream().filter(l -> !l.isEmpty()).count() + u.stream().filter(l -> !l.isEmpty()).count();
    if (given == 0 || m.size() != comparisons.size()) {
      return null;
    }
    if (given != 2L * comparisons.size()) {
      spec.error(
          "compare",
          "give m and u on every comparison, or on none (then they are estimated from the data)");
      return null;
    }
    String prior = spec.string("prior", "0.1");
    try {
      return FellegiSunter.of(Double.parseDouble(prior), comparisons, m, u);
    } catch (IllegalArgumentException e) {
      spec.error("compare", e.getMessage());
      return null;
    }
  }

  static String matchRule(YamlObject spec, List<Comparison> comparisons) {
    String rule = spec.string("match", false);
    if (rule != null) {
      try {
        Expression.parse(rule, ResolveIdentities.similaritySchema(comparisons));
      } catch (IllegalArgumentException e) {
        spec.error(
            "match", e.getMessage() + " (a match rule reads the similarity of compared fields)");
      }
    }
    return rule;
  }
}
