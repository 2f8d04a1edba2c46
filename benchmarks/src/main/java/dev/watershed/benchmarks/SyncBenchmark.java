package dev.watershed.benchmarks;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Diff-based sync against a full re-send: a PostgreSQL table of ROWS customers propagated to
 * another PostgreSQL table by whole Watershed runs (embedded Flink, the CLI's own JVM). After both
 * targets hold the rows, each round changes 1% of the source rows, then times a run that merges
 * every row again (no {@code sync:}) and a run with {@code sync: { mode: mirror }} that sends only
 * the changed rows (reading the ledger, hashing every row). The first sync run, which sends
 * everything and builds the ledger, is timed too. Medians of RUNS rounds, wall time of the process
 * (start-up included), rows of the source per second.
 *
 * <p>Usage: {@code SyncBenchmark ROWS RUNS WATERSHED_JAR OUT.csv OUT.md}
 */
public final class SyncBenchmark {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  private final long rows;
  private final int runs;
  private final Path jar;
  private final Path work;

  private SyncBenchmark(long rows, int runs, Path jar) throws IOException {
    this.rows = rows;
    this.runs = runs;
    this.jar = jar;
    this.work = Files.createTempDirectory("sync-bench");
  }

  public static void main(String[] args) throws Exception {
    SyncBenchmark bench =
        new SyncBenchmark(Long.parseLong(args[0]), Integer.parseInt(args[1]), Path.of(args[2]));
    bench.write(bench.runAll(), Path.of(args[3]), Path.of(args[4]));
  }

  private void sql(String... statements) throws Exception {
    try (Connection c = DriverManager.getConnection(PG, "postgres", "");
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  private Path spec(String name, String sync) throws IOException {
    Path file = work.resolve(name + ".yaml");
    Files.writeString(
        file,
        String.join(
            "\n",
            "name: " + name,
            "sources:",
            "  segment:",
            "    type: jdbc",
            "    url: \"" + PG + "\"",
            "    user: postgres",
            "    table: bench_sync.source",
            "models:",
            "  customer:",
            "    key: [id]",
            "    fields: { id: long, email: string, country: string, balance: long }",
            "conform:",
            "  - { from: segment, to: customer, fields: { id: id, email: email, country: country,"
                + " balance: balance } }",
            "sinks:",
            "  ops:",
            "    type: postgres",
            "    url: \"" + PG + "\"",
            "    user: postgres",
            "    schema: bench_" + name,
            sync,
            "dead_letter: { path: dead-" + name + " }",
            "report: { path: report-" + name + " }",
            ""));
    return file;
  }

  /** Seconds the run of {@code spec} took, start-up included. */
  private double run(Path spec) throws Exception {
    return wholeRun(jar, work, spec);
  }

  /**
   * Seconds a whole {@code watershed run SPEC} takes in its own JVM (start-up included), its output
   * in {@code work}; a run that fails or hangs fails the benchmark.
   */
  static double wholeRun(Path jar, Path work, Path spec) throws Exception {
    long started = System.nanoTime();
    Process process =
        new ProcessBuilder("java", "-Xmx2g", "-jar", jar.toString(), "run", spec.toString())
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve(spec.getFileName() + ".log").toFile())
            .start();
    if (!process.waitFor(60, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException("the run did not end; see " + work);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          spec.getFileName() + " exited " + process.exitValue() + "; see the logs in " + work);
    }
    return (System.nanoTime() - started) / 1e9;
  }

  private List<String[]> runAll() throws Exception {
    sql(
        "DROP SCHEMA IF EXISTS bench_sync CASCADE",
        "DROP SCHEMA IF EXISTS bench_full CASCADE",
        "DROP SCHEMA IF EXISTS bench_diff CASCADE",
        "CREATE SCHEMA bench_sync",
        "CREATE SCHEMA bench_full",
        "CREATE SCHEMA bench_diff",
        "CREATE TABLE bench_sync.source (id BIGINT PRIMARY KEY, email TEXT, country TEXT,"
            + " balance BIGINT)",
        "INSERT INTO bench_sync.source SELECT g, 'person' || g || '@example.com',"
            + " CASE WHEN g % 3 = 0 THEN 'FR' ELSE 'DE' END, g % 10000 FROM generate_series(1, "
            + rows
            + ") g");
    Path full = spec("full", "");
    Path diff = spec("diff", "    sync: { mode: mirror, ledger: ledger.duckdb }");
    run(full);
    double first = run(diff);
    System.out.printf(Locale.ROOT, "first sync (everything, ledger built): %.1f s%n", first);
    List<Double> fullTimes = new ArrayList<>();
    List<Double> diffTimes = new ArrayList<>();
    for (int round = 0; round < runs; round++) {
      // 1% of the rows change, a different 1% each round.
      sql("UPDATE bench_sync.source SET balance = balance + 1 WHERE id % 100 = " + round % 100);
      fullTimes.add(run(full));
      diffTimes.add(run(diff));
      System.out.printf(
          Locale.ROOT,
          "round %d: full re-send %.1f s, diff sync %.1f s%n",
          round + 1,
          fullTimes.get(round),
          diffTimes.get(round));
    }
    double fullSeconds = LoadBenchmark.median(fullTimes);
    double diffSeconds = LoadBenchmark.median(diffTimes);
    List<String[]> out = new ArrayList<>();
    out.add(row("full re-send (merge every row)", fullSeconds, fullSeconds));
    out.add(row("diff sync, 1% changed (mirror)", diffSeconds, fullSeconds));
    out.add(row("first diff sync (everything, ledger built)", first, fullSeconds));
    return out;
  }

  private String[] row(String name, double seconds, double baseline) {
    return new String[] {
      name,
      String.format(Locale.ROOT, "%.1f", seconds),
      String.format(Locale.ROOT, "%.0f", rows / seconds),
      String.format(Locale.ROOT, "%.2f", baseline / seconds)
    };
  }

  private void write(List<String[]> rows, Path csv, Path table) throws IOException {
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write("case,seconds,source_rows_per_s,x_full_resend\n");
      for (String[] row : rows) {
        out.write("\"" + row[0] + "\"," + String.join(",", List.of(row).subList(1, 4)) + "\n");
      }
    }
    try (Writer out = Files.newBufferedWriter(table)) {
      out.write(
          "| case ("
              + this.rows
              + " rows) | wall s | source rows/s | × full re-send |\n"
              + "|---|---|---|---|\n");
      for (String[] row : rows) {
        out.write("| " + String.join(" | ", row) + " |\n");
      }
    }
  }
}
