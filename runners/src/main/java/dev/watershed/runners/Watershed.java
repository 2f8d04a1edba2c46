package dev.watershed.runners;

import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.Lineage;
import dev.watershed.pipelines.compose.SourceColumns;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.Failures;
import dev.watershed.pipelines.run.Receivers;
import dev.watershed.pipelines.run.Redaction;
import dev.watershed.pipelines.run.RunLock;
import dev.watershed.pipelines.run.SpecRun;
import dev.watershed.pipelines.transform.SqlModels;
import dev.watershed.pipelines.transform.SqlTransform;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptions;
import picocli.CommandLine;

/**
 * The {@code watershed} command line: parse, validate, compose, run, report.
 *
 * <pre>
 * watershed run SPEC [--mode=batch|micro-batch|streaming] [--runner=flink|direct] [--verbose]
 *     [--stop-when-idle[=DURATION]] [Beam options]
 * watershed demo streaming
 * watershed validate SPEC [--mode=...] [--offline]
 * watershed plan SPEC [--mode=...] [--offline]
 * watershed query DATABASE SQL
 * </pre>
 *
 * <p>Exit codes: 0 success, 1 runtime failure, 2 spec or usage error, 3 a quality check that fails
 * the run failed (nothing was committed). Errors a user can cause are one clear message; a stack
 * trace only with {@code --verbose}.
 */
public final class Watershed {
  public static final int OK = SpecRun.OK;
  public static final int FAILED = SpecRun.FAILED;
  public static final int SPEC_ERROR = SpecRun.SPEC_ERROR;
  public static final int QUALITY_FAILED = SpecRun.QUALITY_FAILED;

  /** The command line's usage: its commands, each with what it does. */
  static String usage() {
    return Commands.of(new Watershed(System.out, System.err, Map.of(), Path.of("")))
        .getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> environment;
  private final Path workingDir;
  private final Clock clock;
  private boolean verbose;
  private LiveProgress.Style progressStyle = LiveProgress.Style.AUTO;
  private Duration progressEvery = LiveProgress.DEFAULT_INTERVAL;

  Watershed(PrintStream out, PrintStream err, Map<String, String> environment, Path workingDir) {
    this(out, err, environment, workingDir, Clock.systemUTC());
  }

  /** A command line whose runs see {@code clock} as now (freshness rules read it). */
  Watershed(
      PrintStream out,
      PrintStream err,
      Map<String, String> environment,
      Path workingDir,
      Clock clock) {
    this.out = out;
    this.err = err;
    this.environment = environment;
    this.workingDir = workingDir;
    this.clock = clock;
  }

  public static void main(String[] args) {
    Redaction.install();
    int code = new Watershed(System.out, System.err, System.getenv(), Path.of("")).execute(args);
    System.out.flush();
    System.err.flush();
    System.exit(code);
  }

  /** Runs one command and returns its exit code. */
  public int execute(String... args) {
    configureLogging();
    CommandLine line = Commands.of(this);
    line.setOut(new PrintWriter(out, true));
    line.setErr(new PrintWriter(err, true));
    line.setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
    line.setParameterExceptionHandler(
        (problem, arguments) -> {
          err.println("error: " + problem.getMessage());
          err.print(problem.getCommandLine().getUsageMessage(CommandLine.Help.Ansi.OFF));
          return SPEC_ERROR;
        });
    line.setExecutionExceptionHandler((problem, command, parsed) -> failed(problem));
    return line.execute(args);
  }

  /** How a batch run shows its progress ({@code --progress}, {@code --progress-every}). */
  void setProgress(LiveProgress.Style style, Duration every) {
    progressStyle = style;
    progressEvery = every;
  }

  /**
   * Live progress of a batch run in this JVM; a job on a cluster runs elsewhere, and its counters
   * come with its summary.
   */
  private LiveProgress startProgress(Spec spec, RunnerProfile profile, List<String> beamArgs) {
    boolean local =
        profile == RunnerProfile.DIRECT
            || beamArgs.stream()
                .filter(a -> a.startsWith("--flinkMaster="))
                .allMatch(a -> a.startsWith("--flinkMaster=["));
    LiveProgress.Style style = local ? progressStyle : LiveProgress.Style.OFF;
    return LiveProgress.start(spec, style, System.console() != null, progressEvery, err);
  }

  void setVerbose(boolean on) {
    verbose = on;
    configureLogging();
  }

  /** The exit code of a command that threw, after one clear message (a stack with --verbose). */
  private int failed(Exception problem) {
    if (problem instanceof SpecException e) {
      err.println(
          "error: the spec has "
              + e.errors().size()
              + (e.errors().size() == 1 ? " problem:" : " problems:"));
      for (SpecError error : e.errors()) {
        err.println("  " + Redaction.redact(error.toString()));
      }
      return SPEC_ERROR;
    }
    err.println("error: " + Redaction.redact(Failures.describe(problem)));
    if (verbose) {
      problem.printStackTrace(err);
    } else {
      err.println("(run with --verbose for details)");
    }
    return FAILED;
  }

  int validate(String file, String mode, boolean offline) throws SpecException {
    Spec valid = checkedSpec(file, mode, offline);
    out.println("spec is valid (" + valid.mode() + " mode)");
    return OK;
  }

  int replay(String file, String from, RunnerProfile profile, List<String> beamArgs)
      throws Exception {
    return Replay.run(this, spec(file), workingDir.resolve(from), profile, beamArgs);
  }

  private Spec spec(String file) throws SpecException {
    return spec(file, null);
  }

  Spec spec(String file, String mode) throws SpecException {
    Spec spec;
    try {
      spec = SpecParser.parse(workingDir.resolve(file), workingDir, environment, mode);
    } catch (SpecException e) {
      // An invalid value may quote a secret (a URL with a password): mask before printing.
      Redaction.add(e.secrets());
      throw e;
    }
    Redaction.add(spec.secrets());
    List<SpecError> sqlErrors = SqlModels.check(spec);
    if (!sqlErrors.isEmpty()) {
      throw new SpecException(sqlErrors);
    }
    return spec;
  }

  /**
   * The spec, with the columns its conform rules read checked against the database sources'
   * catalogs (unless {@code offline}): one list of problems, exit 2, before anything runs.
   */
  Spec checkedSpec(String file, String mode, boolean offline) throws SpecException {
    Spec spec = spec(file, mode);
    if (!offline) {
      List<String> notes = new ArrayList<>();
      List<SpecError> errors = SourceColumns.check(spec, notes);
      for (String note : notes) {
        err.println("note: " + note);
      }
      if (!errors.isEmpty()) {
        throw new SpecException(errors);
      }
    }
    return spec;
  }

  int plan(String file, String mode, boolean offline) throws SpecException {
    Spec spec = checkedSpec(file, mode, offline);
    Pipeline pipeline = Pipeline.create(RunnerProfile.DIRECT.options(List.of()));
    for (String line : Composer.compose(spec, pipeline)) {
      out.println(line);
    }
    if (spec.sqlModels() != null) {
      SqlModels models = SqlModels.load(spec);
      out.println(
          "sql models, in "
              + models.sink().name()
              + " after the load, in this order (materialized, refs):");
      for (SqlModels.SqlModel model : models.inOrder()) {
        out.println(
            String.format(
                "  %-32s %-12s <- %s",
                model.name(),
                model.materialized(),
                model.refs().isEmpty() ? "-" : String.join(", ", model.refs())));
      }
    }
    return OK;
  }

  /** Builds the spec's SQL models in its warehouse and runs their tests, without a load. */
  int transform(String file) throws Exception {
    Spec spec = checkedSpec(file, null, false);
    if (spec.sqlModels() == null) {
      err.println(
          "error: "
              + spec.name()
              + " has no models_sql: section; add one naming a folder of .sql files");
      return SPEC_ERROR;
    }
    SqlTransform.Outcome outcome =
        SqlTransform.run(SqlModels.load(spec), err::println, Redaction::redact);
    out.print(outcome.render());
    SpecRun.sqlProblems(outcome, spec).forEach(err::println);
    return outcome.failed() ? FAILED : outcome.blocked() ? QUALITY_FAILED : OK;
  }

  int status(String file) throws Exception {
    return Status.run(spec(file, null), out, clock.instant());
  }

  int lineage(String file, String only) throws SpecException {
    Spec spec = checkedSpec(file, null, true);
    List<String> lines;
    try {
      lines = Lineage.describe(spec, only);
    } catch (IllegalArgumentException e) {
      err.println("error: " + e.getMessage());
      return SPEC_ERROR;
    }
    lines.forEach(out::println);
    return OK;
  }

  int run(
      String file,
      String mode,
      boolean offline,
      RunnerProfile profile,
      List<String> beamArgs,
      Duration stopWhenIdle)
      throws Exception {
    Spec spec = checkedSpec(file, mode, offline);
    if (spec.mode().equals("batch")) {
      SpecRun.Outcome outcome;
      try (Receivers receivers = Receivers.start(spec, err::println);
          LiveProgress progress = startProgress(spec, profile, beamArgs)) {
        outcome = batchRun(spec, profile, beamArgs).execute();
      }
      return print(spec, outcome);
    }
    SpecRun run =
        SpecRun.of(spec)
            .withClock(clock)
            .on(null, profile.displayName())
            .withProgress(err::println);
    run.checkReachable();
    try (RunLock lock = SpecRun.lockAndSweep(spec, err::println);
        Receivers receivers = Receivers.start(spec, err::println)) {
      return spec.mode().equals("micro-batch")
          ? Continuous.microBatch(this, spec, profile, beamArgs, stopWhenIdle)
          : Continuous.streaming(this, spec, profile, beamArgs, stopWhenIdle);
    }
  }

  /**
   * Runs the spec's receivers (webhooks) alone until Ctrl-C, or once no request came for {@code
   * stopWhenIdle} after the first.
   */
  int intake(String file, Duration stopWhenIdle) throws Exception {
    Spec spec = checkedSpec(file, null, true);
    Continuous.StopSignal signal = new Continuous.StopSignal();
    try (Receivers receivers = Receivers.start(spec, err::println)) {
      if (!receivers.any()) {
        err.println(
            spec.name() + ": no source of the spec receives events (type: webhook); nothing to do");
        return SPEC_ERROR;
      }
      long seen = 0;
      long quietSince = System.nanoTime();
      while (!signal.stop.get()) {
        Thread.sleep(200);
        long requests = receivers.requests();
        if (requests != seen || requests == 0) {
          seen = requests;
          quietSince = System.nanoTime();
        }
        if (stopWhenIdle != null && System.nanoTime() - quietSince >= stopWhenIdle.toNanos()) {
          err.println("no request for " + stopWhenIdle + "; stopping");
          break;
        }
      }
    } finally {
      signal.finished();
    }
    return OK;
  }

  /** A batch run of the spec on the runner the command line names (the run API). */
  SpecRun batchRun(Spec spec, RunnerProfile profile, List<String> beamArgs) {
    PipelineOptions options = profile.options(beamArgs);
    ClusterJobJar.stage(options, spec, beamArgs).ifPresent(err::println);
    return SpecRun.of(spec)
        .on(options, profile.displayName())
        .withClock(clock)
        .withProgress(err::println);
  }

  /**
   * One batch run reading each incremental source in the ranges a micro-batch tick planned; the
   * caller holds the pipeline's lock.
   */
  int runBatch(
      Spec spec, RunnerProfile profile, List<String> beamArgs, Map<String, ReadRange> ranges)
      throws Exception {
    return print(spec, batchRun(spec, profile, beamArgs).withRanges(ranges).executeLocked());
  }

  /** Prints a run's summary and problems; returns its exit code. */
  private int print(Spec spec, SpecRun.Outcome outcome) {
    if (outcome.summary() != null) {
      out.print(outcome.summary().render());
    }
    for (String problem : outcome.problems()) {
      err.println(problem);
    }
    if (outcome.exitCode() == OK) {
      out.println("run report: " + spec.reportFile());
    }
    return outcome.exitCode();
  }

  PrintStream out() {
    return out;
  }

  /** The folder relative paths on the command line start from. */
  Path workingDir() {
    return workingDir;
  }

  PrintStream err() {
    return err;
  }

  /** The environment {@code ${env:...}} and {@code --password-env} read. */
  Map<String, String> environment() {
    return environment;
  }

  Clock clock() {
    return clock;
  }

  private void configureLogging() {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    ConsoleHandler handler = new ConsoleHandler();
    // Runners log failures with stack traces; without --verbose the one-line error is enough.
    handler.setLevel(verbose ? Level.INFO : Level.OFF);
    root.addHandler(handler);
    root.setLevel(verbose ? Level.INFO : Level.OFF);
  }
}
