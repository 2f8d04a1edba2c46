package dev.watershed.runners;

import dev.watershed.pipelines.config.SpecParser;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.util.ReleaseInfo;
import org.apache.flink.runtime.util.EnvironmentInformation;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * The commands of {@code watershed} as picocli parses them: each names its options (with help for
 * every command, {@code --help}) and calls back into {@link Watershed}, which does the work and
 * prints. Options picocli does not know are taken as Beam options only by the commands that run a
 * pipeline, and only if the runner's Beam options know them; anything else is a usage error.
 */
final class Commands {
  private Commands() {}

  /** The command line of {@code cli}: {@code watershed <command>}. */
  static CommandLine of(Watershed cli) {
    CommandLine line = new CommandLine(new Root());
    line.addSubcommand("run", new Run(cli));
    line.addSubcommand("demo", new Demo(cli));
    line.addSubcommand("replay", new Replay(cli));
    line.addSubcommand("intake", new Intake(cli));
    line.addSubcommand("validate", new Validate(cli));
    line.addSubcommand("plan", new Plan(cli));
    line.addSubcommand("lineage", new LineageCommand(cli));
    line.addSubcommand("transform", new TransformCommand(cli));
    line.addSubcommand("status", new StatusCommand(cli));
    line.addSubcommand("query", new QueryCommand(cli));
    line.addSubcommand("init", new InitCommand(cli));
    line.addSubcommand("help", new CommandLine.HelpCommand());
    return line;
  }

  @Command(
      name = "watershed",
      mixinStandardHelpOptions = true,
      versionProvider = Version.class,
      description = "Integrates many sources into one consistent view in a warehouse and a lake.",
      footer = {
        "",
        "Exit codes: 0 success, 1 runtime failure, 2 spec or usage error, 3 a quality rule that"
            + " fails the run failed (nothing was committed).",
        "Run 'watershed help COMMAND' for a command's options."
      })
  static final class Root implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec self;

    @Override
    public Integer call() {
      throw new CommandLine.ParameterException(self.commandLine(), "missing a command");
    }
  }

  /**
   * The project version and git commit, from the build, and the Beam and Flink versions on the
   * class path (read from those libraries, so a mismatched class path shows).
   */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
      Properties build = new Properties();
      try (InputStream in = Commands.class.getResourceAsStream("version.properties")) {
        if (in != null) {
          build.load(in);
        }
      }
      return new String[] {
        "watershed " + build.getProperty("version", "(unknown version)"),
        "commit    " + commit(build),
        "beam      " + ReleaseInfo.getReleaseInfo().getVersion(),
        "flink     " + EnvironmentInformation.getVersion(),
        "java      "
            + System.getProperty("java.version")
            + " ("
            + System.getProperty("java.vm.name")
            + ")"
      };
    }

    /** The abbreviated commit, marked when the build had uncommitted changes. */
    private static String commit(Properties build) {
      String id = build.getProperty("commit", "");
      if (id.isEmpty() || id.startsWith("${")) {
        return "(built outside a git checkout)";
      }
      String time = build.getProperty("commit_time", "");
      String when = time.isEmpty() || time.startsWith("${") ? "" : " of " + time;
      return id
          + ("true".equals(build.getProperty("dirty")) ? " with uncommitted changes" : "")
          + when;
    }
  }

  /** What every command has: the command line to call back, and {@code --verbose}. */
  abstract static class Base implements Callable<Integer> {
    final Watershed cli;

    @Option(
        names = {"-v", "--verbose"},
        description = "Log what runners log, and print stack traces of errors.")
    boolean verbose;

    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this command's options and exit.")
    boolean help;

    @CommandLine.Spec CommandLine.Model.CommandSpec self;

    Base(Watershed cli) {
      this.cli = cli;
    }

    @Override
    public final Integer call() throws Exception {
      cli.setVerbose(verbose);
      return work();
    }

    abstract int work() throws Exception;

    /**
     * {@code value} of {@code option} as a duration ({@code 5s}, {@code 2m}), or null if absent.
     */
    Duration duration(String option, String value) {
      if (value == null) {
        return null;
      }
      try {
        return SpecParser.parseDuration(value);
      } catch (IllegalArgumentException e) {
        throw usage(option + ": " + e.getMessage());
      }
    }

    CommandLine.ParameterException usage(String message) {
      return new CommandLine.ParameterException(self.commandLine(), message);
    }
  }

  /** A command that runs a pipeline: a runner, and Beam options it passes on. */
  abstract static class Runs extends Base {
    @Option(
        names = "--runner",
        defaultValue = "flink",
        paramLabel = "flink|direct",
        description = "Where the pipeline runs: embedded Flink (default) or the Direct runner.")
    String runner;

    @Unmatched List<String> beamArgs = new ArrayList<>();

    Runs(Watershed cli) {
      super(cli);
    }

    RunnerProfile profile() {
      try {
        return RunnerProfile.named(runner);
      } catch (IllegalArgumentException e) {
        throw usage(e.getMessage());
      }
    }

    /**
     * The Beam options given ({@code --name=value}), each checked against the runner's Beam
     * options: an option neither this command nor Beam knows is a usage error, not something passed
     * on blindly.
     */
    List<String> beamOptions(RunnerProfile profile) {
      for (String arg : beamArgs) {
        if (!arg.startsWith("--")) {
          throw usage("unexpected argument '" + arg + "'");
        }
      }
      try {
        profile.options(beamArgs);
      } catch (IllegalArgumentException e) {
        Matcher named = Pattern.compile("named '([^']+)'").matcher(String.valueOf(e.getMessage()));
        throw usage(
            named.find()
                ? "unknown option '--"
                    + named.group(1)
                    + "': neither an option of '"
                    + self.name()
                    + "' nor a Beam option of the "
                    + profile.displayName()
                    + " runner"
                : "a Beam option is not valid: " + e.getMessage());
      }
      return beamArgs;
    }
  }

  @Command(
      name = "run",
      description = {
        "Run the integration (default runner: embedded Flink; mode: the spec's).",
        "Micro-batch and streaming run until stopped (Ctrl-C), or with --stop-when-idle once"
            + " caught up. Other --name=value options are Beam options of the runner, e.g."
            + " --parallelism=1."
      })
  static final class Run extends Runs {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    @Option(
        names = "--mode",
        paramLabel = "batch|micro-batch|streaming",
        description = "Run in this mode whatever the spec's 'mode:' says.")
    String mode;

    @Option(
        names = "--stop-when-idle",
        arity = "0..1",
        fallbackValue = "5s",
        paramLabel = "DURATION",
        description = "Micro-batch and streaming: stop once caught up (default 5s of quiet).")
    String stopWhenIdle;

    @Option(
        names = "--offline",
        description = "Do not read the databases' catalogs to check the columns the spec reads.")
    boolean offline;

    @Option(
        names = "--progress",
        paramLabel = "auto|bars|lines|off",
        description =
            "Batch runs on this machine: live progress (rows read per source with an estimate from"
                + " the last run, rows loaded per sink); auto draws bars on a terminal and prints"
                + " lines elsewhere (default auto).")
    String progress = "auto";

    @Option(
        names = "--progress-every",
        paramLabel = "DURATION",
        description = "How often a progress line is printed (default 10s).")
    String progressEvery;

    Run(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      LiveProgress.Style style;
      try {
        style = LiveProgress.Style.valueOf(progress.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw usage("unknown --progress '" + progress + "'; allowed: auto, bars, lines, off");
      }
      Duration every = duration("--progress-every", progressEvery);
      cli.setProgress(style, every != null ? every : LiveProgress.DEFAULT_INTERVAL);
      RunnerProfile profile = profile();
      return cli.run(
          spec,
          mode,
          offline,
          profile,
          beamOptions(profile),
          duration("--stop-when-idle", stopWhenIdle));
    }
  }

  @Command(
      name = "demo",
      description = {
        "demo streaming: start a Kafka broker in this process, publish change events and stream"
            + " them into DuckDB, printing progress.",
        "demo api: the customer-360 job with its support tickets read from a help-desk API served"
            + " in this process (pages, a bearer key, an announced rate limit, a 429)."
      })
  static final class Demo extends Runs {
    @Parameters(index = "0", paramLabel = "DEMO", description = "The demo: streaming or api.")
    String which;

    Demo(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      if (!which.equals("streaming") && !which.equals("api")) {
        throw usage("unknown demo '" + which + "'; available: streaming, api");
      }
      RunnerProfile profile = profile();
      List<String> options = beamOptions(profile);
      if (which.equals("api")) {
        List<String> runArgs = new ArrayList<>(List.of("--runner=" + runner));
        runArgs.addAll(options);
        return ApiDemo.run(cli, cli.workingDir(), runArgs);
      }
      return StreamingDemo.run(cli, profile.displayName(), options);
    }
  }

  @Command(
      name = "replay",
      description = {
        "Re-process the dead letters in FILE through the spec as it is now; FILE keeps only the"
            + " records that fail again."
      })
  static final class Replay extends Runs {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    @Option(
        names = "--from",
        required = true,
        paramLabel = "FILE",
        description = "The dead-letter file (JSON lines) to replay.")
    String from;

    Replay(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      RunnerProfile profile = profile();
      return cli.replay(spec, from, profile, beamOptions(profile));
    }
  }

  /** A command that reads a spec in a mode, checking its columns unless offline. */
  abstract static class ReadsSpec extends Base {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    @Option(
        names = "--mode",
        paramLabel = "batch|micro-batch|streaming",
        description = "Judge the spec in this mode whatever its 'mode:' says.")
    String mode;

    @Option(names = "--offline", description = "Contact no database.")
    boolean offline;

    ReadsSpec(Watershed cli) {
      super(cli);
    }
  }

  @Command(
      name = "intake",
      description = {
        "Receive the spec's webhook sources and keep their events in their Kafka topics, without"
            + " running the pipeline (for a job on a Flink cluster or Dataflow that reads those"
            + " topics). Runs until stopped (Ctrl-C), or with --stop-when-idle once requests stop."
      })
  static final class Intake extends Base {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    @Option(
        names = "--stop-when-idle",
        arity = "0..1",
        fallbackValue = "5s",
        paramLabel = "DURATION",
        description = "Stop once no request came for this long after the first (default 5s).")
    String stopWhenIdle;

    Intake(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.intake(spec, duration("--stop-when-idle", stopWhenIdle));
    }
  }

  @Command(
      name = "validate",
      description = {
        "Check the spec in the mode a run would use, and the columns it reads against the files'"
            + " headers and the databases' catalogs; runs nothing."
      })
  static final class Validate extends ReadsSpec {
    Validate(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.validate(spec, mode, offline);
    }
  }

  @Command(name = "plan", description = "Print the steps the spec runs, in order.")
  static final class Plan extends ReadsSpec {
    Plan(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.plan(spec, mode, offline);
    }
  }

  @Command(
      name = "lineage",
      description =
          "Print the column lineage: per model the sinks it lands in, per field the source"
              + " columns it comes from and how.")
  static final class LineageCommand extends Base {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    @Parameters(
        index = "1",
        arity = "0..1",
        paramLabel = "MODEL[.FIELD]",
        description = "Only this model or field.")
    String only;

    LineageCommand(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.lineage(spec, only);
    }
  }

  @Command(
      name = "transform",
      description =
          "Build the spec's SQL models (models_sql:) in its warehouse, in the order their refs"
              + " give, and run their tests, without loading anything.")
  static final class TransformCommand extends Base {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    TransformCommand(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.transform(spec);
    }
  }

  @Command(
      name = "status",
      description =
          "Print the last run, per source the rows read and the marks kept, per model its last"
              + " recorded run and the freshness of its newest record, and the dead letters kept.")
  static final class StatusCommand extends Base {
    @Parameters(index = "0", paramLabel = "SPEC", description = "The spec file.")
    String spec;

    StatusCommand(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return cli.status(spec);
    }
  }

  @Command(
      name = "query",
      description = "Run SQL on a DuckDB file (or a JDBC url) and print the rows.")
  static final class QueryCommand extends Base {
    @Parameters(index = "0", paramLabel = "DATABASE", description = "A DuckDB file or JDBC url.")
    String database;

    @Parameters(index = "1", paramLabel = "SQL", description = "The query.")
    String sql;

    QueryCommand(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return Query.run(database, sql, cli.out(), cli.err());
    }
  }

  @Command(
      name = "init",
      description = {
        "Write a starter spec for a database's tables, a Kafka broker's Debezium topics, or a"
            + " folder's CSV, JSON lines or Parquet files: a source, a typed"
            + " model and a one-to-one conform entry per table or file, dedupe and incremental"
            + " marks where a version column fits, relationships rules from foreign keys, and a"
            + " DuckDB warehouse."
      })
  static final class InitCommand extends Base {
    @Option(
        names = "--from",
        required = true,
        paramLabel = "SOURCE",
        description =
            "A JDBC URL (PostgreSQL, MariaDB, DuckDB), kafka://host:port[/topic] (Debezium"
                + " change events), a CSV, JSON lines or Parquet file, or a folder of them.")
    String from;

    @Option(
        names = "--tables",
        split = ",",
        paramLabel = "TABLE",
        description = "Only these tables (schema.table or table) or topics; default: all.")
    List<String> tables = List.of();

    @Option(names = "--user", description = "The database user.")
    String user;

    @Option(
        names = "--password-env",
        paramLabel = "VAR",
        description = "The environment variable holding the password; the spec names it.")
    String passwordEnv;

    @Option(names = "--name", description = "The spec's name (default: the database or folder).")
    String name;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Write the spec here instead of printing it.")
    String out;

    @Option(names = "--force", description = "Replace --out if it exists.")
    boolean force;

    InitCommand(Watershed cli) {
      super(cli);
    }

    @Override
    int work() throws Exception {
      return Init.run(cli, from, tables, user, passwordEnv, name, out, force);
    }
  }
}
