package dev.watershed.pipelines.compose;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.pipelines.config.ConformSpec;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.Spec;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The run report as one self-contained HTML page ({@code index.html} beside {@code
 * run-report.json}; no network needed to open it): the lineage graph (sources → models → sinks,
 * drawn as SVG), the counts per source, model and sink with the reconciliation, the quality rules
 * with samples, the dead-letter reasons with examples, schema drift, identity statistics and the
 * SQL models built after the load with their tests, and the timeline of the run's phases and the
 * job's stages ({@link StageTimeline}). Every number carries {@code data-key}, its path in
 * run-report.json, so the page can be checked against the file.
 */
public final class RunReportPage {
  public static final String FILE = "index.html";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int EXAMPLES_PER_REASON = 2;

  private RunReportPage() {}

  /** Writes the page for {@code report} (the run-report.json of a run of {@code spec}). */
  public static void write(Spec spec, JsonNode report, Path file) throws IOException {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>")
        .append(esc(spec.name()))
        .append(" run report</title><style>")
        .append(
            "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430}"
                + "h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
                + "table{border-collapse:collapse;margin:6px 0}"
                + "td,th{border:1px solid #ccd3dd;padding:3px 8px;text-align:left}"
                + "td.n{text-align:right;font-variant-numeric:tabular-nums}"
                + ".ok{color:#17803d}.bad{color:#b3261e}"
                + "code{font-size:12px;word-break:break-all}"
                + "svg text{font:12px system-ui,sans-serif}"
                + ".bar{height:10px;background:#3b6fb6;min-width:2px}"
                + "tr.phase .bar{background:#8a96a8}")
        .append("</style></head><body>\n");
    String status = report.path("status").asText();
    h.append("<h1>")
        .append(esc(spec.name()))
        .append(": <span class=\"")
        .append(status.equals("succeeded") ? "ok" : "bad")
        .append("\" data-key=\"status\">")
        .append(esc(status))
        .append("</span></h1>\n<p>")
        .append(esc(report.path("mode").asText()))
        .append(" run on ")
        .append(esc(report.path("runner").asText()))
        .append(", started ")
        .append(esc(report.path("started_at").asText()))
        .append(", <span data-key=\"elapsed_seconds\">")
        .append(esc(report.path("elapsed_seconds").asText()))
        .append("</span> s</p>\n");

    if (report.has("cause")) {
      h.append("<p class=\"bad\">").append(esc(report.path("cause").asText())).append("</p>\n");
    }
    h.append("<h2>Lineage</h2>\n").append(graph(spec));

    h.append("<h2>Sources</h2>\n<table><tr><th>source</th><th>type</th><th>read</th>")
        .append("<th>dead-lettered</th></tr>\n");
    report
        .path("sources")
        .fields()
        .forEachRemaining(
            e ->
                h.append("<tr><td>")
                    .append(esc(e.getKey()))
                    .append("</td><td>")
                    .append(esc(e.getValue().path("type").asText()))
                    .append("</td>")
                    .append(number("sources." + e.getKey() + ".read", e.getValue().path("read")))
                    .append(
                        number(
                            "sources." + e.getKey() + ".dead_lettered",
                            e.getValue().path("dead_lettered")))
                    .append("</tr>\n"));
    h.append("</table>\n");

    h.append("<h2>Models: in = loaded + merged away + dead-lettered + dropped</h2>\n<table><tr>")
        .append("<th>model</th><th>in</th><th>conformed</th><th>dead-lettered</th>")
        .append("<th>merged away</th><th>dropped</th><th>loaded</th><th></th></tr>\n");
    report
        .path("models")
        .fields()
        .forEachRemaining(
            e -> {
              String key = "models." + e.getKey() + ".";
              JsonNode m = e.getValue();
              boolean reconciled = m.path("reconciled").asBoolean();
              h.append("<tr><td>").append(esc(e.getKey())).append("</td>");
              for (String count :
                  List.of("in", "conformed", "dead_lettered", "merged_away", "dropped", "loaded")) {
                h.append(number(key + count, m.path(count)));
              }
              h.append("<td class=\"")
                  .append(reconciled ? "ok" : "bad")
                  .append("\">")
                  .append(reconciled ? "reconciled" : "does not reconcile")
                  .append("</td></tr>\n");
            });
    h.append("</table>\n");

    h.append("<h2>Sinks</h2>\n<table><tr><th>sink</th><th>model</th><th>write</th>")
        .append("<th>rows</th></tr>\n");
    report
        .path("sinks")
        .fields()
        .forEachRemaining(
            sink ->
                sink.getValue()
                    .fields()
                    .forEachRemaining(
                        model ->
                            h.append("<tr><td>")
                                .append(esc(sink.getKey()))
                                .append("</td><td>")
                                .append(esc(model.getKey()))
                                .append("</td><td>")
                                .append(esc(model.getValue().path("write").asText()))
                                .append("</td>")
                                .append(
                                    number(
                                        "sinks." + sink.getKey() + "." + model.getKey() + ".rows",
                                        model.getValue().path("rows")))
                                .append("</tr>\n")));
    h.append("</table>\n");

    rules(h, report.path("rules"));
    deadLetters(h, spec, report.path("dead_letter_reasons"), report.path("started_at").asText());
    drift(h, report.path("drift"));
    identity(h, report.path("identity"));
    sqlModels(h, report.path("sql_models"), report.path("sql_tests"));
    timeline(h, report.path("timeline"));
    h.append("<p>Dead letters: ")
        .append(esc(report.path("dead_letters").asText()))
        .append("</p>\n</body></html>\n");
    Files.writeString(file, h.toString(), StandardCharsets.UTF_8);
  }

  /** The SQL models built after the load, and their tests with failing rows. */
  private static void sqlModels(StringBuilder h, JsonNode models, JsonNode tests) {
    if (models.isMissingNode() || models.isEmpty()) {
      return;
    }
    h.append("<h2>SQL models (in the warehouse, after the load)</h2>\n<table><tr>")
        .append("<th>model</th><th>materialized</th><th>status</th><th>rows</th><th>refs</th>")
        .append("<th></th></tr>\n");
    for (int i = 0; i < models.size(); i++) {
      JsonNode model = models.get(i);
      String status = model.path("status").asText();
      List<String> refs = new ArrayList<>();
      model.path("refs").forEach(r -> refs.add(r.asText()));
      h.append("<tr><td>")
          .append(esc(model.path("name").asText()))
          .append("</td><td>")
          .append(esc(model.path("materialized").asText()))
          .append("</td><td class=\"")
          .append(status.equals("built") ? "ok" : "bad")
          .append("\" data-key=\"sql_models.")
          .append(i)
          .append(".status\">")
          .append(esc(status))
          .append("</td>")
          .append(
              model.path("rows").asLong() < 0
                  ? "<td></td>"
                  : number("sql_models." + i + ".rows", model.path("rows")))
          .append("<td>")
          .append(esc(String.join(", ", refs)))
          .append("</td><td>")
          .append(esc(model.path("error").asText("")))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");
    if (tests.isEmpty()) {
      return;
    }
    h.append("<table><tr><th>SQL model</th><th>test</th><th>on failure</th><th>failed</th>")
        .append("<th>failing rows</th></tr>\n");
    for (int i = 0; i < tests.size(); i++) {
      JsonNode test = tests.get(i);
      h.append("<tr><td>")
          .append(esc(test.path("model").asText()))
          .append("</td><td>")
          .append(esc(test.path("test").asText()))
          .append("</td><td>")
          .append(esc(test.path("on_failure").asText()))
          .append("</td>")
          .append(number("sql_tests." + i + ".failed", test.path("failed")))
          .append("<td>");
      for (JsonNode sample : test.path("samples")) {
        h.append("<div><code>").append(esc(sample.asText())).append("</code></div>");
      }
      h.append(esc(test.path("error").asText(""))).append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void rules(StringBuilder h, JsonNode rules) {
    if (rules.isEmpty()) {
      return;
    }
    h.append("<h2>Quality rules</h2>\n<table><tr><th>model</th><th>rule</th><th>on failure</th>")
        .append("<th>result</th><th>failed</th><th>samples</th></tr>\n");
    for (int i = 0; i < rules.size(); i++) {
      JsonNode rule = rules.get(i);
      boolean passed = rule.path("passed").asBoolean(true);
      h.append("<tr><td>")
          .append(esc(rule.path("model").asText()))
          .append("</td><td>")
          .append(esc(rule.path("rule").asText()))
          .append("</td><td>")
          .append(esc(rule.path("on_failure").asText()))
          .append("</td><td class=\"")
          .append(passed ? "ok" : "bad")
          .append("\">")
          .append(passed ? "passed" : "failed")
          .append(rule.has("observed") ? ": " + esc(rule.path("observed").asText()) : "")
          .append("</td>")
          .append(
              rule.has("failed")
                  ? number("rules." + i + ".failed", rule.path("failed"))
                  : "<td></td>")
          .append("<td>");
      for (JsonNode sample : rule.path("samples")) {
        h.append("<div><code>")
            .append(esc(sample.path("source").asText() + " " + sample.path("position").asText()))
            .append("</code>: ")
            .append(esc(sample.path("detail").asText()))
            .append("</div>");
      }
      h.append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void deadLetters(StringBuilder h, Spec spec, JsonNode reasons, String run) {
    if (reasons.isEmpty()) {
      return;
    }
    Map<String, List<JsonNode>> examples = examples(spec, run);
    h.append("<h2>Dead-letter reasons</h2>\n<table><tr><th>reason</th><th>records</th>")
        .append("<th>examples</th></tr>\n");
    reasons
        .fields()
        .forEachRemaining(
            e -> {
              h.append("<tr><td>")
                  .append(esc(e.getKey()))
                  .append("</td>")
                  .append(number("dead_letter_reasons." + e.getKey(), e.getValue()))
                  .append("<td>");
              for (JsonNode example : examples.getOrDefault(e.getKey(), List.of())) {
                h.append("<div><code>")
                    .append(
                        esc(
                            example.path("source").asText()
                                + " "
                                + example.path("position").asText()))
                    .append("</code>: ")
                    .append(esc(example.path("detail").asText()))
                    .append("<br><code>")
                    .append(esc(abbreviate(example.path("payload").asText(), 200)))
                    .append("</code></div>");
              }
              h.append("</td></tr>\n");
            });
    h.append("</table>\n");
  }

  /** Up to two dead letters per "stage: reason" of this run, from the JSON lines file. */
  private static Map<String, List<JsonNode>> examples(Spec spec, String run) {
    Map<String, List<JsonNode>> examples = new LinkedHashMap<>();
    if (spec.deadLetter().isTable() || spec.deadLetter().isKafka()) {
      return examples;
    }
    Path file = Path.of(spec.resolve(spec.deadLetter().file()));
    if (!Files.isRegularFile(file)) {
      return examples;
    }
    try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      while ((line = lines.readLine()) != null) {
        if (line.isBlank()) {
          continue;
        }
        JsonNode letter = JSON.readTree(line);
        if (!letter.path("run").asText().equals(run)) {
          continue;
        }
        String reason = letter.path("stage").asText() + ": " + letter.path("reason").asText();
        List<JsonNode> some = examples.computeIfAbsent(reason, k -> new ArrayList<>());
        if (some.size() < EXAMPLES_PER_REASON) {
          some.add(letter);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Examples are a courtesy: the counts stand without them.
    }
    return examples;
  }

  private static void drift(StringBuilder h, JsonNode drift) {
    if (drift.isEmpty()) {
      return;
    }
    h.append("<h2>Schema drift</h2>\n<table><tr><th>source</th><th>column</th><th>change</th>")
        .append("<th>old type</th><th>new type</th><th>action</th></tr>\n");
    for (JsonNode event : drift) {
      h.append("<tr>");
      for (String field : List.of("source", "column", "change", "old_type", "new_type", "action")) {
        h.append("<td>").append(esc(event.path(field).asText())).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("</table>\n");
  }

  private static void identity(StringBuilder h, JsonNode identity) {
    if (identity.isEmpty()) {
      return;
    }
    h.append("<h2>Identity</h2>\n<table><tr><th>model</th><th>records</th><th>golden ids</th>")
        .append("<th>merged ids</th></tr>\n");
    identity
        .fields()
        .forEachRemaining(
            e -> {
              h.append("<tr><td>").append(esc(e.getKey())).append("</td>");
              for (String count : List.of("records", "golden_ids", "merged_ids")) {
                h.append(number("identity." + e.getKey() + "." + count, e.getValue().path(count)));
              }
              h.append("</tr>\n");
            });
    h.append("</table>\n");
  }

  /**
   * The run's phases and the job's stages, each a bar from its first to its last moment on one
   * scale (the run's length up to the job's end), with the times and rows beside it.
   */
  private static void timeline(StringBuilder h, JsonNode timeline) {
    if (timeline.isMissingNode() || timeline.path("phases").isEmpty()) {
      return;
    }
    double total = 0;
    for (String part : List.of("phases", "stages")) {
      for (JsonNode span : timeline.path(part)) {
        total = Math.max(total, span.path("end").asDouble());
      }
    }
    double scale = total > 0 ? total : 1;
    h.append(
            "<h2>Timeline (seconds since the run started)</h2>\n<table><tr><th>phase or stage</th>")
        .append("<th>start</th><th>end</th><th>rows</th><th style=\"width:420px\"></th></tr>\n");
    for (String part : List.of("phases", "stages")) {
      JsonNode spans = timeline.path(part);
      for (int i = 0; i < spans.size(); i++) {
        JsonNode span = spans.get(i);
        String key = "timeline." + part + "." + i + ".";
        double start = span.path("start").asDouble();
        double end = span.path("end").asDouble();
        h.append("<tr class=\"")
            .append(part.equals("phases") ? "phase" : "stage")
            .append("\"><td>")
            .append(esc(span.path("name").asText()))
            .append("</td>")
            .append(number(key + "start", span.path("start")))
            .append(number(key + "end", span.path("end")));
        h.append(span.has("rows") ? number(key + "rows", span.path("rows")) : "<td></td>");
        h.append(
            String.format(
                java.util.Locale.ROOT,
                "<td><div class=\"bar\" style=\"margin-left:%.1f%%;width:%.1f%%\"></div></td></tr>%n",
                100 * start / scale,
                Math.max(0.5, 100 * (end - start) / scale)));
      }
    }
    h.append("</table>\n");
    if (!timeline.path("stages_measured").asBoolean()) {
      h.append("<p>The job's stages ran in other processes (a cluster's workers), which report")
          .append(" counts but not when they counted: phases only.</p>\n");
    }
  }

  /** Sources, models and sinks in three columns, joined as the conform entries and sinks say. */
  static String graph(Spec spec) {
    List<String> sources = new ArrayList<>(spec.sources().keySet());
    List<String> models = new ArrayList<>(spec.models().keySet());
    List<String> sinks = new ArrayList<>(spec.sinks().keySet());
    int rows = Math.max(sources.size(), Math.max(models.size(), sinks.size()));
    int width = 760;
    int boxWidth = 170;
    int boxHeight = 30;
    int gap = 46;
    int height = rows * gap + 20;
    int[] xs = {20, (width - boxWidth) / 2, width - boxWidth - 20};
    StringBuilder svg = new StringBuilder();
    svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height)
        .append("\" role=\"img\" aria-label=\"lineage graph\">\n");
    Set<String> edges = new LinkedHashSet<>();
    for (ConformSpec conform : spec.conform()) {
      int from = sources.indexOf(conform.from());
      int to = models.indexOf(conform.to());
      if (from >= 0 && to >= 0) {
        edges.add(
            edge(
                xs[0] + boxWidth, y(from, gap) + boxHeight / 2, xs[1], y(to, gap) + boxHeight / 2));
      }
    }
    for (SinkConfig sink : spec.sinks().values()) {
      int to = sinks.indexOf(sink.name());
      for (String model : spec.modelsOf(sink)) {
        int from = models.indexOf(model);
        if (from >= 0) {
          edges.add(
              edge(
                  xs[1] + boxWidth,
                  y(from, gap) + boxHeight / 2,
                  xs[2],
                  y(to, gap) + boxHeight / 2));
        }
      }
    }
    edges.forEach(svg::append);
    boxes(svg, sources, xs[0], gap, boxWidth, boxHeight, "#e3efff", spec, "source");
    boxes(svg, models, xs[1], gap, boxWidth, boxHeight, "#e6f5e9", spec, "model");
    boxes(svg, sinks, xs[2], gap, boxWidth, boxHeight, "#fff1dc", spec, "sink");
    return svg.append("</svg>\n").toString();
  }

  private static int y(int index, int gap) {
    return 10 + index * gap;
  }

  private static String edge(int x1, int y1, int x2, int y2) {
    return "<line class=\"edge\" x1=\""
        + x1
        + "\" y1=\""
        + y1
        + "\" x2=\""
        + x2
        + "\" y2=\""
        + y2
        + "\" stroke=\"#8a96a8\" stroke-width=\"1.5\"/>\n";
  }

  private static void boxes(
      StringBuilder svg,
      List<String> names,
      int x,
      int gap,
      int width,
      int height,
      String fill,
      Spec spec,
      String kind) {
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      String type =
          kind.equals("source")
              ? spec.sources().get(name).type()
              : kind.equals("sink") ? spec.sinks().get(name).type() : "model";
      svg.append("<g class=\"")
          .append(kind)
          .append("\"><rect x=\"")
          .append(x)
          .append("\" y=\"")
          .append(y(i, gap))
          .append("\" width=\"")
          .append(width)
          .append("\" height=\"")
          .append(height)
          .append("\" rx=\"5\" fill=\"")
          .append(fill)
          .append("\" stroke=\"#5b6b82\"/><text x=\"")
          .append(x + 8)
          .append("\" y=\"")
          .append(y(i, gap) + 19)
          .append("\">")
          .append(esc(name + " (" + type + ")"))
          .append("</text></g>\n");
    }
  }

  private static String number(String key, JsonNode value) {
    return "<td class=\"n\" data-key=\"" + esc(key) + "\">" + esc(value.asText()) + "</td>";
  }

  private static String abbreviate(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max) + "…";
  }

  static String esc(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
