package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's code blocks are what the code does: the Java example is the tested example, and the
 * sample error messages and plan are those the command prints. (The sample run summary and the
 * first screen's query are checked by {@link Customer360Test}, which runs the demo.)
 */
class ReadmeTest {
  private static final Path ROOT = Customer360Test.ROOT;
  private static final Path DEMO = ROOT.resolve("test-data/customer360/integration.yaml");

  @TempDir Path folder;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int watershed(String... args) {
    out.reset();
    err.reset();
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            ROOT)
        .execute(args);
  }

  @Test
  void theJavaExampleIsTheTestedExample() throws Exception {
    List<String> tested =
        Files.readAllLines(
                ROOT.resolve(
                    "pipelines/src/test/java/dev/watershed/pipelines/example/"
                        + "HandBuiltPipelineTest.java"))
            .stream()
            .map(String::strip)
            .toList();
    int from = 0;
    for (String line : Readme.blockAfter("The transforms work without a spec")) {
      if (line.isBlank() || line.startsWith("<") || line.startsWith("  <")) {
        continue; // the Maven block comes first
      }
      int found = tested.subList(from, tested.size()).indexOf(line.strip());
      assertTrue(found >= 0, "the README's Java example has a line the test does not: " + line);
      from += found + 1;
    }
  }

  @Test
  void theRunApiExampleIsTheTestedExample() throws Exception {
    List<String> tested =
        Files.readAllLines(
                ROOT.resolve(
                    "pipelines/src/test/java/dev/watershed/pipelines/example/"
                        + "SpecRunExampleTest.java"))
            .stream()
            .map(String::strip)
            .toList();
    int from = tested.indexOf("// --- README example starts here ---");
    for (String line :
        Readme.blockAfter("A spec runs from Java as it runs from the command line")) {
      int found = tested.subList(from, tested.size()).indexOf(line.strip());
      assertTrue(found >= 0, "the README's run API example has a line the test does not: " + line);
      from += found + 1;
    }
  }

  @Test
  void theJavaExampleNamesArtifactsTheBuildMakes() throws Exception {
    String block = String.join("\n", Readme.blockAfter("The transforms work without a spec"));
    assertTrue(block.contains("<artifactId>watershed-pipelines</artifactId>"), block);
    String pom = Files.readString(ROOT.resolve("pipelines/pom.xml"));
    assertTrue(pom.contains("<artifactId>watershed-pipelines</artifactId>"), pom);
    java.util.regex.Matcher version =
        java.util.regex.Pattern.compile(
                "<artifactId>watershed-parent</artifactId>\\s*<version>([^<]+)")
            .matcher(Files.readString(ROOT.resolve("pom.xml")));
    assertTrue(version.find());
    assertTrue(block.contains("<version>" + version.group(1) + "</version>"), block);
  }

  @Test
  void theSampleSpecErrorsAreTheOnesValidatePrints() throws Exception {
    List<String> lines = Files.readAllLines(DEMO);
    assertEquals("    type: csv", lines.get(8), "line 9 of the demo spec is crm's type");
    assertTrue(lines.get(117).startsWith("  customer: { keep: latest"), lines.get(117));
    lines.set(8, "    type: xml");
    lines.set(117, lines.get(117).replace("keep: latest", "keep: newest"));
    Path broken = folder.resolve("broken.yaml");
    Files.write(broken, lines);
    assertEquals(Watershed.SPEC_ERROR, watershed("validate", broken.toString()));
    assertEquals(
        String.join("\n", Readme.blockAfter("spec with `type: xml` for `crm`")) + "\n",
        err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void theSamplePlanIsWhatPlanPrints() throws Exception {
    assertEquals(Watershed.OK, watershed("plan", DEMO.toString(), "--offline"));
    Readme.assertShownIn(
        Readme.blockAfter("`watershed plan test-data/customer360/integration.yaml` prints"),
        out.toString(StandardCharsets.UTF_8),
        "plan");
  }

  @Test
  void everyCommandInTheCommandLineBlockIsInTheUsage() throws Exception {
    for (String line : Readme.blockAfter("## The command line")) {
      if (line.startsWith("watershed ")) {
        String command = line.split("\\s+")[1];
        assertTrue(
            Watershed.usage().contains("  " + command + " "),
            "the README lists 'watershed " + command + "', the usage does not");
      }
    }
  }

  /**
   * The spec reference and the modes example use only keys and values the parser knows: parsed,
   * their only problems are the files, databases and secrets a reader's machine would have.
   */
  @Test
  void theSpecExamplesUseOnlyWhatTheParserKnows() throws Exception {
    for (String marker :
        List.of("Paths are relative to the folder `watershed` runs in", "One spec, three ways")) {
      String yaml = String.join("\n", Readme.blockAfter(marker));
      List<String> problems;
      try {
        dev.watershed.pipelines.config.SpecParser.parse(
            yaml, folder, Map.of("ERP_PASSWORD", "x", "BILLING_USER", "y"));
        problems = List.of();
      } catch (dev.watershed.pipelines.config.SpecException e) {
        problems = e.errors().stream().map(Object::toString).toList();
      }
      List<String> unexpected =
          problems.stream()
              .filter(
                  problem ->
                      !(problem.contains("no file matches")
                          || problem.contains(" not found (paths are relative to")
                          || problem.contains("secrets/dw-password")
                          || problem.contains("no conform entry produces")
                          || problem.contains("declare at least one")
                          || problem.contains("missing required key")
                          // the modes example shows sources and sinks, not the conform between
                          || problem.contains("was read up to in a table sink")))
              .toList();
      assertEquals(
          List.of(), unexpected, "the README's spec example after '" + marker + "' has problems");
    }
  }
}
