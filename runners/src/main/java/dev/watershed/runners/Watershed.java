package dev.watershed.runners;

import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.compose.SourceColumns;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.Failures;
import dev.watershed.pipelines.run.Redaction;
import dev.watershed.pipelines.run.RunLock;
import dev.watershed.pipelines.run.SpecRun;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import org.apache.beam.sdk.Pipeline;

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

  static final String USAGE =
      String.join(
          "\n",
          "usage: watershed <command> [arguments]",
          "",
          "  run SPEC [--mode=batch|micro-batch|streaming] [--runner=flink|direct]",
          "           [--stop-when-idle[=5s]] [--verbose] [--<beam option>=<value> ...]",
          "                          run the integration (default runner: embedded Flink; mode:",
          "                          the spec's); micro-batch and streaming run until stopped",
          "                          (Ctrl-C), or with --stop-when-idle once caught up",
          "  demo streaming          start a Kafka broker in this process, publish change events",
          "                          and stream them into DuckDB, printing progress",
          "  replay SPEC --from FILE re-process the dead letters in FILE through the spec as it is",
          "                          now; FILE keeps only the records that fail again",
          "  validate SPEC [--mode=...] [--offline]",
          "                          check the spec in the mode a run would use, and the columns",
          "                          it reads against the files' headers and the databases'",
          "                          catalogs (--offline: no database is contacted); runs nothing",
          "  plan SPEC [--mode=...] [--offline]",
          "                          print the steps the spec runs, in order",
          "  query DATABASE SQL      run SQL on a DuckDB file (or a JDBC url) and print the rows",
          "");

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> environment;
  private final Path workingDir;
  private final Clock clock;
  private boolean verbose;

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
    List<String> positional = new ArrayList<>();
    List<String> beamArgs = new ArrayList<>();
    String runner = "flink";
    String from = null;
    String mode = null;
    boolean offline = false;
    Duration stopWhenIdle = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--from") && i + 1 < args.length) {
        // The usage writes --from FILE as well as --from=FILE.
        arg = "--from=" + args[++i];
      }
      if (arg.equals("--verbose") || arg.equals("-v")) {
        verbose = true;
      } else if (arg.equals("--offline")) {
        offline = true;
      } else if (arg.startsWith("--mode=")) {
        mode = arg.substring("--mode=".length());
      } else if (arg.equals("--stop-when-idle")) {
        stopWhenIdle = Duration.ofSeconds(5);
      } else if (arg.startsWith("--stop-when-idle=")) {
        try {
          stopWhenIdle = SpecParser.parseDuration(arg.substring("--stop-when-idle=".length()));
        } catch (IllegalArgumentException e) {
          err.println("error: --stop-when-idle: " + e.getMessage());
          return SPEC_ERROR;
        }
      } else if (arg.startsWith("--from=")) {
        from = arg.substring("--from=".length());
      } else if (arg.startsWith("--runner=")) {
        runner = arg.substring("--runner=".length());
      } else if (arg.equals("--help") || arg.equals("-h")) {
        out.print(USAGE);
        return OK;
      } else if (arg.startsWith("--")) {
        beamArgs.add(arg);
      } else {
        positional.add(arg);
      }
    }
    configureLogging();
    if (positional.isEmpty()) {
      err.print(USAGE);
      return SPEC_ERROR;
    }
    String command = positional.get(0);
    try {
      switch (command) {
        case "run":
          return run(
              argument(positional, 1, "SPEC"), mode, offline, runner, beamArgs, stopWhenIdle);
        case "demo":
          if (!argument(positional, 1, "DEMO").equals("streaming")) {
            throw new UsageException(
                "unknown demo '" + positional.get(1) + "'; available: streaming");
          }
          return StreamingDemo.run(this, runner, beamArgs);
        case "replay":
          if (from == null) {
            throw new UsageException("replay needs --from=DEAD_LETTER_FILE");
          }
          return Replay.run(
              this,
              spec(argument(positional, 1, "SPEC")),
              workingDir.resolve(from),
              runner,
              beamArgs);
        case "validate":
          Spec valid = checkedSpec(argument(positional, 1, "SPEC"), mode, offline);
          out.println("spec is valid (" + valid.mode() + " mode)");
          return OK;
        case "plan":
          return plan(argument(positional, 1, "SPEC"), mode, offline);
        case "query":
          return Query.run(
              argument(positional, 1, "DATABASE"), argument(positional, 2, "SQL"), out, err);
        default:
          err.println("error: unknown command '" + command + "'");
          err.print(USAGE);
          return SPEC_ERROR;
      }
    } catch (UsageException e) {
      err.println("error: " + e.getMessage());
      err.print(USAGE);
      return SPEC_ERROR;
    } catch (SpecException e) {
      err.println(
          "error: the spec has "
              + e.errors().size()
              + (e.errors().size() == 1 ? " problem:" : " problems:"));
      for (SpecError error : e.errors()) {
        err.println("  " + Redaction.redact(error.toString()));
      }
      return SPEC_ERROR;
    } catch (Exception e) {
      err.println("error: " + Redaction.redact(Failures.describe(e)));
      if (verbose) {
        e.printStackTrace(err);
      } else {
        err.println("(run with --verbose for details)");
      }
      return FAILED;
    }
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

  private int plan(String file, String mode, boolean offline) throws SpecException {
    Spec spec = checkedSpec(file, mode, offline);
    Pipeline pipeline = Pipeline.create(RunnerProfile.DIRECT.options(List.of()));
    for (String line : Composer.compose(spec, pipeline)) {
      out.println(line);
    }
    return OK;
  }

  private int run(
      String file,
      String mode,
      boolean offline,
      String runnerName,
      List<String> beamArgs,
      Duration stopWhenIdle)
      throws Exception {
    Spec spec = checkedSpec(file, mode, offline);
    RunnerProfile profile = profile(runnerName);
    if (spec.mode().equals("batch")) {
      return print(spec, batchRun(spec, profile, beamArgs).execute());
    }
    SpecRun run = SpecRun.of(spec).withClock(clock).on(null, profile.displayName());
    run.checkReachable();
    try (RunLock lock = SpecRun.lockAndSweep(spec, err::println)) {
      return spec.mode().equals("micro-batch")
          ? Continuous.microBatch(this, spec, profile, beamArgs, stopWhenIdle)
          : Continuous.streaming(this, spec, profile, beamArgs, stopWhenIdle);
    }
  }

  /** A batch run of the spec on the runner the command line names (the run API). */
  SpecRun batchRun(Spec spec, RunnerProfile profile, List<String> beamArgs) {
    return SpecRun.of(spec)
        .on(profile.options(beamArgs), profile.displayName())
        .withClock(clock)
        .withProgress(err::println);
  }

  /**
   * One batch run reading each incremental source in the ranges a micro-batch tick planned; the
   * caller holds the pipeline's lock.
   */
  int runBatch(
      Spec spec,
      RunnerProfile profile,
      List<String> beamArgs,
      Map<String, RunContext.ReadRange> ranges)
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

  PrintStream err() {
    return err;
  }

  Clock clock() {
    return clock;
  }

  static RunnerProfile profile(String runnerName) throws UsageException {
    try {
      return RunnerProfile.named(runnerName);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private void configureLogging() {
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    java.util.logging.ConsoleHandler handler = new java.util.logging.ConsoleHandler();
    // Runners log failures with stack traces; without --verbose the one-line error is enough.
    handler.setLevel(verbose ? Level.INFO : Level.OFF);
    root.addHandler(handler);
    root.setLevel(verbose ? Level.INFO : Level.OFF);
  }

  private static String argument(List<String> positional, int index, String name)
      throws UsageException {
    if (positional.size() <= index) {
      throw new UsageException("missing " + name);
    }
    return positional.get(index);
  }

  /** A command line that does not say what to do. */
  static final class UsageException extends Exception {
    UsageException(String message) {
      super(message);
    }
  }
}
