package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTML run report (report/index.html) opened in a real headless Chromium (Debian's package,
 * which scripts/services.sh installs): it renders without console errors, a screenshot lands in
 * runners/target, and every number on the page is the one in run-report.json.
 */
class RunReportPageTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @TempDir Path folder;

  @Test
  void thePageRendersInChromiumAndItsNumbersAreTheReports() throws Exception {
    Files.writeString(
        folder.resolve("people.csv"),
        "id,email,updated\n1,a@example.com,2024-01-01T00:00:00Z\n1,a2@example.com,2024-02-01T00:00:00Z\n"
            + "2,not-an-email,2024-01-15T00:00:00Z\nx,c@example.com,2024-01-01T00:00:00Z\n"
            + "3,,2024-01-01T00:00:00Z\n");
    Files.writeString(
        folder.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: page",
            "sources: { crm: { type: csv, path: people.csv } }",
            "models:",
            "  person: { key: [id], fields: { id: long, email: string, updated: timestamp } }",
            "conform: [ { from: crm, to: person, fields: { id: id, email: { from: email,"
                + " normalize: email }, updated: updated } } ]",
            "dedupe: { person: { keep: latest, order_by: updated } }",
            "quality:",
            "  person:",
            "    - not_null: email",
            "      on_failure: warn",
            "sinks: { w: { type: duckdb, path: w.duckdb }, lake: { type: parquet, path: lake } }",
            "models_sql:",
            "  path: sql",
            "  tests:",
            "    people_per_domain:",
            "      - sql: \"SELECT * FROM {{ this }} WHERE people > 1\"",
            "        name: one_per_domain",
            "        on_failure: warn",
            ""));
    Files.createDirectories(folder.resolve("sql"));
    Files.writeString(
        folder.resolve("sql/people_per_domain.sql"),
        "{{ config(materialized='table') }}\n"
            + "SELECT split_part(email, '@', 2) AS domain, COUNT(*) AS people\n"
            + "FROM {{ ref('person') }} GROUP BY 1\n");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code =
        new Watershed(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                Map.of(),
                folder)
            .execute("run", "spec.yaml", "--runner=direct");
    assertEquals(Watershed.OK, code, () -> out.toString(StandardCharsets.UTF_8));
    Path page = folder.resolve("target/report/index.html");
    assertTrue(Files.isRegularFile(page), page.toString());
    String html = Files.readString(page);
    assertFalse(html.matches("(?s).*(src|href)=\"https?:.*"), "self-contained: no network");

    assertTrue(Files.isExecutable(CHROMIUM), "scripts/services.sh installs Debian's chromium");
    Path screenshot = Path.of("target/run-report-page.png").toAbsolutePath();
    Files.deleteIfExists(screenshot);
    String log = chromium(page, "--screenshot=" + screenshot, "--window-size=1200,1400");
    assertTrue(Files.size(screenshot) > 10_000, "a screenshot of the page: " + log);
    for (String line : log.lines().toList()) {
      assertFalse(line.contains("CONSOLE") || line.contains("Uncaught"), "console: " + line);
    }
    String dom = chromium(page, "--dump-dom");

    JsonNode report =
        new ObjectMapper().readTree(folder.resolve("target/report/run-report.json").toFile());
    Matcher numbers = Pattern.compile("data-key=\"([^\"]+)\">([^<]*)<").matcher(dom);
    List<String> checked = new ArrayList<>();
    while (numbers.find()) {
      String key = numbers.group(1).replace("&amp;", "&");
      JsonNode value = at(report, key);
      assertFalse(value.isMissingNode(), "run-report.json has " + key);
      assertEquals(value.asText(), numbers.group(2), key);
      checked.add(key);
    }
    for (String key :
        List.of(
            "status",
            "sources.crm.read",
            "models.person.in",
            "models.person.loaded",
            "models.person.merged_away",
            "models.person.dead_lettered",
            "sinks.w.person.rows",
            "sinks.lake.person.rows",
            "rules.0.failed",
            "sql_models.0.status",
            "sql_models.0.rows",
            "sql_tests.0.failed",
            "dead_letter_reasons.conform: invalid email")) {
      assertTrue(checked.contains(key), key + " on the page: " + checked);
    }
    // The timeline: the run's phases, then each stage of the job with its rows, inside the job.
    JsonNode timeline = report.path("timeline");
    assertTrue(timeline.path("stages_measured").asBoolean(), timeline.toString());
    List<String> phases = new ArrayList<>();
    timeline.path("phases").forEach(p -> phases.add(p.path("name").asText()));
    assertEquals(List.of("prepare", "job"), phases);
    JsonNode job = timeline.path("phases").get(1);
    Map<String, Long> stages = new java.util.LinkedHashMap<>();
    for (JsonNode stage : timeline.path("stages")) {
      stages.put(stage.path("name").asText(), stage.path("rows").asLong());
      assertTrue(
          stage.path("start").asDouble() <= stage.path("end").asDouble()
              && stage.path("start").asDouble() >= job.path("start").asDouble()
              && stage.path("end").asDouble() <= job.path("end").asDouble(),
          "a stage inside the job: " + stage + " " + job);
    }
    assertEquals(
        Map.of(
            "extract crm", report.path("sources").path("crm").path("read").asLong(),
            "conform person", report.path("models").path("person").path("conformed").asLong(),
            "dedupe person", report.path("models").path("person").path("conformed").asLong(),
            "quality person", report.path("models").path("person").path("loaded").asLong(),
            "load w.person", report.path("sinks").path("w").path("person").path("rows").asLong(),
            "load lake.person",
                report.path("sinks").path("lake").path("person").path("rows").asLong()),
        stages);
    assertEquals(
        List.of(
            "extract crm",
            "conform person",
            "dedupe person",
            "quality person",
            "load lake.person",
            "load w.person"),
        List.copyOf(stages.keySet()),
        "in the pipeline's order");
    assertTrue(checked.contains("timeline.stages.0.start"), checked.toString());
    assertEquals(phases.size() + stages.size(), count(dom, "<div class=\"bar\""), "a bar for each");

    // The SQL model with what it reads, and its test.
    assertTrue(dom.contains("<td>people_per_domain</td><td>table</td>"), dom);
    assertTrue(
        dom.contains("data-key=\"sql_models.0.rows\">2</td><td>person</td>"),
        "the SQL model's refs");

    // The graph: one source, one model, two sinks, joined by three edges.
    assertEquals(1, count(dom, "<g class=\"source\">"));
    assertEquals(1, count(dom, "<g class=\"model\">"));
    assertEquals(2, count(dom, "<g class=\"sink\">"));
    assertEquals(3, count(dom, "<line class=\"edge\""));
    assertTrue(dom.contains("'not-an-email' is not an email address"), "a dead letter's example");
  }

  /** A value of run-report.json by its path: names and array indexes joined by dots. */
  private static JsonNode at(JsonNode report, String key) {
    JsonNode node = report;
    String rest = key;
    while (!rest.isEmpty() && !node.isMissingNode()) {
      if (node.isObject() && node.has(rest)) {
        return node.get(rest);
      }
      int dot = rest.indexOf('.');
      String part = dot < 0 ? rest : rest.substring(0, dot);
      node = node.isArray() ? node.path(Integer.parseInt(part)) : node.path(part);
      rest = dot < 0 ? "" : rest.substring(dot + 1);
    }
    return node;
  }

  private static int count(String text, String part) {
    return text.split(Pattern.quote(part), -1).length - 1;
  }

  /** Chromium, headless, on the page; what it printed (the DOM with --dump-dom, else its log). */
  private String chromium(Path page, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                CHROMIUM.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                "--user-data-dir=" + Files.createTempDirectory(folder, "chromium")));
    command.addAll(List.of(args));
    command.add(page.toUri().toString());
    Path output = Files.createTempFile(folder, "chromium", ".out");
    Path errors = Files.createTempFile(folder, "chromium", ".err");
    Process chromium =
        new ProcessBuilder(command)
            .redirectOutput(output.toFile())
            .redirectError(errors.toFile())
            .start();
    assertTrue(chromium.waitFor(3, TimeUnit.MINUTES), "chromium ended");
    String printed = Files.readString(output);
    String log = Files.readString(errors);
    assertEquals(0, chromium.exitValue(), log);
    return args[0].equals("--dump-dom") ? printed : log + printed;
  }
}
