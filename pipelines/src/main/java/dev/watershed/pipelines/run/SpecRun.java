package dev.watershed.pipelines.run;

import dev.watershed.io.http.HttpSink;
import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.Drift;
import dev.watershed.pipelines.compose.ReadRanges;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.compose.RunHistory;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.compose.RunSummary;
import dev.watershed.pipelines.compose.StageTimeline;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.transform.SqlModels;
import dev.watershed.pipelines.transform.SqlTransform;
import dev.watershed.transforms.drift.DriftEvent;
import dev.watershed.transforms.metrics.RunCounters;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;

/**
 * Runs a spec once, as a batch: the one way the command line, the Dataflow template and Java
 * callers run one, so that they cannot differ.
 *
 * <p>In order: every database and broker the spec names is checked ({@link Reachability}); the
 * pipeline's run lock is taken and what crashed runs left is swept ({@link RunLock}); the sources'
 * schemas are checked for drift ({@link Drift}); each incremental source's read range is planned
 * from the marks the last run committed ({@link ReadRanges}); the spec is composed ({@link
 * Composer}) and run on the options' runner; the run's counters are reconciled ({@code in = loaded
 * + merged away + dead-lettered}); and the run report is written, {@code running} at the start and
 * {@code succeeded}, {@code blocked} or {@code failed} at the end. A run {@linkplain #detached()
 * detached} from its job (a Dataflow template's launcher) ends after submitting it.
 *
 * <pre>{@code
 * Spec spec = SpecParser.parse(Path.of("customer360.yaml"), Path.of("."), System.getenv());
 * SpecRun.Outcome outcome = SpecRun.of(spec).on(options, "flink [local]").execute();
 * System.out.print(outcome.summary().render());
 * }</pre>
 */
public final class SpecRun {
  /** Exit codes, as the command line returns them. */
  public static final int OK = 0;

  public static final int FAILED = 1;
  public static final int SPEC_ERROR = 2;
  public static final int QUALITY_FAILED = 3;

  private final Spec spec;
  private PipelineOptions options;
  private String runnerName = "direct";
  private Clock clock = Clock.systemUTC();
  private Map<String, ReadRange> ranges;
  private boolean detached;
  private Consumer<String> progress = line -> {};

  private SpecRun(Spec spec) {
    this.spec = spec;
  }

  private SpecRun copy() {
    SpecRun copy = new SpecRun(spec);
    copy.options = options;
    copy.runnerName = runnerName;
    copy.clock = clock;
    copy.ranges = ranges;
    copy.detached = detached;
    copy.progress = progress;
    return copy;
  }

  /** A run of {@code spec}, on the Direct runner unless told otherwise. */
  public static SpecRun of(Spec spec) {
    return new SpecRun(spec);
  }

  /** Runs on the runner {@code options} name; {@code runnerName} is how reports name it. */
  public SpecRun on(PipelineOptions pipelineOptions, String name) {
    SpecRun next = copy();
    next.options = pipelineOptions;
    next.runnerName = name;
    return next;
  }

  /** The clock the run reads "now" from (freshness rules, report times). */
  public SpecRun withClock(Clock runClock) {
    SpecRun next = copy();
    next.clock = runClock;
    return next;
  }

  /** Reads these ranges (a micro-batch tick planned them) instead of planning its own. */
  public SpecRun withRanges(Map<String, ReadRange> readRanges) {
    SpecRun next = copy();
    next.ranges = Map.copyOf(readRanges);
    return next;
  }

  /**
   * Submits the job and returns without waiting for it (a Dataflow template's launcher must): no
   * run lock is held, and the report says {@code submitted}; the job reconciles nothing here.
   */
  public SpecRun detached() {
    SpecRun next = copy();
    next.detached = true;
    return next;
  }

  /** Where lines for the person running it go ("running ... on ...", what was swept). */
  public SpecRun withProgress(Consumer<String> lines) {
    SpecRun next = copy();
    next.progress = lines;
    return next;
  }

  /**
   * How a run ended: its status ({@code succeeded}, {@code blocked}, {@code failed}, {@code
   * submitted}), the exit code the command line returns for it, its summary (null when nothing ran)
   * and the problems to show the user, one per line.
   */
  public record Outcome(String status, int exitCode, RunSummary summary, List<String> problems) {}

  /**
   * Runs the spec: checks, lock, sweep, drift, plan, compose, run, reconcile, report.
   *
   * @throws Exception when the run cannot start or fails; the report then says {@code failed} and
   *     why (secrets masked), except when another run holds the lock ({@link
   *     RunLock.HeldException}), whose report is left alone
   */
  public Outcome execute() throws Exception {
    checkReachable();
    if (detached) {
      return executeLocked();
    }
    try (RunLock lock = lockAndSweep(spec, progress)) {
      return executeLocked();
    }
  }

  /**
   * Checks that everything the spec names answers ({@link Reachability}); when not, writes a failed
   * report (this run failed, whatever the previous one did) and throws.
   */
  public void checkReachable() throws Exception {
    Instant started = now();
    try {
      // SQL models run after the load: a mistake in one is found before anything is loaded.
      List<SpecError> sqlErrors = SqlModels.check(spec);
      if (!sqlErrors.isEmpty()) {
        throw new SpecException(sqlErrors);
      }
      Reachability.check(spec);
    } catch (RuntimeException | SQLException | SpecException e) {
      reportFailure(started, e);
      throw e;
    }
  }

  /**
   * Rows per model of the last successful run: from the warehouse's run history, which lives as
   * long as the tables do; for a model it has no record of, from the report folder's file.
   */
  private static Map<String, Long> lastRunRows(Spec spec) throws IOException {
    Map<String, Long> rows = new LinkedHashMap<>(RunReport.lastRunRows(spec));
    rows.putAll(RunHistory.lastSucceeded(spec));
    return rows;
  }

  /**
   * The end of a run that counted: its report (and lineage event), and its rows per model in the
   * warehouse's run history.
   */
  private void finish(RunSummary summary, String status, int exitCode, Instant started)
      throws IOException {
    RunReport.write(summary, status, exitCode, started, progress);
    RunHistory.record(summary, status, started, progress);
  }

  /** The report (and lineage event) of a run that failed with {@code e}, its secrets masked. */
  private void reportFailure(Instant started, Exception e) throws IOException {
    RunReport.writeWithoutSummary(
        spec,
        runnerName,
        "failed",
        FAILED,
        started,
        Redaction.redact(Failures.describe(e)),
        progress);
  }

  /**
   * Runs the spec while the caller holds its lock ({@link #lockAndSweep}), as a micro-batch loop
   * does across its ticks: drift, plan, compose, run, reconcile, report.
   */
  public Outcome executeLocked() throws Exception {
    RunReport.clearRunFiles(spec);
    Instant started = now();
    long originMillis = System.currentTimeMillis();
    RunReport.writeWithoutSummary(spec, runnerName, "running", -1, started, null, progress);
    try {
      return runAndReport(started, originMillis);
    } catch (Exception e) {
      reportFailure(started, e);
      throw e;
    }
  }

  /**
   * Takes the pipeline's run lock (a second run of the spec is refused before it writes anything,
   * its report included) and removes what earlier runs that crashed left, telling {@code progress}.
   */
  public static RunLock lockAndSweep(Spec spec, Consumer<String> progress)
      throws IOException, SQLException {
    RunLock lock = RunLock.acquire(spec);
    try {
      List<String> swept = lock.sweep();
      if (!swept.isEmpty()) {
        progress.accept(
            "removed "
                + swept.size()
                + " staging "
                + (swept.size() == 1 ? "object" : "objects")
                + " left by an earlier run of "
                + spec.name()
                + " that did not finish:");
        for (String each : swept) {
          progress.accept("  " + each);
        }
      }
      return lock;
    } catch (IOException | SQLException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  private Outcome runAndReport(Instant started, long originMillis) throws Exception {
    Drift.Outcome drift = Drift.check(spec);
    Spec checked = drift.spec();
    if (drift.failed()) {
      Drift.recordInSinks(checked, drift.events(), started);
      RunSummary refused =
          RunSummary.of(checked, Map.of(), Duration.ZERO, runnerName).withDrift(drift.events());
      finish(refused, "blocked", QUALITY_FAILED, started);
      List<String> problems = new ArrayList<>();
      for (DriftEvent event : drift.events()) {
        problems.add("  " + event.describe());
      }
      problems.add(
          "error: the schema of a source with drift: fail changed; nothing was run (see "
              + checked.reportFile()
              + ")");
      return new Outcome("blocked", QUALITY_FAILED, null, problems);
    }
    RunContext context =
        RunContext.run(started, lastRunRows(checked))
            .withHeldNewest(RunHistory.heldNewest(checked))
            .withDrift(drift.quarantined(), drift.missingColumns())
            .withRanges(ranges != null ? ranges : ReadRanges.plan(checked));
    PipelineOptions runOptions = options != null ? options : defaultOptions();
    if (checked.isStreaming()) {
      runOptions.as(StreamingOptions.class).setStreaming(true);
    }
    Pipeline pipeline = Pipeline.create(runOptions);
    Composer.compose(checked, pipeline, context);
    progress.accept(
        (detached ? "submitting " : "running ") + checked.name() + " on " + runnerName + " ...");
    long start = System.nanoTime();
    long jobStart = System.currentTimeMillis();
    RunCounters.startTimeline();
    PipelineResult result = pipeline.run();
    if (detached) {
      RunReport.writeWithoutSummary(checked, runnerName, "submitted", OK, started, null, progress);
      return new Outcome("submitted", OK, null, List.of());
    }
    result.waitUntilFinish();
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    Map<String, Long> counters = RunSummary.counters(result);
    RunSummary summary =
        RunSummary.of(checked, counters, elapsed, runnerName)
            .withChecks(RunReport.readChecks(checked))
            .withDrift(drift.events())
            .withTimeline(
                StageTimeline.of(
                    originMillis,
                    jobStart,
                    System.currentTimeMillis(),
                    RunCounters.timeline(),
                    counters));
    Drift.recordInSinks(checked, drift.events(), started);
    if (summary.blocked()) {
      finish(summary, "blocked", QUALITY_FAILED, started);
      return new Outcome(
          "blocked",
          QUALITY_FAILED,
          summary,
          List.of(
              "error: quality checks that fail the run failed; nothing was committed (see "
                  + checked.reportFile()
                  + ")"));
    }
    if (!summary.reconciled()) {
      finish(summary, "failed", FAILED, started);
      return new Outcome(
          "failed",
          FAILED,
          summary,
          List.of(
              "error: the run does not reconcile (in != loaded + merged away + dead-lettered +"
                  + " dropped); this is a bug, please report it with the summary above"));
    }
    List<String> down = summary.destinationsDown();
    if (!down.isEmpty()) {
      // One synced destination failed; the others were loaded and keep their ledgers.
      finish(summary, "failed", FAILED, started);
      List<String> problems = new ArrayList<>();
      for (String sinkAndModel : down) {
        String[] parts = sinkAndModel.split(" ");
        problems.add(
            "error: sink "
                + parts[0]
                + " could not take model "
                + parts[1]
                + ": its API refused the credentials or stayed down (the dead letters, reason '"
                + HttpSink.DESTINATION_FAILED
                + "', say how); the other sinks were loaded, and the next run sends this one"
                + " what it lacks");
      }
      return new Outcome("failed", FAILED, summary, problems);
    }
    if (checked.sqlModels() != null) {
      // The T of ELT: the SQL models, in the warehouse, over what was just loaded.
      SqlTransform.Outcome sql =
          SqlTransform.run(SqlModels.load(checked), progress, Redaction::redact);
      summary = summary.withSqlModels(sql);
      if (sql.failed() || sql.blocked()) {
        int code = sql.failed() ? FAILED : QUALITY_FAILED;
        finish(summary, "failed", code, started);
        Drift.recordSchemas(checked, drift);
        return new Outcome("failed", code, summary, sqlProblems(sql, checked));
      }
    }
    finish(summary, "succeeded", OK, started);
    Drift.recordSchemas(checked, drift);
    return new Outcome("succeeded", OK, summary, List.of());
  }

  /** What to tell the user when SQL models failed or a blocking test of theirs did. */
  public static List<String> sqlProblems(SqlTransform.Outcome sql, Spec spec) {
    List<String> problems = new ArrayList<>();
    for (SqlTransform.ModelResult model : sql.models()) {
      if (model.status().equals("failed")) {
        problems.add(
            "error: SQL model "
                + model.name()
                + " "
                + model.error()
                + "; its previous table is kept and its dependants were skipped");
      }
    }
    for (SqlTransform.TestResult test : sql.tests()) {
      if (test.blocks() || (test.fail() && test.failed() < 0)) {
        problems.add(
            "error: test "
                + test.name()
                + " of SQL model "
                + test.model()
                + (test.failed() < 0
                    ? " could not run: " + test.error()
                    : " failed on " + test.failed() + " rows")
                + " (see "
                + spec.reportFile()
                + ")");
      }
    }
    return problems;
  }

  private Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private static PipelineOptions defaultOptions() {
    return PipelineOptionsFactory.create();
  }
}
