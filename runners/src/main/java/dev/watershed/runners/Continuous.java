package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.KafkaOffsets;
import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.Lineage;
import dev.watershed.pipelines.compose.ReadRanges;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.compose.RunHistory;
import dev.watershed.pipelines.compose.RunSummary;
import dev.watershed.pipelines.config.ConsumedTopic;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.pipelines.run.Failures;
import dev.watershed.pipelines.run.Redaction;
import dev.watershed.transforms.metrics.RunCounters;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.StreamingOptions;

/**
 * The two modes that run until stopped: micro-batch (a batch run on every tick, each reading what
 * changed since the marks the last one committed) and streaming (one unbounded job that commits per
 * bundle and checkpoints its Kafka offsets).
 *
 * <p>Both stop on Ctrl-C (or SIGTERM), or with {@code --stop-when-idle} once caught up: for
 * micro-batch at the first tick with nothing new; for streaming when every consumer group has
 * committed up to the topic's end and the tables have not changed for the given time.
 */
final class Continuous {
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

  private Continuous() {}

  /** Sets a flag on Ctrl-C and lets the loop finish what it is doing first. */
  static final class StopSignal {
    final AtomicBoolean stop = new AtomicBoolean();
    final CountDownLatch done = new CountDownLatch(1);
    final Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              try {
                done.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });

    StopSignal() {
      Runtime.getRuntime().addShutdownHook(hook);
    }

    void finished() {
      done.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Shutting down already: the hook is running and waits for done.
      }
    }
  }

  static int microBatch(
      Watershed cli, Spec spec, RunnerProfile profile, List<String> beamArgs, Duration stopWhenIdle)
      throws Exception {
    StopSignal signal = new StopSignal();
    try {
      Duration every = spec.timing().every();
      cli.err()
          .println(
              "micro-batch " + spec.name() + " every " + every + " on " + profile.displayName());
      for (int tick = 1; !signal.stop.get(); tick++) {
        long started = System.nanoTime();
        Map<String, ReadRange> ranges = ReadRanges.plan(spec);
        long pending = ReadRanges.pending(ranges, spec);
        if (pending == 0) {
          cli.err().println("tick " + tick + ": nothing new since the last committed marks");
          if (stopWhenIdle != null) {
            return Watershed.OK;
          }
        } else {
          cli.err().println("tick " + tick + ": " + describe(ranges));
          long before = readBySources(spec);
          int code = cli.runBatch(spec, profile, beamArgs, ranges);
          if (code != Watershed.OK) {
            return code;
          }
          // A source that cannot say beforehand what is new (an API asked for changes since a
          // time) is caught up when a tick reads nothing, or when the marks found in what it read
          // did not move (an API whose "since" is inclusive answers the last record again).
          if (pending < 0 && stopWhenIdle != null) {
            if (countsInThisJvm(profile, beamArgs) && readBySources(spec) == before) {
              cli.err().println("tick " + tick + ": read nothing new");
              return Watershed.OK;
            }
            if (ReadRanges.foundMarksUnmoved(spec, ranges)) {
              cli.err().println("tick " + tick + ": the marks did not move; caught up");
              return Watershed.OK;
            }
          }
        }
        long wait = every.toNanos() - (System.nanoTime() - started);
        while (wait > 0 && !signal.stop.get()) {
          long step = Math.min(wait, TimeUnit.MILLISECONDS.toNanos(200));
          Thread.sleep(step / 1_000_000, (int) (step % 1_000_000));
          wait -= step;
        }
      }
      return Watershed.OK;
    } finally {
      signal.finished();
    }
  }

  private static String describe(Map<String, ReadRange> ranges) {
    StringBuilder text = new StringBuilder();
    ranges.forEach(
        (source, range) ->
            text.append(text.length() == 0 ? "" : "; ")
                .append(source)
                .append(" from ")
                .append(range.from() == null ? "the start" : range.from())
                .append(" to ")
                .append(range.to()));
    return text.toString();
  }

  /** True when the runner counts what the job reads in this JVM (not a job on a cluster). */
  private static boolean countsInThisJvm(RunnerProfile profile, List<String> beamArgs) {
    return profile != RunnerProfile.FLINK
        || beamArgs.stream()
            .noneMatch(a -> a.startsWith("--flinkMaster=") && !a.startsWith("--flinkMaster=["));
  }

  /** Records every source of the spec read in this JVM so far (rows and dead letters). */
  private static long readBySources(Spec spec) {
    Map<String, Long> tallies = RunCounters.tallies();
    long read = 0;
    for (SourceConfig source : spec.sources().values()) {
      read += tallies.getOrDefault("source." + source.name() + ".read", 0L);
    }
    return read;
  }

  /** Kafka records the job read in this JVM: rows, dead letters and tombstones. */
  private static long readInThisJvm(Spec spec) {
    Map<String, Long> tallies = RunCounters.tallies();
    long read = 0;
    for (SourceConfig source : spec.sources().values()) {
      if (source.isStream()) {
        read += tallies.getOrDefault("source." + source.name() + ".read", 0L);
        read += tallies.getOrDefault("source." + source.name() + ".tombstones", 0L);
      }
    }
    return read;
  }

  static int streaming(
      Watershed cli, Spec spec, RunnerProfile profile, List<String> beamArgs, Duration stopWhenIdle)
      throws Exception {
    PipelineOptions options = profile.options(beamArgs);
    options.as(StreamingOptions.class).setStreaming(true);
    if (profile == RunnerProfile.FLINK) {
      FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
      RunnerProfile.useEmbeddedConfig(flink, beamArgs, true);
      if (!RunnerProfile.hasArg(beamArgs, "maxBundleSize")) {
        flink.setMaxBundleSize(RunnerProfile.STREAMING_BUNDLE_SIZE);
      }
      if (!RunnerProfile.hasArg(beamArgs, "checkpointingInterval")) {
        flink.setCheckpointingInterval(spec.timing().checkpointEvery().toMillis());
      }
      // Sinks commit in finishBundle; finishing bundles before each checkpoint means offsets are
      // committed only after the rows they cover.
      flink.setFinishBundleBeforeCheckpointing(true);
      if (!flink.getFlinkMaster().startsWith("[")) {
        flink.setAttachedMode(false);
        ClusterJobJar.stage(flink, spec, beamArgs).ifPresent(cli.err()::println);
      } else if (!RunnerProfile.hasArg(beamArgs, "disableMetrics")) {
        // Embedded Flink gives a streaming job's counters only when it ends, so this command
        // reconciles from the tallies of this JVM (RunCounters); Beam's metrics would only cost:
        // its Flink source reader publishes the source's metrics after every record it reads.
        flink.setDisableMetrics(true);
      }
    } else {
      options.as(DirectOptions.class).setBlockOnRun(false);
    }
    Pipeline pipeline = Pipeline.create(options);
    Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
    Composer.compose(spec, pipeline, RunContext.run(now, Map.of()));
    StopSignal signal = new StopSignal();
    RunCounters.resetTallies();
    long start = System.nanoTime();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    PipelineResult result = null;
    if (profile == RunnerProfile.FLINK
        && options.as(FlinkPipelineOptions.class).getFlinkMaster().startsWith("[")) {
      // Embedded Flink runs a streaming job attached, blocking its caller until the job ends; it
      // runs on a thread of its own and ends with this process. That is safe at any moment:
      // bundles commit on their own and offsets only after the rows they cover.
      Thread job =
          new Thread(
              () -> {
                try {
                  pipeline.run();
                } catch (Throwable t) {
                  failure.set(t);
                }
              },
              "watershed-streaming-job");
      job.setDaemon(true);
      job.start();
    } else {
      try {
        result = pipeline.run();
      } catch (RuntimeException e) {
        signal.finished();
        throw e;
      }
    }
    cli.err().println("streaming " + spec.name() + " on " + profile.displayName() + " ...");
    Lineage.send(spec, now, "START", null, null, cli.err()::println);
    long lastRunningEvent = System.nanoTime();
    Map<String, Long> counters = Map.of();
    try {
      List<Object> lastProgress = null;
      long lastCommitted = committed(spec);
      long committedAtStart = lastCommitted;
      // The Direct runner and embedded Flink count what the job read in this JVM; a job on a
      // cluster does not.
      boolean localTallies =
          profile != RunnerProfile.FLINK
              || options.as(FlinkPipelineOptions.class).getFlinkMaster().startsWith("[");
      long idleSince = System.nanoTime();
      while (!signal.stop.get()) {
        if (result != null) {
          // Waiting on the job (not sleeping) surfaces its failure with its cause. A job on a
          // cluster may answer at once; the rest of the interval is slept.
          long waitStart = System.nanoTime();
          result.waitUntilFinish(org.joda.time.Duration.millis(PROGRESS_EVERY.toMillis()));
          long left = PROGRESS_EVERY.toMillis() - (System.nanoTime() - waitStart) / 1_000_000;
          if (left > 0 && !result.getState().isTerminal()) {
            Thread.sleep(left);
          }
        } else {
          Thread.sleep(PROGRESS_EVERY.toMillis());
        }
        if (failure.get() != null) {
          throw new IllegalStateException(
              "the streaming job failed: " + Failures.describe(failure.get()), failure.get());
        }
        PipelineResult.State state = result == null ? null : result.getState();
        if (state == PipelineResult.State.FAILED || state == PipelineResult.State.CANCELLED) {
          throw new IllegalStateException("the streaming job stopped: " + state);
        }
        if (state == PipelineResult.State.DONE) {
          // On a cluster: stopped with a savepoint (resume with --savepointPath=...).
          cli.err().println("the streaming job finished (stopped with a savepoint, or drained)");
          break;
        }
        long committed = committed(spec);
        long lag = lag(spec);
        Map<String, Long> rows = tableRows(spec);
        double perSecond = (committed - lastCommitted) / (double) PROGRESS_EVERY.toSeconds();
        lastCommitted = committed;
        cli.out()
            .printf(
                "%s  %.0f events/s  lag %d  %s%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS),
                perSecond,
                lag,
                rows.isEmpty() ? "" : rows.toString().replace("{", "").replace("}", ""));
        // Idle: caught up, and nothing published, committed or loaded since the last look. Caught
        // up means no lag, or (the Direct runner commits a read's last offsets only when it reads
        // again, so its lag may stay above 0) every record published since the start read. A job
        // that has not started reading is never idle, however long it takes to start.
        long published = committed + lag - committedAtStart;
        boolean caughtUp = lag == 0 || (localTallies && readInThisJvm(spec) >= published);
        List<Object> progress = List.of(lag, committed, rows);
        if (!caughtUp || !progress.equals(lastProgress)) {
          idleSince = System.nanoTime();
        }
        lastProgress = progress;
        if (System.nanoTime() - lastRunningEvent >= spec.lineage().runningEvery().toNanos()) {
          lastRunningEvent = System.nanoTime();
          Lineage.send(
              spec,
              now,
              "RUNNING",
              localTallies
                  ? RunSummary.of(
                      spec,
                      RunCounters.tallies(),
                      Duration.ofNanos(System.nanoTime() - start),
                      profile.displayName())
                  : null,
              null,
              cli.err()::println);
        }
        if (stopWhenIdle != null && System.nanoTime() - idleSince >= stopWhenIdle.toNanos()) {
          cli.err()
              .println(
                  "idle for "
                      + stopWhenIdle
                      + "; stopping"
                      + (lag == 0
                          ? ""
                          : " ("
                              + lag
                              + " records read but not yet committed are read again on"
                              + " the next start)"));
          break;
        }
      }
      if (result != null) {
        try {
          counters = RunSummary.counters(result);
        } catch (RuntimeException e) {
          counters = null;
        }
      } else {
        // Embedded Flink runs the job in this JVM: its counters are the tallies here.
        counters = RunCounters.tallies();
      }
    } catch (Exception e) {
      Lineage.send(
          spec, now, "FAIL", null, Redaction.redact(Failures.describe(e)), cli.err()::println);
      signal.finished();
      throw e;
    } finally {
      try {
        if (result != null) {
          result.cancel();
        }
      } catch (Exception e) {
        // Already stopped.
      }
    }
    try {
      return ended(cli, spec, profile, signal, now, counters, start);
    } finally {
      // Only now may a stopping JVM (Ctrl-C, SIGTERM) end: the summary, the ABORT event and the
      // run history are written.
      signal.finished();
    }
  }

  /**
   * The end of a streaming run: the summary, the lineage event (ABORT when stopped by a signal,
   * COMPLETE when idle or drained) and the run's rows in the warehouse's run history ({@code
   * stopped} or {@code completed}).
   */
  private static int ended(
      Watershed cli,
      Spec spec,
      RunnerProfile profile,
      StopSignal signal,
      Instant now,
      Map<String, Long> counters,
      long start) {
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    cli.out()
        .printf(
            "stopped after %ds: offsets committed %d, lag %d, %s%n",
            elapsed.toSeconds(), committed(spec), lag(spec), tableRows(spec));
    // Stopped by the user (Ctrl-C, a signal): ABORT; idle or drained: COMPLETE.
    String end = signal.stop.get() ? "ABORT" : "COMPLETE";
    if (counters == null) {
      Lineage.send(spec, now, end, null, null, cli.err()::println);
      cli.err().println("the runner reported no counters; the run cannot be reconciled");
      return Watershed.OK;
    }
    RunSummary summary = RunSummary.of(spec, counters, elapsed, profile.displayName());
    Lineage.send(spec, now, end, summary, null, cli.err()::println);
    RunHistory.record(
        summary, end.equals("ABORT") ? "stopped" : "completed", now, cli.err()::println);
    cli.out().print(summary.render());
    if (!summary.reconciled()) {
      // Records still between stages when the job stopped are read again on the next start.
      cli.err()
          .println(
              "note: records were still in flight when the job stopped; they are read again on"
                  + " the next start");
    }
    return Watershed.OK;
  }

  /** Offsets committed by the streaming consumer groups, summed over their topics' partitions. */
  private static long committed(Spec spec) {
    long committed = 0;
    for (SourceConfig source : spec.sources().values()) {
      ConsumedTopic kafka = source.consumedTopic();
      if (kafka != null) {
        committed +=
            KafkaOffsets.committed(kafka.bootstrapServers(), kafka.topic(), kafka.group())
                .values()
                .stream()
                .mapToLong(Long::longValue)
                .sum();
      }
    }
    return committed;
  }

  private static long lag(Spec spec) {
    long lag = 0;
    for (SourceConfig source : spec.sources().values()) {
      ConsumedTopic kafka = source.consumedTopic();
      if (kafka != null) {
        lag += KafkaOffsets.lag(kafka.bootstrapServers(), kafka.topic(), kafka.group());
      }
    }
    return lag;
  }

  /** Rows in each table the spec loads, by table name; tables not created yet are left out. */
  static Map<String, Long> tableRows(Spec spec) {
    Map<String, Long> rows = new LinkedHashMap<>();
    for (TableSink sink : spec.tableSinks()) {
      JdbcEndpoint endpoint = sink.endpoint(spec);
      for (String model : spec.modelsOf(sink)) {
        String table = sink.tableOf(model);
        try (Connection connection = endpoint.connect();
            Statement statement = connection.createStatement();
            ResultSet count =
                statement.executeQuery("SELECT COUNT(*) FROM " + endpoint.dialect().quote(table))) {
          count.next();
          rows.put(table, count.getLong(1));
        } catch (SQLException e) {
          // Not created yet: the first bundle creates it.
        }
      }
    }
    return rows;
  }
}
