package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code models:}: each canonical model's fields, types and key. */
final class ModelsSection {
  private ModelsSection() {}

  static Map<String, CanonicalModel> models(ParseContext context, YamlObject section) {
    Map<String, CanonicalModel> out = new LinkedHashMap<>();
    if (section.keys().isEmpty() && section.line() > 0) {
      section.error(null, "declare at least one model");
    }
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      YamlObject model = entry.getValue();
      Sections.checkName(section, name, "model");
      model.rejectUnknown(Set.of("key", "fields"));
      YamlObject fields = model.object("fields", true);
      CanonicalModel.Builder builder = CanonicalModel.builder(name);
      boolean ok = true;
      for (String field : fields.keys()) {
        Sections.checkName(fields, field, "field");
        if (field.startsWith("_")) {
          fields.error(field, "field names starting with '_' are reserved for lineage columns");
          ok = false;
        }
        String type = fields.string(field, true);
        if (type == null) {
          ok = false;
          continue;
        }
        try {
          ModelTypes.field(field, type);
          builder.field(field, type);
        } catch (IllegalArgumentException e) {
          boolean split = type.matches("(?i)\\s*decimal\\s*\\(\\s*\\d+\\s*");
          fields.error(
              field,
              e.getMessage()
                  + (split
                      ? "; inside { } the comma of decimal(p,s) ends the value: quote it"
                          + " (\"decimal(10,2)\") or list the fields one per line"
                      : ""));
          ok = false;
        }
      }
      List<String> key = model.strings("key");
      if (key.isEmpty()) {
        model.error(
            null, "missing required key 'key' (the field or fields that identify a " + name + ")");
        ok = false;
      }
      for (String k : key) {
        if (!fields.has(k)) {
          model.error("key", "key field '" + k + "' is not one of the fields " + fields.keys());
          ok = false;
        }
      }
      if (ok) {
        out.put(name, builder.key(key).build());
      }
    }
    return out;
  }
}
