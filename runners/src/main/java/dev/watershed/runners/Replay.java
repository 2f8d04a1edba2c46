package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.files.ReplaySource;
import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.compose.RunSummary;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.run.Reachability;
import dev.watershed.pipelines.run.RunLock;
import dev.watershed.pipelines.run.SpecRun;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;

/**
 * {@code watershed replay SPEC --from FILE}: after fixing a spec, re-process the records it
 * dead-lettered.
 *
 * <p>Dead letters of the extract and conform stages carry the raw record; they are read back as
 * their source would read them and run through the current spec into the same sinks. Loads add to
 * what is there (an overwrite sink appends in a replay; merge sinks stay idempotent), and dataset
 * quality rules, which judge a whole run, are skipped. Afterwards FILE holds only the records that
 * failed again (with their new reasons) and the dead letters that cannot be replayed (those of
 * other stages, or of sources no longer in the spec), so replaying twice never loads a record
 * twice.
 */
final class Replay {
  private static final Set<String> REPLAYABLE_STAGES = Set.of("extract", "conform");
  private static final ObjectMapper JSON = new ObjectMapper();

  private Replay() {}

  static int run(Watershed cli, Spec spec, Path from, RunnerProfile profile, List<String> beamArgs)
      throws Exception {
    if (!Files.isRegularFile(from)) {
      throw new IOException("no dead-letter file at " + from + "; check the path");
    }
    Reachability.check(spec);
    try (RunLock lock = SpecRun.lockAndSweep(spec, cli.err()::println)) {
      return replay(cli, spec, from, profile, beamArgs);
    }
  }

  private static int replay(
      Watershed cli, Spec spec, Path from, RunnerProfile profile, List<String> beamArgs)
      throws Exception {
    // A record rejected by several runs (a blocked run, then the run after it) is replayed once,
    // as the latest run wrote it.
    Map<String, JsonNode> latest = new LinkedHashMap<>();
    List<String> kept = new ArrayList<>();
    int superseded = 0;
    for (String line : Files.readAllLines(from, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode letter = JSON.readTree(line);
      String source = letter.path("source").asText();
      if (REPLAYABLE_STAGES.contains(letter.path("stage").asText())
          && spec.sources().containsKey(source)) {
        if (latest.remove(source + "\u0001" + letter.path("position").asText()) != null) {
          superseded++;
        }
        latest.put(source + "\u0001" + letter.path("position").asText(), letter);
      } else {
        kept.add(line);
      }
    }
    Map<String, List<ReplaySource.Record>> records = new LinkedHashMap<>();
    for (JsonNode letter : latest.values()) {
      records
          .computeIfAbsent(letter.path("source").asText(), s -> new ArrayList<>())
          .add(
              new ReplaySource.Record(
                  letter.path("position").asText(), letter.path("payload").asText()));
    }
    int replayed = latest.size();
    Path again =
        from.resolveSibling(from.getFileName() + ".replay-" + System.nanoTime() + ".jsonl");
    Instant started = cli.clock().instant().truncatedTo(ChronoUnit.MICROS);
    // The quality checks read after the replay must be the replay's, not an earlier run's.
    RunReport.clearRunFiles(spec);
    Pipeline pipeline = Pipeline.create(profile.options(beamArgs));
    Composer.compose(spec, pipeline, RunContext.replay(started, records, again.toString()));
    cli.err()
        .println(
            "replaying "
                + replayed
                + " dead letters of "
                + spec.name()
                + " on "
                + profile.displayName()
                + " ...");
    long start = System.nanoTime();
    PipelineResult result = pipeline.run();
    result.waitUntilFinish();
    RunSummary summary =
        RunSummary.of(
                spec,
                RunSummary.counters(result),
                Duration.ofNanos(System.nanoTime() - start),
                profile.displayName())
            .withChecks(RunReport.readChecks(spec));
    cli.out().print(summary.render());
    List<String> remaining = new ArrayList<>(kept);
    if (Files.isRegularFile(again)) {
      remaining.addAll(
          Files.readAllLines(again, StandardCharsets.UTF_8).stream()
              .filter(l -> !l.isBlank())
              .toList());
      Files.delete(again);
    }
    if (summary.blocked()) {
      cli.err()
          .println(
              "error: quality checks that fail the run failed; nothing was committed and "
                  + from
                  + " is unchanged");
      return Watershed.QUALITY_FAILED;
    }
    Files.write(from, remaining, StandardCharsets.UTF_8);
    long failedAgain = remaining.size() - kept.size();
    cli.out()
        .println(
            "replayed "
                + replayed
                + " dead letters: "
                + (replayed - failedAgain)
                + " now pass, "
                + failedAgain
                + " failed again, "
                + kept.size()
                + " not replayable"
                + (superseded > 0
                    ? ", " + superseded + " superseded by a later run's dead letter of the record"
                    : "")
                + "; "
                + from.getFileName()
                + " holds "
                + remaining.size());
    return summary.reconciled() ? Watershed.OK : Watershed.FAILED;
  }
}
