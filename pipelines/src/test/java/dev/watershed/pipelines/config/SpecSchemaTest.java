package dev.watershed.pipelines.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The spec's JSON Schema: generated from the registry, committed as docs/spec.schema.json, and met
 * by every spec the project ships (the demo's and the README's).
 */
class SpecSchemaTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path COMMITTED = ROOT.resolve("docs/spec.schema.json");
  private static final Path DEMO = ROOT.resolve("test-data/customer360/integration.yaml");

  /** The schema of the built-in types (the tests register a type of their own). */
  private static String builtIn() {
    ObjectNode schema =
        SpecSchema.generate(
            Registry.sources().values().stream()
                .filter(t -> !t.getClass().getSimpleName().equals("SequenceSourceType"))
                .toList(),
            Registry.sinks().values());
    return SpecSchema.json(schema);
  }

  private static Schema schema() {
    return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7).getSchema(builtIn());
  }

  private static List<String> problems(String yaml) {
    List<String> out = new ArrayList<>();
    // Read as the parser reads it (snakeyaml), handed to the validator as a JSON tree.
    JsonNode spec = new ObjectMapper().valueToTree(new Yaml().load(yaml));
    for (Error error : schema().validate(spec)) {
      out.add(error.getInstanceLocation() + " " + error.getMessage());
    }
    return out;
  }

  @Test
  void theCommittedSchemaIsTheGeneratedOne() throws Exception {
    String generated = builtIn();
    if (Boolean.getBoolean("watershed.updateSchema")) {
      Files.writeString(COMMITTED, generated);
    }
    assertEquals(
        generated,
        Files.readString(COMMITTED),
        "docs/spec.schema.json is out of date; regenerate it with: mvn -pl pipelines test"
            + " -Dtest=SpecSchemaTest -Dwatershed.updateSchema=true");
  }

  @Test
  void theDemoSpecMeetsTheSchemaAndNamesIt() throws Exception {
    String demo = Files.readString(DEMO);
    assertEquals(List.of(), problems(demo));
    assertTrue(
        demo.startsWith("# yaml-language-server: $schema=../../docs/spec.schema.json"),
        "the demo spec points editors at the schema");
  }

  @Test
  void theExamplesMeetTheSchema() throws Exception {
    List<Path> specs = new java.util.ArrayList<>();
    specs.add(ROOT.resolve("test-data/two-stores/two-stores.yaml"));
    try (var files = Files.list(ROOT.resolve("examples"))) {
      files.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(specs::add);
    }
    assertTrue(specs.size() > 5, specs::toString);
    for (Path spec : specs) {
      assertEquals(List.of(), problems(Files.readString(spec)), spec.toString());
    }
  }

  @Test
  void everySpecInTheReadmeMeetsTheSchema() throws Exception {
    String readme = Files.readString(ROOT.resolve("README.md"));
    Matcher block = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL).matcher(readme);
    int specs = 0;
    while (block.find()) {
      String yaml = block.group(1);
      // Whole specs only; the README also shows fragments of one.
      if (yaml.startsWith("name:") && yaml.contains("\nconform:") && yaml.contains("\nsinks:")) {
        specs++;
        assertEquals(List.of(), problems(yaml), yaml);
      }
    }
    assertTrue(specs > 0, "the README shows a spec");
  }

  @Test
  void aKeyOfAnotherTypeAnUnknownKeyAndAWrongValueAreCaught() throws Exception {
    String demo = Files.readString(DEMO);
    // A CSV source does not take jdbc's fetch_size.
    String wrongTypeKey = demo.replaceFirst("type: csv", "type: csv\n    fetch_size: 10");
    assertFalse(problems(wrongTypeKey).isEmpty(), "fetch_size on a csv source");
    assertTrue(problems(demo.replaceFirst("\nsinks:", "\nsinkz: {}\nsinks:")).size() > 0);
    List<String> mode = problems(demo.replaceFirst("write: merge", "write: upsert"));
    assertFalse(mode.isEmpty(), "write: upsert");
  }
}
