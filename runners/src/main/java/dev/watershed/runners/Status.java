package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.RunState;
import dev.watershed.pipelines.compose.RunHistory;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.config.DeadLetterSpec;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.pipelines.run.Redaction;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code watershed status SPEC}: the last run (from its report), per source the rows it read and
 * the marks stored for it, per model its last recorded run and the freshness of its newest record
 * (from {@code _watershed_runs}), and the dead letters kept so far.
 */
final class Status {
  private Status() {}

  static int run(Spec spec, PrintStream out, Instant now) throws IOException {
    Path reportFile = RunReport.folder(spec).resolve("run-report.json");
    JsonNode report = null;
    if (Files.isRegularFile(reportFile)) {
      report = new ObjectMapper().readTree(reportFile.toFile());
      out.println(
          spec.name()
              + ": last run "
              + report.path("status").asText()
              + ", started "
              + report.path("started_at").asText()
              + " ("
              + RunHistory.age(Instant.parse(report.path("started_at").asText()), now)
              + " ago) on "
              + report.path("runner").asText()
              + (report.has("elapsed_seconds")
                  ? ", " + report.path("elapsed_seconds").asText() + " s"
                  : ""));
    } else {
      out.println(spec.name() + ": no run yet (no " + reportFile + ")");
    }

    Map<String, String> marks = marks(spec);
    out.println();
    out.println(
        String.format(Locale.ROOT, "%-14s %-8s %10s  %s", "source", "type", "read", "mark"));
    for (SourceConfig source : spec.sources().values()) {
      JsonNode read =
          report == null ? null : report.path("sources").path(source.name()).get("read");
      out.println(
          String.format(
              Locale.ROOT,
              "%-14s %-8s %10s  %s",
              source.name(),
              source.type(),
              read == null ? "-" : read.asText(),
              marks.getOrDefault(source.name(), "-")));
    }

    out.println();
    out.println(
        String.format(
            Locale.ROOT,
            "%-14s %-10s %-20s %10s  %s",
            "model",
            "status",
            "last run",
            "loaded",
            "newest record"));
    Map<String, RunHistory.Run> last = new LinkedHashMap<>();
    Map<String, Integer> counted = new TreeMap<>();
    for (TableSink sink : spec.tableSinks()) {
      try {
        for (RunHistory.Run run : RunHistory.recent(spec, sink, 10_000)) {
          last.putIfAbsent(run.model(), run);
          counted.merge(run.model(), 1, Integer::sum);
        }
        break;
      } catch (SQLException e) {
        // No history in this sink (yet): the next one may have it.
      }
    }
    for (String model : spec.models().keySet()) {
      RunHistory.Run run = last.get(model);
      if (run == null) {
        out.println(String.format(Locale.ROOT, "%-14s %-10s", model, "no run recorded"));
        continue;
      }
      out.println(
          String.format(
              Locale.ROOT,
              "%-14s %-10s %-20s %10d  %s",
              model,
              run.status(),
              run.startedAt().toString().replace('T', ' ').replaceFirst("(\\.\\d+)?Z$", ""),
              run.loaded(),
              run.newestRecord() == null
                  ? "-"
                  : run.newestRecord() + " (" + RunHistory.age(run.newestRecord(), now) + " old)"));
    }
    if (!counted.isEmpty()) {
      out.println("runs recorded: " + counted.values().stream().max(Integer::compare).orElse(0));
    }

    out.println();
    out.println("dead letters: " + deadLetters(spec));
    return Watershed.OK;
  }

  /** The marks stored in the table sinks, by source ({@code -} when there are none). */
  private static Map<String, String> marks(Spec spec) {
    Map<String, String> marks = new TreeMap<>();
    for (TableSink sink : spec.tableSinks()) {
      JdbcEndpoint endpoint = sink.endpoint(spec);
      try (Connection connection = endpoint.connect();
          PreparedStatement query =
              connection.prepareStatement(
                  "SELECT source, mark FROM "
                      + endpoint.dialect().quote(sink.tableOf(RunState.TABLE))
                      + " WHERE pipeline = ? ORDER BY source, target")) {
        query.setString(1, spec.name());
        try (ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            marks.putIfAbsent(rows.getString(1), rows.getString(2));
          }
        }
      } catch (SQLException e) {
        // No marks kept there.
      }
    }
    return marks;
  }

  private static String deadLetters(Spec spec) {
    DeadLetterSpec dead = spec.deadLetter();
    if (dead.isKafka()) {
      return "in " + dead.describe();
    }
    if (dead.isTable()) {
      return "in " + Redaction.redact(dead.describe());
    }
    Path file = Path.of(spec.resolve(dead.file()));
    if (!Files.isRegularFile(file)) {
      return "none kept (" + file + ")";
    }
    try (Stream<String> lines = Files.lines(file)) {
      return lines.filter(line -> !line.isBlank()).count() + " kept in " + file;
    } catch (IOException e) {
      return "in " + file;
    }
  }
}
