package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.Drift;
import dev.watershed.pipelines.compose.ReadRanges;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.compose.RunLock;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.compose.RunSummary;
import dev.watershed.pipelines.compose.SourceColumns;
import dev.watershed.pipelines.spec.SinkSpec;
import dev.watershed.pipelines.spec.SourceSpec;
import dev.watershed.pipelines.spec.Spec;
import dev.watershed.pipelines.spec.SpecError;
import dev.watershed.pipelines.spec.SpecException;
import dev.watershed.pipelines.spec.SpecParser;
import dev.watershed.transforms.drift.DriftEvent;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;

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
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int SPEC_ERROR = 2;
  public static final int QUALITY_FAILED = 3;

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
    try {
      checkDatabasesReachable(spec);
    } catch (RuntimeException | SQLException e) {
      // The report says this run failed, not what the previous one did.
      RunReport.writeWithoutSummary(
          spec,
          profile.displayName(),
          "failed",
          FAILED,
          clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS),
          Redaction.redact(Failures.describe(e)));
      throw e;
    }
    try (RunLock lock = lockAndSweep(spec)) {
      switch (spec.mode()) {
        case "micro-batch":
          return Continuous.microBatch(this, spec, profile, beamArgs, stopWhenIdle);
        case "streaming":
          return Continuous.streaming(this, spec, profile, beamArgs, stopWhenIdle);
        default:
          return runBatch(spec, profile, beamArgs, ReadRanges.plan(spec));
      }
    }
  }

  /**
   * Takes the pipeline's run lock (a second run of the spec is refused before it writes anything,
   * its report included) and removes what earlier runs that crashed left, saying so.
   */
  RunLock lockAndSweep(Spec spec) throws java.io.IOException, SQLException {
    RunLock lock = RunLock.acquire(spec);
    try {
      List<String> swept = lock.sweep();
      if (!swept.isEmpty()) {
        err.println(
            "removed "
                + swept.size()
                + " staging "
                + (swept.size() == 1 ? "object" : "objects")
                + " left by an earlier run of "
                + spec.name()
                + " that did not finish:");
        for (String each : swept) {
          err.println("  " + each);
        }
      }
      return lock;
    } catch (java.io.IOException | SQLException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** One batch run reading each Kafka and incremental source in its range. */
  int runBatch(
      Spec spec,
      RunnerProfile profile,
      List<String> beamArgs,
      Map<String, RunContext.ReadRange> ranges)
      throws Exception {
    RunReport.clearRunFiles(spec);
    Instant started = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    RunReport.writeWithoutSummary(spec, profile.displayName(), "running", -1, started, null);
    try {
      return runBatchReported(spec, profile, beamArgs, ranges, started);
    } catch (Exception e) {
      RunReport.writeWithoutSummary(
          spec,
          profile.displayName(),
          "failed",
          FAILED,
          started,
          Redaction.redact(Failures.describe(e)));
      throw e;
    }
  }

  private int runBatchReported(
      Spec spec,
      RunnerProfile profile,
      List<String> beamArgs,
      Map<String, RunContext.ReadRange> ranges,
      Instant started)
      throws Exception {
    Drift.Outcome drift = Drift.check(spec);
    spec = drift.spec();
    if (drift.failed()) {
      Drift.recordInSinks(spec, drift.events(), started);
      RunSummary refused =
          RunSummary.of(spec, Map.of(), Duration.ZERO, profile.displayName())
              .withDrift(drift.events());
      RunReport.write(refused, "blocked", QUALITY_FAILED, started);
      for (DriftEvent event : drift.events()) {
        err.println("  " + event.describe());
      }
      err.println(
          "error: the schema of a source with drift: fail changed; nothing was run (see "
              + spec.reportFile()
              + ")");
      return QUALITY_FAILED;
    }
    RunContext context =
        RunContext.run(started, RunReport.lastRunRows(spec))
            .withDrift(drift.quarantined(), drift.missingColumns())
            .withRanges(ranges);
    Pipeline pipeline = Pipeline.create(profile.options(beamArgs));
    Composer.compose(spec, pipeline, context);
    err.println("running " + spec.name() + " on " + profile.displayName() + " ...");
    long start = System.nanoTime();
    PipelineResult result = pipeline.run();
    result.waitUntilFinish();
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    RunSummary summary =
        RunSummary.of(spec, RunSummary.counters(result), elapsed, profile.displayName())
            .withChecks(RunReport.readChecks(spec))
            .withDrift(drift.events());
    Drift.recordInSinks(spec, drift.events(), started);
    out.print(summary.render());
    if (summary.blocked()) {
      RunReport.write(summary, "blocked", QUALITY_FAILED, started);
      err.println(
          "error: quality checks that fail the run failed; nothing was committed (see "
              + spec.reportFile()
              + ")");
      return QUALITY_FAILED;
    }
    if (!summary.reconciled()) {
      RunReport.write(summary, "failed", FAILED, started);
      err.println(
          "error: the run does not reconcile (in != loaded + merged away + dead-lettered +"
              + " dropped); this is a bug, please report it with the summary above");
      return FAILED;
    }
    RunReport.write(summary, "succeeded", OK, started);
    Drift.recordSchemas(spec, drift);
    out.println("run report: " + spec.reportFile());
    return OK;
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

  /**
   * Connects once to every database the spec names, so an unreachable one fails fast and clearly.
   */
  void checkDatabasesReachable(Spec spec) throws SQLException {
    for (SourceSpec source : spec.sources().values()) {
      if (source.kafka() != null) {
        Continuous.checkKafka(
            "sources." + source.name(),
            source.kafka().bootstrapServers(),
            source.kafka().timeout());
      } else if (!source.isFile() && !source.url().equals("jdbc:duckdb:")) {
        check(
            "sources." + source.name(),
            JdbcEndpoint.of(source.url()).withUser(source.user()).withPassword(source.password()));
      }
    }
    for (SinkSpec sink : spec.sinks().values()) {
      if (sink.type().equals("postgres") || sink.type().equals("mariadb")) {
        check(
            "sinks." + sink.name(),
            JdbcEndpoint.of(sink.url()).withUser(sink.user()).withPassword(sink.password()));
      } else if (sink.type().equals("duckdb")) {
        check("sinks." + sink.name(), JdbcEndpoint.of("jdbc:duckdb:" + spec.resolve(sink.path())));
      } else if (sink.type().equals("kafka")) {
        Continuous.checkKafka(
            "sinks." + sink.name(), sink.bootstrapServers(), SourceSpec.Kafka.DEFAULT_TIMEOUT);
      } else if (sink.type().equals("bigquery")) {
        checkBigQuery("sinks." + sink.name());
      }
    }
  }

  /**
   * Fails with one line when BigQuery cannot be reached or no Google Cloud credentials are found,
   * instead of the client library's minutes of retries.
   */
  static void checkBigQuery(String where) {
    String host = "bigquery.googleapis.com";
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress(host, 443), 5_000);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          where
              + ": cannot reach BigQuery at "
              + host
              + ":443 ("
              + e.getClass().getSimpleName()
              + "); check the network or proxy settings");
    }
    try {
      com.google.auth.oauth2.GoogleCredentials.getApplicationDefault();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          where
              + ": no Google Cloud credentials found; set GOOGLE_APPLICATION_CREDENTIALS to a"
              + " service account key file, or run: gcloud auth application-default login");
    }
  }

  private static void check(String where, JdbcEndpoint endpoint) throws SQLException {
    try (Connection connection = endpoint.connect()) {
      connection.isValid(5);
    } catch (SQLException e) {
      throw new SQLException(where + ": " + e.getMessage(), e.getSQLState(), e);
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
