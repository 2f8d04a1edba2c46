package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.transforms.metrics.RunCounters;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Live progress of a batch run in this JVM (embedded Flink or the Direct runner): rows read per
 * source, rows conformed per model, rows loaded per sink and model, rows dead-lettered, read from
 * the run's counters as they count ({@link RunCounters#tallies()}). A source's size is estimated
 * from what it says of itself ({@link SourceConfig#estimatedRecords}: a table's statistics, a
 * file's size) or else from the last run's report (rows read then), which gives a percentage and an
 * ETA; a source of unknown size shows its count and speed.
 *
 * <p>On a terminal the progress is drawn as bars ({@code me.tongfei:progressbar}); otherwise (CI
 * logs, a file) it is one plain line every interval, and a last one with the whole count when the
 * run ends (always with {@code --progress=lines}; after a run that printed any).
 */
final class LiveProgress implements AutoCloseable {
  /** How progress is shown: {@code auto} picks bars on a terminal and lines elsewhere. */
  enum Style {
    AUTO,
    BARS,
    LINES,
    OFF
  }

  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private final Map<String, String> readCounters = new LinkedHashMap<>();
  private final Map<String, String> conformCounters = new LinkedHashMap<>();
  private final Map<String, String> loadCounters = new LinkedHashMap<>();
  private final Map<String, Long> estimates;
  private final Map<String, Long> baseline;
  private final PrintStream out;
  private final long startedNanos = System.nanoTime();
  private final Map<String, Long> firstRowNanos = new LinkedHashMap<>();
  private final List<ProgressBar> bars = new ArrayList<>();
  private final Map<String, ProgressBar> barByCounter = new LinkedHashMap<>();
  private ScheduledExecutorService ticker;
  private boolean lines;
  private boolean finalLine;
  private volatile boolean printed;

  private LiveProgress(Spec spec, PrintStream out) {
    for (SourceConfig source : spec.sources().values()) {
      readCounters.put(source.name(), "source." + source.name() + ".read");
    }
    for (String model : spec.models().keySet()) {
      conformCounters.put(model, "conform." + model + ".ok");
    }
    for (SinkConfig sink : spec.sinks().values()) {
      for (String model : spec.modelsOf(sink)) {
        loadCounters.put(sink.name() + "." + model, "load." + sink.name() + "." + model);
      }
    }
    // What a source says of its size now (a file's, a table's statistics) is newer than what
    // the last run read; the last run's count serves the others (queries, incremental reads).
    this.estimates = lastRunReads(RunReport.folder(spec).resolve("run-report.json"));
    for (SourceConfig source : spec.sources().values()) {
      long records = source.estimatedRecords(spec);
      if (records > 0) {
        estimates.put(source.name(), records);
      }
    }
    this.baseline = RunCounters.tallies();
    this.out = out;
  }

  /**
   * Starts showing the progress of a run of {@code spec} in {@code style}; {@code terminal} says
   * whether the user watches a terminal.
   */
  static LiveProgress start(
      Spec spec, Style style, boolean terminal, Duration interval, PrintStream out) {
    LiveProgress progress = new LiveProgress(spec, out);
    Style chosen = style == Style.AUTO ? (terminal ? Style.BARS : Style.LINES) : style;
    if (chosen == Style.OFF) {
      return progress;
    }
    progress.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "watershed-progress");
              thread.setDaemon(true);
              return thread;
            });
    long every = (chosen == Style.BARS ? Duration.ofMillis(500) : interval).toMillis();
    if (chosen == Style.BARS) {
      progress.openBars();
      progress.ticker.scheduleAtFixedRate(progress::drawBars, every, every, TimeUnit.MILLISECONDS);
    } else {
      progress.lines = true;
      progress.finalLine = style == Style.LINES;
      progress.ticker.scheduleAtFixedRate(progress::printLine, every, every, TimeUnit.MILLISECONDS);
    }
    return progress;
  }

  private void printLine() {
    out.println(line());
    printed = true;
  }

  /** The counts so far, less those of earlier runs in this JVM. */
  private Map<String, Long> counts() {
    Map<String, Long> now = new LinkedHashMap<>(RunCounters.tallies());
    now.replaceAll((name, value) -> value - baseline.getOrDefault(name, 0L));
    return now;
  }

  /**
   * One plain line: {@code progress 0:12 read crm 12,000 of ~40,000 (30%, ETA 0:28), billing 300 |
   * conformed customer 11,900 | loaded warehouse.customer 9,800 | dead-lettered 12}.
   */
  String line() {
    Map<String, Long> counts = counts();
    long nanos = System.nanoTime();
    StringBuilder line = new StringBuilder("progress ").append(clock(nanos - startedNanos));
    List<String> reads = new ArrayList<>();
    readCounters.forEach(
        (source, counter) -> {
          long read = counts.getOrDefault(counter, 0L);
          if (read > 0) {
            firstRowNanos.putIfAbsent(source, nanos);
          }
          reads.add(source + " " + number(read) + estimate(source, read, nanos));
        });
    line.append(" read ").append(String.join(", ", reads));
    List<String> conformed = new ArrayList<>();
    conformCounters.forEach(
        (model, counter) -> conformed.add(model + " " + number(counts.getOrDefault(counter, 0L))));
    if (!conformed.isEmpty()) {
      line.append(" | conformed ").append(String.join(", ", conformed));
    }
    List<String> loads = new ArrayList<>();
    loadCounters.forEach(
        (target, counter) -> loads.add(target + " " + number(counts.getOrDefault(counter, 0L))));
    if (!loads.isEmpty()) {
      line.append(" | loaded ").append(String.join(", ", loads));
    }
    long dead =
        counts.entrySet().stream()
            .filter(e -> e.getKey().startsWith("dead."))
            .mapToLong(Map.Entry::getValue)
            .sum();
    line.append(" | dead-lettered ").append(number(dead));
    return line.toString();
  }

  /** {@code of ~N (P%, ETA m:ss)} when the last run read {@code source}, else nothing. */
  private String estimate(String source, long read, long nanos) {
    Long total = estimates.get(source);
    if (total == null || total <= 0) {
      return "";
    }
    String text = " of ~" + number(total);
    if (read >= total) {
      return text + " (100%)";
    }
    text += String.format(Locale.ROOT, " (%d%%", read * 100 / total);
    Long first = firstRowNanos.get(source);
    if (read > 0 && first != null && nanos > first) {
      long remaining = (long) ((double) (nanos - first) / read * (total - read));
      text += ", ETA " + clock(remaining);
    }
    return text + ")";
  }

  private void openBars() {
    readCounters.forEach(
        (source, counter) ->
            bar(counter, "read " + source, estimates.getOrDefault(source, -1L), true));
    loadCounters.forEach((target, counter) -> bar(counter, "load " + target, -1L, false));
  }

  private void bar(String counter, String task, long max, boolean eta) {
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(max)
            .setStyle(ProgressBarStyle.ASCII)
            .setUnit(" rows", 1)
            .setUpdateIntervalMillis(500)
            .showSpeed();
    if (!eta) {
      builder.hideEta();
    }
    ProgressBar bar = builder.build();
    bars.add(bar);
    barByCounter.put(counter, bar);
  }

  private void drawBars() {
    Map<String, Long> counts = counts();
    barByCounter.forEach(
        (counter, bar) -> {
          long value = counts.getOrDefault(counter, 0L);
          if (bar.getMax() > 0 && value > bar.getMax()) {
            bar.maxHint(value);
          }
          bar.stepTo(value);
        });
  }

  @Override
  public void close() {
    if (ticker == null) {
      return;
    }
    ticker.shutdownNow();
    try {
      ticker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!bars.isEmpty()) {
      drawBars();
      bars.forEach(ProgressBar::close);
    }
    // Lines end with the whole count, when lines were asked for or some were printed.
    if (lines && (finalLine || printed)) {
      out.println(line());
    }
  }

  /** Rows read per source in the last run's report, if there is one. */
  private static Map<String, Long> lastRunReads(Path report) {
    Map<String, Long> reads = new LinkedHashMap<>();
    try {
      if (Files.isRegularFile(report)) {
        JsonNode sources = new ObjectMapper().readTree(report.toFile()).path("sources");
        sources
            .fields()
            .forEachRemaining(e -> reads.put(e.getKey(), e.getValue().path("read").asLong()));
      }
    } catch (java.io.IOException | RuntimeException e) {
      // An unreadable report only means no estimates.
    }
    return reads;
  }

  private static String number(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static String clock(long nanos) {
    long seconds = TimeUnit.NANOSECONDS.toSeconds(nanos);
    return seconds >= 3600
        ? String.format(
            Locale.ROOT, "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60)
        : String.format(Locale.ROOT, "%d:%02d", seconds / 60, seconds % 60);
  }
}
