package dev.watershed.templates;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * A Flex Template's {@code metadata.json}, generated from an options interface: every getter
 * declared by the interface itself (not by Beam's options it extends) with a {@link
 * TemplateParameter} becomes a parameter with its name, label, help text ({@code @Description}),
 * regexes, whether it is optional ({@code @Validation.Required}) and its default
 * ({@code @Default}).
 *
 * <p>{@code main(DIR)} writes the committed templates' files under {@code DIR}; the build checks
 * that the committed files equal what this generates.
 */
public final class TemplateMetadata {
  /** The Flex Templates Watershed ships: folder name → its metadata. */
  public static final Map<String, TemplateMetadata> TEMPLATES =
      Map.of(
          "watershed-spec",
          new TemplateMetadata(
              "Watershed spec (batch)",
              "Runs a Watershed integration spec as a batch job: extract, conform, quality checks,"
                  + " dedupe, identity resolution, history and loads, as the spec declares.",
              false,
              SpecTemplateOptions.class),
          "watershed-spec-streaming",
          new TemplateMetadata(
              "Watershed spec (streaming)",
              "Runs a Watershed integration spec as a streaming job reading Kafka topics, with row"
                  + " quality rules, dedupe and per-bundle loads.",
              true,
              SpecTemplateOptions.class));

  private final String name;
  private final String description;
  private final boolean streaming;
  private final Class<? extends PipelineOptions> options;

  public TemplateMetadata(
      String name,
      String description,
      boolean streaming,
      Class<? extends PipelineOptions> options) {
    this.name = name;
    this.description = description;
    this.streaming = streaming;
    this.options = options;
  }

  /** One parameter: its option name and its annotations, in declaration order by name. */
  public record Parameter(String name, Method getter, TemplateParameter template) {}

  /** The interface's own template parameters, sorted by name. */
  public List<Parameter> parameters() {
    List<Parameter> out = new ArrayList<>();
    for (Method method : options.getDeclaredMethods()) {
      TemplateParameter template = method.getAnnotation(TemplateParameter.class);
      if (template != null && method.getName().startsWith("get")) {
        String option =
            Character.toLowerCase(method.getName().charAt(3)) + method.getName().substring(4);
        out.add(new Parameter(option, method, template));
      }
    }
    out.sort(Comparator.comparing(Parameter::name));
    return out;
  }

  public boolean streaming() {
    return streaming;
  }

  /** The metadata as pretty-printed JSON, ending with a newline. */
  public String json() {
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = mapper.createObjectNode();
    root.put("name", name);
    root.put("description", description);
    root.put("streaming", streaming);
    root.put("supportsAtLeastOnce", streaming);
    root.put("supportsExactlyOnce", true);
    ArrayNode parameters = root.putArray("parameters");
    for (Parameter parameter : parameters()) {
      ObjectNode node = parameters.addObject();
      node.put("name", parameter.name());
      node.put("label", parameter.template().label());
      Description help = parameter.getter().getAnnotation(Description.class);
      if (help == null) {
        throw new IllegalStateException(
            options.getSimpleName() + "." + parameter.name() + " has no @Description");
      }
      node.put("helpText", help.value());
      node.put("isOptional", parameter.getter().getAnnotation(Validation.Required.class) == null);
      ArrayNode regexes = node.putArray("regexes");
      for (String regex : parameter.template().regexes()) {
        regexes.add(regex);
      }
      Default.String fallback = parameter.getter().getAnnotation(Default.String.class);
      if (fallback != null) {
        node.put("defaultValue", fallback.value());
      }
      node.put("paramType", "TEXT");
    }
    try {
      return mapper.writeValueAsString(root) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code <dir>/<template>/metadata.json} for every template. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "templates/dataflow");
    for (Map.Entry<String, TemplateMetadata> template : TEMPLATES.entrySet()) {
      Path file = dir.resolve(template.getKey()).resolve("metadata.json");
      Files.createDirectories(file.getParent());
      Files.writeString(file, template.getValue().json());
      System.out.println("wrote " + file);
    }
  }
}
