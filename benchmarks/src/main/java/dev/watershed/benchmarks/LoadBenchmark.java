package dev.watershed.benchmarks;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Load throughput, PostgreSQL source to PostgreSQL, DuckDB and Parquet, against baselines measured
 * in the same run on the same data: the physical limit ({@code psql COPY TO STDOUT | psql COPY FROM
 * STDIN}, binary; and a server-side {@code INSERT ... SELECT DISTINCT ON} for dedupe) and plain
 * single-threaded Java (JDBC read with a fetch size, CopyManager write).
 *
 * <p>Watershed scenarios run the runnable jar in a JVM of its own with {@code -Xmx2g} under {@code
 * /usr/bin/time -v}: wall time, the job's own time (from the run summary, so start-up is reported
 * apart), peak RSS and CPU seconds. Every scenario checks the destination's row count and a
 * checksum (sum of keys and amounts) against the baseline's, so a fast wrong answer cannot pass.
 *
 * <p>Usage: {@code LoadBenchmark ROWS RUNS JAR OUT.csv OUT.md}
 */
public final class LoadBenchmark {
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  private final long rows;
  private final int runs;
  private final Path jar;
  private final Path work;
  private final List<Result> results = new ArrayList<>();

  private LoadBenchmark(long rows, int runs, Path jar, Path work) {
    this.rows = rows;
    this.runs = runs;
    this.jar = jar;
    this.work = work;
  }

  /** One scenario's runs. */
  record Result(
      String scenario,
      String baseline,
      List<Double> wallSeconds,
      List<Double> jobSeconds,
      double peakRssMb,
      double cpuSeconds,
      String check) {
    double medianWall() {
      return median(wallSeconds);
    }

    double medianJob() {
      return jobSeconds.isEmpty() ? medianWall() : median(jobSeconds);
    }
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  public static void main(String[] args) throws Exception {
    long rows = Long.parseLong(args[0]);
    int runs = Integer.parseInt(args[1]);
    Path work = Files.createTempDirectory("watershed-bench");
    LoadBenchmark bench = new LoadBenchmark(rows, runs, Path.of(args[2]), work);
    bench.generate();
    bench.runAll();
    bench.write(Path.of(args[3]), Path.of(args[4]));
  }

  private static Connection connect() throws SQLException {
    return DriverManager.getConnection(PG, "postgres", "");
  }

  private static void sql(String... statements) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  /** Seeded source: ~1.7 rows per customer_key, ~135 bytes a row. */
  private void generate() throws SQLException {
    long start = System.nanoTime();
    sql(
        "DROP SCHEMA IF EXISTS bench CASCADE",
        "CREATE SCHEMA bench",
        "CREATE TABLE bench.orders (id BIGINT PRIMARY KEY, customer_key BIGINT, first_name TEXT,"
            + " last_name TEXT, email TEXT, amount NUMERIC(12,2), currency TEXT,"
            + " created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)",
        "INSERT INTO bench.orders SELECT g, (g * 10) / 17, 'First' || (g % 997),"
            + " 'Last' || (g % 1009), 'User' || ((g * 10) / 17) || '@Example.com',"
            + " ((g * 7919) % 1000000) / 100.0, 'EUR',"
            + " TIMESTAMPTZ '2024-01-01 00:00:00+00' + (g % 525600) * INTERVAL '1 minute',"
            + " TIMESTAMPTZ '2024-01-01 00:00:00+00' + g * INTERVAL '1 second'"
            + " FROM generate_series(1::BIGINT, "
            + rows
            + ") g",
        "ANALYZE bench.orders");
    System.out.printf("generated %,d rows in %.1f s%n", rows, (System.nanoTime() - start) / 1e9);
  }

  private static final String COLUMNS =
      "id, customer_key, first_name, last_name, email, amount, currency, created_at, updated_at";

  private static String createTarget(String table) {
    return "CREATE TABLE "
        + table
        + " (id BIGINT, customer_key BIGINT, first_name TEXT, last_name TEXT, email TEXT,"
        + " amount NUMERIC(12,2), currency TEXT, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)";
  }

  /** count|sum(key)|sum(amount) of a PostgreSQL table. */
  private static String checksum(String table, String key) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT count(*), sum(" + key + "), sum(amount) FROM " + table)) {
      r.next();
      return r.getLong(1) + "|" + r.getLong(2) + "|" + r.getBigDecimal(3);
    }
  }

  private void runAll() throws Exception {
    // --- baselines ---
    List<Double> copy = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      sql("DROP TABLE IF EXISTS bench.copy_target", createTarget("bench.copy_target"));
      long start = System.nanoTime();
      shell(
          "psql -h 127.0.0.1 -U postgres -d test -qc \"COPY (SELECT "
              + COLUMNS
              + " FROM bench.orders) TO STDOUT (FORMAT binary)\""
              + " | psql -h 127.0.0.1 -U postgres -d test -qc \"COPY bench.copy_target FROM STDIN"
              + " (FORMAT binary)\"");
      copy.add((System.nanoTime() - start) / 1e9);
    }
    String all = checksum("bench.orders", "id");
    results.add(
        new Result(
            "limit: psql COPY pipe (binary)",
            "",
            copy,
            List.of(),
            0,
            0,
            check(checksum("bench.copy_target", "id"), all)));

    List<Double> distinct = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      sql("DROP TABLE IF EXISTS bench.dedupe_target", createTarget("bench.dedupe_target"));
      long start = System.nanoTime();
      sql(
          "INSERT INTO bench.dedupe_target SELECT DISTINCT ON (customer_key) "
              + COLUMNS
              + " FROM bench.orders ORDER BY customer_key, updated_at DESC");
      distinct.add((System.nanoTime() - start) / 1e9);
    }
    String latest = checksum("bench.dedupe_target", "customer_key");
    results.add(
        new Result(
            "limit: INSERT ... SELECT DISTINCT ON (dedupe)",
            "",
            distinct,
            List.of(),
            0,
            0,
            "rows|keys|amount " + latest));

    List<Double> plain = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      sql("DROP TABLE IF EXISTS bench.java_target", createTarget("bench.java_target"));
      long start = System.nanoTime();
      plainJavaCopy();
      plain.add((System.nanoTime() - start) / 1e9);
    }
    results.add(
        new Result(
            "plain Java: JDBC read + CopyManager",
            "limit: psql COPY pipe (binary)",
            plain,
            List.of(),
            0,
            0,
            check(checksum("bench.java_target", "id"), all)));

    // --- Watershed ---
    watershed(
        "watershed PG -> PG append (conform, no dedupe)",
        "limit: psql COPY pipe (binary)",
        spec(
            "append",
            false,
            "  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: bench_out, write: append }"),
        () -> check(checksum("bench_out.orders", "id"), all),
        "DROP SCHEMA IF EXISTS bench_out CASCADE",
        "CREATE SCHEMA bench_out");
    watershed(
        "watershed PG -> PG merge (conform, dedupe)",
        "limit: INSERT ... SELECT DISTINCT ON (dedupe)",
        spec(
            "merge",
            true,
            "  pg: { type: postgres, url: \""
                + PG
                + "\", user: postgres, schema: bench_out, write: merge }"),
        () -> check(checksum("bench_out.orders", "customer_key"), latest),
        "DROP SCHEMA IF EXISTS bench_out CASCADE",
        "CREATE SCHEMA bench_out");
    Path duck = work.resolve("bench.duckdb");
    watershed(
        "watershed PG -> DuckDB merge (conform, dedupe)",
        "limit: INSERT ... SELECT DISTINCT ON (dedupe)",
        spec("duckdb", true, "  duck: { type: duckdb, path: " + duck + ", write: merge }"),
        () -> check(duckChecksum(duck), latest),
        "SELECT 1");
    // CSV files into DuckDB: the limit is DuckDB's own CSV reader into a table.
    Path csv = work.resolve("orders.csv");
    shell(
        "psql -h 127.0.0.1 -U postgres -d test -qc \"\\copy (SELECT "
            + COLUMNS
            + " FROM bench.orders) TO '"
            + csv
            + "' WITH (FORMAT csv, HEADER)\"");
    List<Double> duckCsv = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      Path file = work.resolve("csv-limit-" + run + ".duckdb");
      long start = System.nanoTime();
      try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + file);
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE orders AS SELECT * FROM read_csv('"
                + csv
                + "', header = true, columns = {'id': 'BIGINT', 'customer_key': 'BIGINT',"
                + " 'first_name': 'VARCHAR', 'last_name': 'VARCHAR', 'email': 'VARCHAR',"
                + " 'amount': 'DECIMAL(12,2)', 'currency': 'VARCHAR',"
                + " 'created_at': 'TIMESTAMPTZ', 'updated_at': 'TIMESTAMPTZ'})");
      }
      duckCsv.add((System.nanoTime() - start) / 1e9);
    }
    results.add(
        new Result(
            "limit: DuckDB read_csv into a table",
            "",
            duckCsv,
            List.of(),
            0,
            0,
            check(
                duckQuery(
                    "jdbc:duckdb:" + work.resolve("csv-limit-0.duckdb"),
                    "SELECT count(*), sum(id), sum(amount) FROM orders"),
                all)));
    Path csvDuck = work.resolve("bench.duckdb");
    watershed(
        "watershed CSV -> DuckDB append (conform, no dedupe)",
        "limit: DuckDB read_csv into a table",
        csvSpec(csv, csvDuck),
        () ->
            check(
                duckQuery(
                    "jdbc:duckdb:" + csvDuck, "SELECT count(*), sum(id), sum(amount) FROM orders"),
                all),
        "SELECT 1");
    Path lake = work.resolve("lake");
    watershed(
        "watershed PG -> Parquet (conform, no dedupe)",
        "limit: psql COPY pipe (binary)",
        spec("parquet", false, "  lake: { type: parquet, path: " + lake + ", write: overwrite }"),
        () -> check(parquetChecksum(lake), all),
        "SELECT 1");
  }

  private static String check(String actual, String expected) {
    return actual.equals(expected)
        ? "ok: rows|keys|amount " + actual
        : "WRONG: " + actual + " expected " + expected;
  }

  private String duckChecksum(Path file) {
    return duckQuery(
        "jdbc:duckdb:" + file, "SELECT count(*), sum(customer_key), sum(amount) FROM orders");
  }

  private String parquetChecksum(Path folder) {
    return duckQuery(
        "jdbc:duckdb:",
        "SELECT count(*), sum(id), sum(amount) FROM read_parquet('" + folder + "/**/*.parquet')");
  }

  private static String duckQuery(String url, String query) {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(query)) {
      r.next();
      java.math.BigDecimal amount = r.getBigDecimal(3);
      return r.getLong(1)
          + "|"
          + r.getLong(2)
          + "|"
          + (amount == null ? null : amount.setScale(2, java.math.RoundingMode.UNNECESSARY));
    } catch (SQLException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  /** Single-threaded: read with a fetch size, autocommit off; write with COPY text. */
  private void plainJavaCopy() throws Exception {
    try (Connection read = connect();
        Connection write = connect()) {
      read.setAutoCommit(false);
      CopyManager copy = write.unwrap(PGConnection.class).getCopyAPI();
      org.postgresql.copy.CopyIn in =
          copy.copyIn("COPY bench.java_target (" + COLUMNS + ") FROM STDIN (FORMAT text)");
      try (Statement s = read.createStatement()) {
        s.setFetchSize(10_000);
        try (ResultSet r = s.executeQuery("SELECT " + COLUMNS + " FROM bench.orders")) {
          StringBuilder line = new StringBuilder();
          while (r.next()) {
            line.setLength(0);
            for (int i = 1; i <= 9; i++) {
              String value = r.getString(i);
              line.append(i == 1 ? "" : "\t").append(value == null ? "\\N" : value);
            }
            line.append('\n');
            byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
            in.writeToCopy(bytes, 0, bytes.length);
          }
        }
      }
      in.endCopy();
    }
  }

  private Path spec(String name, boolean dedupe, String sink) throws IOException {
    String key = dedupe ? "customer_key" : "id";
    String yaml =
        String.join(
            "\n",
            "name: bench_" + name,
            "sources:",
            "  orders: { type: jdbc, url: \""
                + PG
                + "\", user: postgres, table: bench.orders,"
                + " key: [id] }",
            "models:",
            "  orders:",
            "    key: [" + key + "]",
            "    fields: { id: long, customer_key: long, first_name: string, last_name: string,"
                + " email: string, amount: \"decimal(12,2)\", currency: string,"
                + " created_at: timestamp, updated_at: timestamp }",
            "conform:",
            "  - from: orders",
            "    to: orders",
            "    fields: { id: id, customer_key: customer_key, first_name: first_name,"
                + " last_name: last_name, email: { from: email, normalize: lower },"
                + " amount: amount, currency: currency, created_at: created_at,"
                + " updated_at: updated_at }",
            dedupe ? "dedupe:\n  orders: { keep: latest, order_by: updated_at }" : "",
            "sinks:",
            sink,
            "dead_letter: { path: " + work.resolve(name + "-dead") + " }",
            "report: { path: " + work.resolve(name + "-report") + " }",
            "");
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, yaml);
    return file;
  }

  /** The same model read from the CSV export, appended to DuckDB. */
  private Path csvSpec(Path csv, Path duck) throws IOException {
    Path spec = spec("csv", false, "  duck: { type: duckdb, path: " + duck + ", write: append }");
    String yaml =
        Files.readString(spec)
            .replaceAll(
                "(?m)^  orders: \\{ type: jdbc.*$", "  orders: { type: csv, path: " + csv + " }");
    Files.writeString(spec, yaml);
    return spec;
  }

  interface Check {
    String get() throws Exception;
  }

  private static final Pattern JOB_TIME = Pattern.compile("batch run on \\S+ in ([0-9.]+) s");
  private static final Pattern RSS =
      Pattern.compile("Maximum resident set size \\(kbytes\\): (\\d+)");
  private static final Pattern USER = Pattern.compile("User time \\(seconds\\): ([0-9.]+)");
  private static final Pattern SYS = Pattern.compile("System time \\(seconds\\): ([0-9.]+)");

  private void watershed(String scenario, String baseline, Path spec, Check check, String... reset)
      throws Exception {
    List<Double> wall = new ArrayList<>();
    List<Double> job = new ArrayList<>();
    double rss = 0;
    double cpu = 0;
    String verdict = "";
    for (int run = 0; run < runs; run++) {
      sql(reset);
      deleteRecursively(work.resolve("bench.duckdb"));
      deleteRecursively(work.resolve("bench.duckdb.wal"));
      deleteRecursively(work.resolve("lake"));
      long start = System.nanoTime();
      String output =
          shell(
              "/usr/bin/time -v java -Xmx2g"
                  + " --add-opens=java.base/java.lang=ALL-UNNAMED"
                  + " --add-opens=java.base/java.util=ALL-UNNAMED"
                  + " --add-opens=java.base/java.nio=ALL-UNNAMED"
                  + " --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
                  + " --add-opens=java.base/java.lang.invoke=ALL-UNNAMED"
                  + " -jar "
                  + jar
                  + " run "
                  + spec
                  + " 2>&1");
      wall.add((System.nanoTime() - start) / 1e9);
      Matcher m = JOB_TIME.matcher(output);
      if (!m.find()) {
        throw new IllegalStateException(scenario + ": the run failed:\n" + output);
      }
      job.add(Double.parseDouble(m.group(1)));
      Matcher r = RSS.matcher(output);
      Matcher u = USER.matcher(output);
      Matcher s = SYS.matcher(output);
      if (r.find() && u.find() && s.find()) {
        rss = Math.max(rss, Long.parseLong(r.group(1)) / 1024.0);
        cpu = Math.max(cpu, Double.parseDouble(u.group(1)) + Double.parseDouble(s.group(1)));
      }
      verdict = check.get();
      System.out.printf(
          "  %-50s run %d: %.1f s wall, %.1f s job, %s%n",
          scenario, run + 1, wall.get(run), job.get(run), verdict);
    }
    results.add(new Result(scenario, baseline, wall, job, rss, cpu, verdict));
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (var walk = Files.walk(path)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static String shell(String command) throws Exception {
    Process process =
        new ProcessBuilder("bash", "-o", "pipefail", "-c", command)
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IllegalStateException("failed: " + command + "\n" + output);
    }
    return output;
  }

  private void write(Path csv, Path table) throws IOException {
    Map<String, Result> byName = new LinkedHashMap<>();
    results.forEach(r -> byName.put(r.scenario(), r));
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write(
          "scenario,rows,runs,median_wall_s,median_job_s,rows_per_s,baseline,ratio_to_baseline,"
              + "peak_rss_mb,cpu_s,check\n");
      for (Result r : results) {
        Result base = byName.get(r.baseline());
        out.write(
            String.format(
                Locale.ROOT,
                "\"%s\",%d,%d,%.2f,%.2f,%.0f,\"%s\",%s,%.0f,%.1f,\"%s\"%n",
                r.scenario(),
                rows,
                r.wallSeconds().size(),
                r.medianWall(),
                r.medianJob(),
                rows / r.medianJob(),
                r.baseline(),
                base == null
                    ? ""
                    : String.format(Locale.ROOT, "%.2f", r.medianJob() / base.medianJob()),
                r.peakRssMb(),
                r.cpuSeconds(),
                r.check()));
      }
    }
    StringBuilder md = new StringBuilder();
    md.append(
        "| scenario | median job (s) | median wall incl. start-up (s) | rows/s | vs baseline |"
            + " peak RSS (MB) | CPU (s) | check |\n|---|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      Result base = byName.get(r.baseline());
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.2f | %.2f | %,.0f | %s | %s | %s | %s |%n",
              r.scenario(),
              r.medianJob(),
              r.medianWall(),
              rows / r.medianJob(),
              base == null
                  ? "—"
                  : String.format(
                      Locale.ROOT,
                      "%.2f× %s",
                      r.medianJob() / base.medianJob(),
                      base.scenario().replace("limit: ", "")),
              r.peakRssMb() == 0 ? "—" : String.format(Locale.ROOT, "%.0f", r.peakRssMb()),
              r.cpuSeconds() == 0 ? "—" : String.format(Locale.ROOT, "%.1f", r.cpuSeconds()),
              r.check()));
    }
    Files.writeString(table, md.toString());
    System.out.print(md);
    System.out.println("runs per scenario: " + runs);
  }
}
