package dev.watershed.pipelines.config;

import dev.watershed.transforms.model.CanonicalModel;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** What the sections of the spec check alike: names, and references to models. */
final class Sections {
  static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  private Sections() {}

  /**
   * The model a section entry is about; null (with an error, unless the model is declared but
   * broken, which is reported already) when there is none.
   */
  static CanonicalModel modelFor(
      ParseContext context, YamlObject section, String name, Map<String, CanonicalModel> models) {
    CanonicalModel model = models.get(name);
    if (model == null && !context.declaredModels().contains(name)) {
      section.error(name, "no model named '" + name + "'; models: " + context.declaredModels());
    }
    return model;
  }

  static void checkName(YamlObject section, String name, String what) {
    if (!IDENTIFIER.matcher(name).matches()) {
      section.error(
          name, "'" + name + "' is not a valid " + what + " name; use letters, digits and _");
    }
  }

  static String sorted(Set<String> values) {
    return String.join(", ", values.stream().sorted().toList());
  }
}
