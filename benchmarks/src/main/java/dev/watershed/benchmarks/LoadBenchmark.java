package dev.watershed.benchmarks;

import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Load throughput from a seeded PostgreSQL table into PostgreSQL, DuckDB and Parquet, and from CSV
 * files into DuckDB, against what a user could do instead, all measured in the same run on the same
 * data:
 *
 * <ul>
 *   <li>the physical limit: {@code psql COPY TO STDOUT | psql COPY FROM STDIN} in binary, a
 *       server-side {@code INSERT ... SELECT DISTINCT ON} for dedupe, DuckDB's own {@code
 *       read_csv};
 *   <li>plain single-threaded Java: a JDBC read with a fetch size written with CopyManager;
 *   <li>the peers: Spark {@code local[2]}, Flink SQL with the JDBC connector, and stock Beam
 *       ({@code JdbcIO} defaults on the Direct runner), each in a project of its own under {@code
 *       benchmarks/peers/} whose jars never meet Watershed's.
 * </ul>
 *
 * <p>Every tool runs in a JVM of its own ({@code -Xmx2g}) under {@code /usr/bin/time -v}: wall
 * time, peak RSS and CPU seconds. Start-up is measured apart, as the wall time of the same load of
 * a 1,000-row table; the steady state is the wall time less the start-up, and the ratios compare
 * steady states. Every run checks the destination's row count, sum of keys and sum of amounts
 * against the source (append) or the {@code DISTINCT ON} result (dedupe), so a fast wrong answer
 * cannot pass.
 *
 * <p>Usage: {@code LoadBenchmark ROWS RUNS WATERSHED_JAR PEERS_FOLDER OUT.csv OUT.md}; a peer runs
 * when {@code PEERS_FOLDER/<peer>/target/classpath.txt} exists.
 */
public final class LoadBenchmark {
  static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";
  private static final long STARTUP_ROWS = 1000;

  /**
   * Rows stock Beam loads: its Direct runner builds each bundle's evaluators anew and JdbcIO's
   * reshuffle leaves bundles of a few rows, so it loads a few hundred rows a second (measured:
   * 100,000 rows in 162 s); it reads the first rows of the source, and its rate is compared.
   */
  private static final long STOCK_BEAM_ROWS = 20_000;

  static final String LIMIT_COPY = "psql COPY pipe (binary)";
  static final String LIMIT_DISTINCT = "INSERT ... SELECT DISTINCT ON";
  static final String LIMIT_READ_CSV = "DuckDB read_csv";
  static final String PLAIN_JAVA = "plain Java: JDBC read + CopyManager";
  static final String WATERSHED = "Watershed (embedded Flink)";
  static final String SPARK = "Spark local[2]";
  static final String FLINK_SQL = "Flink SQL, JDBC connector";
  static final String STOCK_BEAM = "stock Beam JdbcIO, Direct runner";
  static final List<String> PEERS = List.of(SPARK, FLINK_SQL, STOCK_BEAM);

  private final long rows;
  private final int runs;
  private final Path jar;
  private final Path peers;
  private final Path work;
  private final List<Result> results = new ArrayList<>();
  private final Map<String, String> expected = new LinkedHashMap<>();

  private LoadBenchmark(long rows, int runs, Path jar, Path peers, Path work) {
    this.rows = rows;
    this.runs = runs;
    this.jar = jar;
    this.peers = peers;
    this.work = work;
  }

  /**
   * The runs of one tool on one scenario over {@code rows} rows, and on {@value #STARTUP_ROWS}
   * rows.
   */
  record Result(
      String scenario,
      String tool,
      long rows,
      Measure full,
      Measure startup,
      boolean limit,
      String note) {
    double steady() {
      return startup == null ? full.medianWall() : full.medianWall() - startup.medianWall();
    }

    double rowsPerSecond() {
      return rows / steady();
    }
  }

  /** Wall times of the runs, the largest peak RSS and CPU seconds seen, and the last check. */
  record Measure(List<Double> wall, double peakRssMb, double cpuSeconds, String check) {
    double medianWall() {
      return median(wall);
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
    LoadBenchmark bench = new LoadBenchmark(rows, runs, Path.of(args[2]), Path.of(args[3]), work);
    bench.generate();
    bench.runAll();
    bench.write(Path.of(args[4]), Path.of(args[5]));
  }

  static Connection connect() throws SQLException {
    return DriverManager.getConnection(PG, "postgres", "");
  }

  static void sql(String... statements) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      for (String statement : statements) {
        s.execute(statement);
      }
    }
  }

  /**
   * Seeded source: ~1.7 rows per customer_key, ~135 bytes a row; and its first {@value
   * #STARTUP_ROWS} rows, for the start-up runs.
   */
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
        "CREATE TABLE bench.orders_startup AS SELECT * FROM bench.orders WHERE id <= "
            + STARTUP_ROWS,
        "ALTER TABLE bench.orders_startup ADD PRIMARY KEY (id)",
        "CREATE TABLE bench.orders_sample AS SELECT * FROM bench.orders WHERE id <= "
            + Math.min(rows, STOCK_BEAM_ROWS),
        "ALTER TABLE bench.orders_sample ADD PRIMARY KEY (id)",
        "ANALYZE bench.orders",
        "ANALYZE bench.orders_startup");
    System.out.printf("generated %,d rows in %.1f s%n", rows, (System.nanoTime() - start) / 1e9);
  }

  static final String COLUMNS =
      "id, customer_key, first_name, last_name, email, amount, currency, created_at, updated_at";

  /** A target table of the source's columns; with {@code key}, that column is its primary key. */
  static String createTarget(String table, String key) {
    return "CREATE TABLE "
        + table
        + " (id BIGINT, customer_key BIGINT, first_name TEXT, last_name TEXT, email TEXT,"
        + " amount NUMERIC(12,2), currency TEXT, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ"
        + (key == null ? "" : ", PRIMARY KEY (" + key + ")")
        + ")";
  }

  /** count|sum(key)|sum(amount) of a PostgreSQL table. */
  static String checksum(String table, String key) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT count(*), sum(" + key + "), sum(amount) FROM " + table)) {
      r.next();
      return r.getLong(1) + "|" + r.getLong(2) + "|" + r.getBigDecimal(3);
    }
  }

  /** A load to measure: what to reset before each run, how to run it, how to check it. */
  interface Load {
    void reset(boolean startup) throws Exception;

    /** Runs the load; returns the output of the process, or null for an in-process load. */
    String run(boolean startup) throws Exception;

    String check(boolean startup) throws Exception;
  }

  private void runAll() throws Exception {
    expected.put("append", checksum("bench.orders", "id"));
    expected.put("append-startup", checksum("bench.orders_startup", "id"));
    expected.put("append-sample", checksum("bench.orders_sample", "id"));
    sql("DROP TABLE IF EXISTS bench.distinct_check", createTarget("bench.distinct_check", null));
    sql(
        "INSERT INTO bench.distinct_check SELECT DISTINCT ON (customer_key) "
            + COLUMNS
            + " FROM bench.orders ORDER BY customer_key, updated_at DESC");
    expected.put("merge", checksum("bench.distinct_check", "customer_key"));
    sql("TRUNCATE bench.distinct_check");
    sql(
        "INSERT INTO bench.distinct_check SELECT DISTINCT ON (customer_key) "
            + COLUMNS
            + " FROM bench.orders_startup ORDER BY customer_key, updated_at DESC");
    expected.put("merge-startup", checksum("bench.distinct_check", "customer_key"));
    sql("TRUNCATE bench.distinct_check");
    sql(
        "INSERT INTO bench.distinct_check SELECT DISTINCT ON (customer_key) "
            + COLUMNS
            + " FROM bench.orders_sample ORDER BY customer_key, updated_at DESC");
    expected.put("merge-sample", checksum("bench.distinct_check", "customer_key"));

    postgresToPostgres("PG -> PG append (conform, no dedupe)", "append");
    postgresToPostgres("PG -> PG merge (conform, dedupe)", "merge");
    otherDestinations();
  }

  private static String source(boolean startup) {
    return startup ? "bench.orders_startup" : "bench.orders";
  }

  private String expectedFor(String scenario, boolean startup) {
    return expected.get(scenario + (startup ? "-startup" : ""));
  }

  /** The limit, plain Java (append), Watershed and every peer on one PostgreSQL scenario. */
  private void postgresToPostgres(String scenario, String mode) throws Exception {
    boolean merge = mode.equals("merge");
    String key = merge ? "customer_key" : "id";
    if (merge) {
      measure(
          scenario,
          LIMIT_DISTINCT,
          true,
          "into a table with a primary key, as a merge target has",
          new InProcess(
              s ->
                  sql(
                      "DROP TABLE IF EXISTS bench.limit_target",
                      createTarget("bench.limit_target", "customer_key")),
              s ->
                  sql(
                      "INSERT INTO bench.limit_target SELECT DISTINCT ON (customer_key) "
                          + COLUMNS
                          + " FROM "
                          + source(s)
                          + " ORDER BY customer_key, updated_at DESC"),
              s -> check(checksum("bench.limit_target", key), expectedFor(mode, s))));
    } else {
      measure(
          scenario,
          LIMIT_COPY,
          true,
          "",
          new InProcess(
              s ->
                  sql(
                      "DROP TABLE IF EXISTS bench.limit_target",
                      createTarget("bench.limit_target", null)),
              s ->
                  shell(
                      "psql -h 127.0.0.1 -U postgres -d test -qc \"COPY (SELECT "
                          + COLUMNS
                          + " FROM "
                          + source(s)
                          + ") TO STDOUT (FORMAT binary)\" | psql -h 127.0.0.1 -U postgres -d"
                          + " test -qc \"COPY bench.limit_target FROM STDIN (FORMAT binary)\""),
              s -> check(checksum("bench.limit_target", key), expectedFor(mode, s))));
      measure(
          scenario,
          PLAIN_JAVA,
          false,
          "single thread, fetch size 10,000, COPY text",
          new InProcess(
              s ->
                  sql(
                      "DROP TABLE IF EXISTS bench.java_target",
                      createTarget("bench.java_target", null)),
              s -> plainJavaCopy(source(s)),
              s -> check(checksum("bench.java_target", key), expectedFor(mode, s))));
    }
    measure(
        scenario,
        WATERSHED,
        false,
        "",
        new Process(
            s -> sql("DROP SCHEMA IF EXISTS bench_out CASCADE", "CREATE SCHEMA bench_out"),
            s ->
                watershedCommand(
                    spec(
                        mode + (s ? "-startup" : ""),
                        merge,
                        source(s),
                        "  pg: { type: postgres, url: \""
                            + PG
                            + "\", user: postgres, schema: bench_out, write: "
                            + mode
                            + " }")),
            s -> check(checksum("bench_out.orders", key), expectedFor(mode, s))));
    String[][] peerRuns = {
      {SPARK, "spark", "SparkLoad"},
      {FLINK_SQL, "flink-sql", "FlinkSqlLoad"},
      {STOCK_BEAM, "beam-jdbcio", "BeamJdbcIoLoad"}
    };
    for (String[] peer : peerRuns) {
      Path classpath = peers.resolve(peer[1]).resolve("target/classpath.txt");
      if (!Files.exists(classpath)) {
        System.out.println("  " + peer[0] + ": not built, skipped");
        continue;
      }
      String cp =
          peers.resolve(peer[1]).resolve("target/classes") + ":" + Files.readString(classpath);
      boolean sample = peer[0].equals(STOCK_BEAM) && rows > STOCK_BEAM_ROWS;
      String full = sample ? "bench.orders_sample" : "bench.orders";
      long fullRows = sample ? STOCK_BEAM_ROWS : rows;
      String fullCheck = sample ? mode + "-sample" : mode;
      measure(
          scenario,
          peer[0],
          fullRows,
          false,
          sample ? String.format(Locale.ROOT, "the first %,d rows", fullRows) : "",
          new Process(
              s ->
                  sql(
                      "DROP TABLE IF EXISTS bench.peer_target",
                      createTarget("bench.peer_target", merge ? "customer_key" : null)),
              s ->
                  java(
                      "-cp "
                          + cp
                          + " dev.watershed.peers."
                          + peer[2]
                          + " "
                          + mode
                          + " "
                          + PG
                          + " "
                          + (s ? source(true) : full)
                          + " bench.peer_target 1 "
                          + (s ? STARTUP_ROWS : fullRows)),
              s ->
                  check(
                      checksum("bench.peer_target", key),
                      s ? expectedFor(mode, true) : expected.get(fullCheck))));
    }
  }

  private void otherDestinations() throws Exception {
    Path duck = work.resolve("bench.duckdb");
    Path lake = work.resolve("lake");
    Load toDuck =
        new Process(
            s -> deleteDuckAndLake(),
            s ->
                watershedCommand(
                    spec(
                        "duckdb" + (s ? "-startup" : ""),
                        true,
                        source(s),
                        "  duck: { type: duckdb, path: " + duck + ", write: merge }")),
            s ->
                check(
                    duckQuery(
                        "jdbc:duckdb:" + duck,
                        "SELECT count(*), sum(customer_key), sum(amount) FROM orders"),
                    expectedFor("merge", s)));
    measure("PG -> DuckDB merge (conform, dedupe)", WATERSHED, false, "", toDuck);
    Load toParquet =
        new Process(
            s -> deleteDuckAndLake(),
            s ->
                watershedCommand(
                    spec(
                        "parquet" + (s ? "-startup" : ""),
                        false,
                        source(s),
                        "  lake: { type: parquet, path: " + lake + ", write: overwrite }")),
            s -> check(parquetChecksum(lake), expectedFor("append", s)));
    measure("PG -> Parquet (conform, no dedupe)", WATERSHED, false, "", toParquet);

    // CSV files into DuckDB: the limit is DuckDB's own CSV reader into a table.
    String scenario = "CSV -> DuckDB append (conform, no dedupe)";
    Path csv = work.resolve("orders.csv");
    Path csvStartup = work.resolve("orders-startup.csv");
    for (boolean s : new boolean[] {false, true}) {
      shell(
          "psql -h 127.0.0.1 -U postgres -d test -qc \"\\copy (SELECT "
              + COLUMNS
              + " FROM "
              + source(s)
              + ") TO '"
              + (s ? csvStartup : csv)
              + "' WITH (FORMAT csv, HEADER)\"");
    }
    measure(
        scenario,
        LIMIT_READ_CSV,
        true,
        "",
        new InProcess(
            s -> deleteDuckAndLake(),
            s -> {
              try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + duck);
                  Statement st = c.createStatement()) {
                st.execute(
                    "CREATE TABLE orders AS SELECT * FROM read_csv('"
                        + (s ? csvStartup : csv)
                        + "', header = true, columns = {'id': 'BIGINT', 'customer_key':"
                        + " 'BIGINT', 'first_name': 'VARCHAR', 'last_name': 'VARCHAR', 'email':"
                        + " 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'currency': 'VARCHAR',"
                        + " 'created_at': 'TIMESTAMPTZ', 'updated_at': 'TIMESTAMPTZ'})");
              }
            },
            s ->
                check(
                    duckQuery(
                        "jdbc:duckdb:" + duck, "SELECT count(*), sum(id), sum(amount) FROM orders"),
                    expectedFor("append", s))));
    measure(
        scenario,
        WATERSHED,
        false,
        "",
        new Process(
            s -> deleteDuckAndLake(),
            s -> watershedCommand(csvSpec(s ? csvStartup : csv, duck, s)),
            s ->
                check(
                    duckQuery(
                        "jdbc:duckdb:" + duck, "SELECT count(*), sum(id), sum(amount) FROM orders"),
                    expectedFor("append", s))));
  }

  private void deleteDuckAndLake() throws IOException {
    deleteRecursively(work.resolve("bench.duckdb"));
    deleteRecursively(work.resolve("bench.duckdb.wal"));
    deleteRecursively(work.resolve("lake"));
  }

  static String check(String actual, String expected) {
    return actual.equals(expected)
        ? "ok: rows|keys|amount " + actual
        : "WRONG: " + actual + " expected " + expected;
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
      BigDecimal amount = r.getBigDecimal(3);
      return r.getLong(1)
          + "|"
          + r.getLong(2)
          + "|"
          + (amount == null ? null : amount.setScale(2, RoundingMode.UNNECESSARY));
    } catch (SQLException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  /** Single-threaded: read with a fetch size, autocommit off; write with COPY text. */
  private static void plainJavaCopy(String source) throws Exception {
    try (Connection read = connect();
        Connection write = connect()) {
      read.setAutoCommit(false);
      CopyManager copy = write.unwrap(PGConnection.class).getCopyAPI();
      CopyIn in = copy.copyIn("COPY bench.java_target (" + COLUMNS + ") FROM STDIN (FORMAT text)");
      try (Statement s = read.createStatement()) {
        s.setFetchSize(10_000);
        try (ResultSet r = s.executeQuery("SELECT " + COLUMNS + " FROM " + source)) {
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

  private Path spec(String name, boolean dedupe, String source, String sink) throws IOException {
    String key = dedupe ? "customer_key" : "id";
    String yaml =
        String.join(
            "\n",
            "name: bench_" + name.replace('-', '_'),
            "sources:",
            "  orders: { type: jdbc, url: \""
                + PG
                + "\", user: postgres, table: "
                + source
                + ", key: [id] }",
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

  /** The same model read from a CSV export, appended to DuckDB. */
  private Path csvSpec(Path csv, Path duck, boolean startup) throws IOException {
    Path spec =
        spec(
            "csv" + (startup ? "-startup" : ""),
            false,
            "unused",
            "  duck: { type: duckdb, path: " + duck + ", write: append }");
    String yaml =
        Files.readString(spec)
            .replaceAll(
                "(?m)^  orders: \\{ type: jdbc.*$", "  orders: { type: csv, path: " + csv + " }");
    Files.writeString(spec, yaml);
    return spec;
  }

  interface Step {
    void run(boolean startup) throws Exception;
  }

  interface Command {
    String get(boolean startup) throws Exception;
  }

  interface Verdict {
    String get(boolean startup) throws Exception;
  }

  /** A load run in this JVM (the limits and plain Java). */
  record InProcess(Step reset, Step body, Verdict verdict) implements Load {
    @Override
    public void reset(boolean startup) throws Exception {
      reset.run(startup);
    }

    @Override
    public String run(boolean startup) throws Exception {
      body.run(startup);
      return null;
    }

    @Override
    public String check(boolean startup) throws Exception {
      return verdict.get(startup);
    }
  }

  /** A load run as a command in a JVM of its own, under {@code /usr/bin/time -v}. */
  record Process(Step reset, Command command, Verdict verdict) implements Load {
    @Override
    public void reset(boolean startup) throws Exception {
      reset.run(startup);
    }

    @Override
    public String run(boolean startup) throws Exception {
      return shell("/usr/bin/time -v " + command.get(startup) + " 2>&1");
    }

    @Override
    public String check(boolean startup) throws Exception {
      return verdict.get(startup);
    }
  }

  static final String JAVA_OPENS =
      " --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED"
          + " --add-opens=java.base/java.nio=ALL-UNNAMED"
          + " --add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
          + " --add-opens=java.base/java.lang.invoke=ALL-UNNAMED"
          + " --add-opens=java.base/java.lang.reflect=ALL-UNNAMED"
          + " --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED"
          + " --add-opens=java.base/sun.nio.cs=ALL-UNNAMED"
          + " --add-opens=java.base/java.util.concurrent=ALL-UNNAMED"
          + " --add-opens=java.base/sun.security.action=ALL-UNNAMED"
          + " --add-opens=java.base/sun.util.calendar=ALL-UNNAMED";

  /** A JVM with the heap every tool gets and the JDK packages Flink, Spark and Beam open. */
  static String java(String arguments) {
    return "java -Xmx2g" + JAVA_OPENS + " " + arguments;
  }

  private String watershedCommand(Path spec) {
    return java("-jar " + jar + " run " + spec);
  }

  static final Pattern RSS = Pattern.compile("Maximum resident set size \\(kbytes\\): (\\d+)");
  static final Pattern USER = Pattern.compile("User time \\(seconds\\): ([0-9.]+)");
  static final Pattern SYS = Pattern.compile("System time \\(seconds\\): ([0-9.]+)");

  /** Runs a load {@code runs} times at full size and {@code runs} times on the start-up table. */
  private void measure(String scenario, String tool, boolean limit, String note, Load load)
      throws Exception {
    measure(scenario, tool, rows, limit, note, load);
  }

  private void measure(
      String scenario, String tool, long toolRows, boolean limit, String note, Load load)
      throws Exception {
    Measure full = runs(scenario, tool, load, false);
    Measure startup = limit ? null : runs(scenario, tool, load, true);
    results.add(new Result(scenario, tool, toolRows, full, startup, limit, note));
  }

  private Measure runs(String scenario, String tool, Load load, boolean startup) throws Exception {
    List<Double> wall = new ArrayList<>();
    double rss = 0;
    double cpu = 0;
    String verdict = "";
    for (int run = 0; run < runs; run++) {
      load.reset(startup);
      long start = System.nanoTime();
      String output = load.run(startup);
      wall.add((System.nanoTime() - start) / 1e9);
      if (output != null) {
        Matcher r = RSS.matcher(output);
        Matcher u = USER.matcher(output);
        Matcher s = SYS.matcher(output);
        if (r.find() && u.find() && s.find()) {
          rss = Math.max(rss, Long.parseLong(r.group(1)) / 1024.0);
          cpu = Math.max(cpu, Double.parseDouble(u.group(1)) + Double.parseDouble(s.group(1)));
        }
      }
      verdict = load.check(startup);
      System.out.printf(
          Locale.ROOT,
          "  %-44s %-34s %s run %d: %6.2f s, %s%n",
          scenario,
          tool,
          startup ? "start-up" : "full    ",
          run + 1,
          wall.get(run),
          verdict);
    }
    return new Measure(wall, rss, cpu, verdict);
  }

  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (var walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  static String shell(String command) throws Exception {
    java.lang.Process process =
        new ProcessBuilder("bash", "-o", "pipefail", "-c", command)
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IllegalStateException("failed: " + command + "\n" + output);
    }
    return output;
  }

  private Result find(String scenario, String tool) {
    for (Result r : results) {
      if (r.scenario().equals(scenario) && r.tool().equals(tool)) {
        return r;
      }
    }
    return null;
  }

  private Result limitOf(String scenario) {
    for (Result r : results) {
      if (r.scenario().equals(scenario) && r.limit()) {
        return r;
      }
    }
    return null;
  }

  /** How many times {@code base}'s steady rate is {@code r}'s: above 1, {@code r} is slower. */
  private static String ratio(Result r, Result base) {
    if (base == null || base == r) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2f", base.rowsPerSecond() / r.rowsPerSecond());
  }

  private void write(Path csv, Path table) throws IOException {
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write(
          "scenario,tool,rows,runs,median_wall_s,startup_s,steady_s,rows_per_s_steady,"
              + "x_limit,x_spark,x_flink_sql,x_stock_beam,peak_rss_mb,cpu_s,check\n");
      for (Result r : results) {
        Result limit = limitOf(r.scenario());
        out.write(
            String.format(
                Locale.ROOT,
                "\"%s\",\"%s\",%d,%d,%.2f,%s,%.2f,%.0f,%s,%s,%s,%s,%.0f,%.1f,\"%s\"%n",
                r.scenario(),
                r.tool(),
                r.rows(),
                r.full().wall().size(),
                r.full().medianWall(),
                r.startup() == null
                    ? ""
                    : String.format(Locale.ROOT, "%.2f", r.startup().medianWall()),
                r.steady(),
                r.rowsPerSecond(),
                ratio(r, limit),
                ratio(r, find(r.scenario(), SPARK)),
                ratio(r, find(r.scenario(), FLINK_SQL)),
                ratio(r, find(r.scenario(), STOCK_BEAM)),
                r.full().peakRssMb(),
                r.full().cpuSeconds(),
                r.full().check()));
      }
    }
    StringBuilder md = new StringBuilder();
    md.append(
        "| scenario | tool | wall (s) | start-up (s) | steady (s) | rows/s (steady) | × limit |"
            + " × Spark | × Flink SQL | × stock Beam | peak RSS (MB) | CPU (s) | check |\n"
            + "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      Result limit = limitOf(r.scenario());
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s%s | %.2f | %s | %.2f | %,.0f | %s | %s | %s | %s | %s | %s | %s |%n",
              r.scenario(),
              r.limit() ? "limit: " : "",
              r.tool() + (r.note().isEmpty() ? "" : " (" + r.note() + ")"),
              r.full().medianWall(),
              r.startup() == null
                  ? "—"
                  : String.format(Locale.ROOT, "%.2f", r.startup().medianWall()),
              r.steady(),
              r.rowsPerSecond(),
              dash(ratio(r, limit)),
              dash(ratio(r, find(r.scenario(), SPARK))),
              dash(ratio(r, find(r.scenario(), FLINK_SQL))),
              dash(ratio(r, find(r.scenario(), STOCK_BEAM))),
              r.full().peakRssMb() == 0
                  ? "—"
                  : String.format(Locale.ROOT, "%.0f", r.full().peakRssMb()),
              r.full().cpuSeconds() == 0
                  ? "—"
                  : String.format(Locale.ROOT, "%.1f", r.full().cpuSeconds()),
              r.full().check().startsWith("ok") ? "ok" : r.full().check()));
    }
    Files.writeString(table, md.toString());
    System.out.print(md);
    System.out.println("rows: " + rows + ", runs per measurement: " + runs);
  }

  private static String dash(String ratio) {
    return ratio.isEmpty() ? "—" : ratio + "×";
  }
}
