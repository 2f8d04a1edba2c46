package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.Staging;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.RunLock;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as a user meets it: exit codes, messages, secrets, real databases. */
class WatershedCliTest {
  private static final JdbcEndpoint POSTGRES =
      JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");
  private static final JdbcEndpoint MARIADB =
      JdbcEndpoint.of("jdbc:mariadb://127.0.0.1:3306/test").withUser("root");
  private static final String SECRET = "pw-Zx81-do-not-print";
  private static final String SHORT_SECRET = "Q7#";

  @TempDir Path folder;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void writeSource() throws IOException {
    Files.writeString(
        folder.resolve("people.csv"),
        String.join(
            "\n",
            "id,email,updated",
            "1, Anna@Example.com ,2024-01-01T00:00:00Z",
            "2,ben@example.com,2024-01-01T00:00:00Z",
            "1,anna.new@example.com,2024-02-01T00:00:00Z",
            "3,not-an-email,2024-01-01T00:00:00Z",
            ""));
  }

  @AfterEach
  void dropTables() throws SQLException {
    Warehouse.execute(POSTGRES, "DROP TABLE IF EXISTS cli_people", "DROP TABLE IF EXISTS person");
    Warehouse.execute(MARIADB, "DROP TABLE IF EXISTS person");
  }

  private static String spec(String source, String sinks) {
    return String.join(
        "\n",
        "name: people",
        "sources:",
        source,
        "models:",
        "  person:",
        "    key: [person_id]",
        "    fields: { person_id: string, email: string, updated: timestamp }",
        "conform:",
        "  - from: people",
        "    to: person",
        "    fields:",
        "      person_id: { from: id, prefix: \"p-\" }",
        "      email: { from: email, normalize: email }",
        "      updated: updated",
        "dedupe:",
        "  person: { keep: latest, order_by: updated }",
        "sinks:",
        sinks,
        "dead_letter: { path: dead }",
        "");
  }

  private static final String CSV_SOURCE = "  people: { type: csv, path: people.csv }";

  private Path write(String yaml) throws IOException {
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private int cli(String... args) {
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("WS_SECRET", SECRET),
            folder)
        .execute(args);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aBadSpecExitsWithTwoNamingThePathAndLineWithoutAStackTrace() throws IOException {
    Path spec =
        write(
            spec(
                "  people: { tpye: csv, path: people.csv }",
                "  w: { type: duckdb, path: w.duckdb }"));
    assertEquals(Watershed.SPEC_ERROR, cli("validate", spec.toString()));
    assertTrue(stderr().contains("line 3: sources.people.tpye: unknown key 'tpye'"), stderr());
    assertTrue(stderr().contains("line 3: sources.people: missing required key 'type'"), stderr());
    assertFalse(stderr().contains("Exception") || stderr().contains("\tat "), stderr());
    assertEquals(Watershed.SPEC_ERROR, cli("run", spec.toString()));
  }

  /** validate and plan judge the spec in the mode the run would use, so they agree with run. */
  @Test
  void validateAndPlanJudgeTheSpecInTheModeGiven() {
    Path demo = Path.of("..", "test-data", "customer360", "integration.yaml").toAbsolutePath();
    Watershed watershed =
        new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            demo.getParent().getParent().getParent());
    assertEquals(Watershed.OK, watershed.execute("validate", demo.toString()));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("spec is valid (batch mode)"));
    err.reset();
    assertEquals(
        Watershed.SPEC_ERROR, watershed.execute("validate", demo.toString(), "--mode=streaming"));
    String streaming = stderr();
    assertTrue(streaming.contains("in streaming mode every source is a kafka topic"), streaming);
    err.reset();
    assertEquals(
        Watershed.SPEC_ERROR, watershed.execute("run", demo.toString(), "--mode=streaming"));
    assertEquals(streaming, stderr());
    err.reset();
    assertEquals(
        Watershed.SPEC_ERROR, watershed.execute("plan", demo.toString(), "--mode=micro-batch"));
    assertTrue(
        stderr().contains("in micro-batch mode every source is a kafka topic or an incremental"),
        stderr());
  }

  /**
   * A column a conform rule reads that the source lacks is a spec error before anything runs: the
   * database source's catalog and every CSV source's header are read, and each message names the
   * source, the column, the spec line and the closest column. --offline skips the databases.
   */
  @Test
  void columnsMissingFromTheSourcesAreReportedAtOnceWithTheClosestColumn() throws Exception {
    Warehouse.execute(
        POSTGRES,
        "DROP TABLE IF EXISTS cli_people",
        "CREATE TABLE cli_people (id INT, e_mail TEXT, updated TIMESTAMPTZ)");
    Files.writeString(folder.resolve("more.csv"), "id,emial,updated\n");
    Files.writeString(folder.resolve("broken.csv"), "id,\"email,updated\n1,a,b\n");
    String yaml =
        spec(
                "  people: { type: jdbc, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user:"
                    + " postgres, table: cli_people, key: [id] }\n"
                    + "  more: { type: csv, path: more.csv }\n"
                    + "  broken: { type: csv, path: broken.csv }",
                "  w: { type: duckdb, path: w.duckdb }")
            .replace(
                "dedupe:",
                "  - from: more\n    to: person\n    fields: { person_id: id, email: email,"
                    + " updated: updated }\n  - from: broken\n    to: person\n    fields: {"
                    + " person_id: id, updated: updated }\ndedupe:");
    Path spec = write(yaml);
    // The files' problems are found as the spec is read, all at once.
    assertEquals(Watershed.SPEC_ERROR, cli("validate", spec.toString(), "--offline"));
    String errors = stderr();
    assertTrue(errors.contains("the spec has 2 problems"), errors);
    assertTrue(
        errors.contains(
            "line 19: conform[1].fields.email: column 'email' is not in the header of more.csv;"
                + " did you mean 'emial'?"),
        errors);
    assertTrue(
        errors.matches("(?s).*sources\\.broken: .*broken\\.csv:1: the header cannot be read.*"),
        errors);
    // With the files fixed, the database source's catalog is read (unless --offline).
    Files.writeString(folder.resolve("more.csv"), "id,email,updated\n");
    Files.writeString(folder.resolve("broken.csv"), "id,email,updated\n");
    err.reset();
    assertEquals(Watershed.OK, cli("validate", spec.toString(), "--offline"), stderr());
    assertEquals(Watershed.SPEC_ERROR, cli("validate", spec.toString()));
    assertTrue(
        stderr()
            .contains(
                "line 15: conform[0].fields.email: source 'people' has no column 'email' in table"
                    + " cli_people; did you mean 'e_mail'? (columns: id, e_mail, updated)"),
        stderr());
    err.reset();
    assertEquals(Watershed.SPEC_ERROR, cli("run", spec.toString(), "--runner=direct"));
    assertTrue(stderr().contains("has no column 'email' in table cli_people"), stderr());
  }

  @Test
  void aMissingSpecFileIsAClearError() {
    assertEquals(Watershed.SPEC_ERROR, cli("run", "nowhere.yaml"));
    assertTrue(stderr().contains("nowhere.yaml: spec file not found"), stderr());
  }

  /**
   * Every command has help; an option that neither the command nor the runner's Beam options know
   * is a usage error naming it, not something passed on to Beam; the version is the build's.
   */
  @Test
  void commandsHaveHelpAndUnknownOptionsAreUsageErrors() throws IOException {
    Path spec = write(spec(CSV_SOURCE, "  w: { type: duckdb, path: w.duckdb }"));
    assertEquals(
        Watershed.SPEC_ERROR, cli("run", spec.toString(), "--runner=direct", "--paralelism=2"));
    assertTrue(
        stderr()
            .contains(
                "error: unknown option '--paralelism': neither an option of 'run' nor a Beam"
                    + " option of the direct runner"),
        stderr());
    err.reset();
    assertEquals(Watershed.SPEC_ERROR, cli("validate", spec.toString(), "--parallelism=2"));
    assertTrue(stderr().contains("error: Unknown option: '--parallelism=2'"), stderr());
    assertFalse(Files.exists(folder.resolve("w.duckdb")), "nothing ran");

    out.reset();
    for (String command : List.of("run", "demo", "replay", "validate", "plan", "query")) {
      out.reset();
      assertEquals(Watershed.OK, cli(command, "--help"));
      assertTrue(
          out.toString(StandardCharsets.UTF_8).startsWith("Usage: watershed " + command),
          out::toString);
    }
    out.reset();
    assertEquals(Watershed.OK, cli("--version"));
    String version = out.toString(StandardCharsets.UTF_8);
    assertTrue(version.matches("(?s)watershed \\d+\\.\\d+\\.\\d+.*"), version);
    // The library versions are read from the libraries on the class path, the commit from the
    // build.
    assertTrue(
        version.contains(
            "beam      " + org.apache.beam.sdk.util.ReleaseInfo.getReleaseInfo().getVersion()),
        version);
    assertTrue(version.contains("\nflink     1.19."), version);
    assertTrue(
        version.matches("(?s).*\\ncommit    ([0-9a-f]{10}|\\(built outside a git checkout\\)).*"),
        version);
  }

  /**
   * A batch run prints progress lines whose counts only grow and end at the summary's; a second run
   * estimates its size from the first (a percentage); {@code --progress=off} prints none.
   */
  @Test
  void progressLinesCountUpToTheSummaryAndEstimateTheSize() throws Exception {
    Path spec = write(spec(CSV_SOURCE, "  w: { type: duckdb, path: w.duckdb }"));
    String[] run = {
      "run", spec.toString(), "--runner=direct", "--progress=lines", "--progress-every=20ms"
    };
    assertEquals(Watershed.OK, cli(run), stderr());
    List<String> lines = progressLines();
    assertFalse(lines.isEmpty(), stderr());
    long previous = 0;
    for (String line : lines) {
      long read = readCount(line);
      assertTrue(read >= previous, "counts only grow: " + lines);
      previous = read;
    }
    String last = lines.get(lines.size() - 1);
    // The file's size over its lines' mean size.
    assertTrue(last.contains("read people 4 of ~4 (100%)"), last);
    assertTrue(last.contains("loaded w.person 2"), last);
    assertTrue(last.contains("dead-lettered 1"), last);

    // The file grew: its size now, not the last run's count.
    Files.writeString(
        folder.resolve("people.csv"),
        "4,dee@example.com,2024-01-01T00:00:00Z\n5,eve@example.com,2024-01-01T00:00:00Z\n",
        java.nio.file.StandardOpenOption.APPEND);
    err.reset();
    assertEquals(Watershed.OK, cli(run), stderr());
    List<String> second = progressLines();
    assertTrue(
        second.get(second.size() - 1).contains("read people 6 of ~6 (100%)"), second.toString());

    // A query says nothing of its size: the first run counts, the next estimates from it.
    try (java.sql.Connection duckdb =
            java.sql.DriverManager.getConnection("jdbc:duckdb:" + folder.resolve("src.duckdb"));
        java.sql.Statement sql = duckdb.createStatement()) {
      sql.execute(
          "CREATE TABLE people AS SELECT * FROM read_csv('"
              + folder.resolve("people.csv")
              + "', all_varchar = true)");
    }
    Path query =
        write(
            spec(
                    "  people: { type: jdbc, url: \"jdbc:duckdb:"
                        + folder.resolve("src.duckdb")
                        + "\", query: \"SELECT * FROM people WHERE id <> '5'\" }",
                    "  w: { type: duckdb, path: w2.duckdb }")
                // A run report of its own (the default is the folder's target/report).
                .replace("dead_letter: { path: dead }", "report: { path: report-query }"));
    run[1] = query.toString();
    err.reset();
    assertEquals(Watershed.OK, cli(run), stderr());
    List<String> third = progressLines();
    assertFalse(third.get(third.size() - 1).contains(" of ~"), third.toString());
    assertTrue(third.get(third.size() - 1).contains("read people 5"), third.toString());
    err.reset();
    assertEquals(Watershed.OK, cli(run), stderr());
    List<String> fourth = progressLines();
    assertTrue(
        fourth.get(fourth.size() - 1).contains("read people 5 of ~5 (100%)"), fourth.toString());

    err.reset();
    assertEquals(
        Watershed.OK, cli("run", spec.toString(), "--runner=direct", "--progress=off"), stderr());
    assertTrue(progressLines().isEmpty(), stderr());
    assertEquals(Watershed.SPEC_ERROR, cli("run", spec.toString(), "--progress=loud"));
    assertTrue(stderr().contains("unknown --progress 'loud'; allowed: auto, bars, lines, off"));
  }

  private List<String> progressLines() {
    return stderr().lines().filter(line -> line.startsWith("progress ")).toList();
  }

  private static long readCount(String line) {
    Matcher m = Pattern.compile(" read people ([0-9,]+)").matcher(line);
    assertTrue(m.find(), line);
    return Long.parseLong(m.group(1).replace(",", ""));
  }

  @Test
  void anUnknownRunnerIsAUsageError() throws IOException {
    Path spec = write(spec(CSV_SOURCE, "  w: { type: duckdb, path: w.duckdb }"));
    assertEquals(Watershed.SPEC_ERROR, cli("run", spec.toString(), "--runner=spark"));
    assertTrue(stderr().contains("unknown runner 'spark'; allowed: flink, direct"), stderr());
  }

  @Test
  void anUnreachableDatabaseIsOneMessageNamingItAndTheFix() throws IOException {
    Path spec =
        write(
            spec(
                CSV_SOURCE,
                "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:1/test\", user: postgres }"));
    assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
    assertTrue(
        stderr()
            .startsWith("error: sinks.pg: cannot connect to jdbc:postgresql://127.0.0.1:1/test"),
        stderr());
    assertTrue(stderr().contains("check that the database is running"), stderr());
    assertFalse(stderr().contains("\tat "), stderr());
  }

  /**
   * Without network or credentials for Google Cloud, a bigquery sink fails before the run starts,
   * in one line (which line depends on the machine: here no route to BigQuery, elsewhere no
   * credentials), instead of the client library retrying for minutes.
   */
  @Test
  void aBigQuerySinkWithoutNetworkOrCredentialsIsOneMessageNamingTheFix() throws IOException {
    Path spec =
        write(spec(CSV_SOURCE, "  bq: { type: bigquery, project: acme-test, dataset: crm }"));
    assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
    assertTrue(stderr().startsWith("error: sinks.bq: "), stderr());
    assertTrue(
        stderr().contains("cannot reach BigQuery at bigquery.googleapis.com:443")
            || stderr().contains("GOOGLE_APPLICATION_CREDENTIALS"),
        stderr());
    assertFalse(stderr().contains("\tat "), stderr());
  }

  @Test
  void loadsFromPostgresIntoMariaDbAndAReRunChangesNothing() throws Exception {
    Warehouse.execute(
        POSTGRES,
        "DROP TABLE IF EXISTS cli_people",
        "CREATE TABLE cli_people (id INT, email TEXT, updated TIMESTAMPTZ)",
        "INSERT INTO cli_people VALUES (1, ' Anna@Example.com ', '2024-01-01 00:00:00+00'), (2, 'ben@example.com', '2024-01-01 00:00:00+00'),"
            + " (1, 'anna.new@example.com', '2024-02-01 01:00:00+01'), (3, 'not-an-email', '2024-01-01 00:00:00+00')");
    Path spec =
        write(
            spec(
                "  people: { type: jdbc, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres, password: \"${env:WS_SECRET}\", table: cli_people, key: [id] }",
                "  maria: { type: mariadb, url: \"jdbc:mariadb://127.0.0.1:3306/test\", user: root, write: merge }"));
    for (int run = 0; run < 2; run++) {
      assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
      assertEquals(
          List.of(
              "person_id,email,updated,_source",
              "p-1,anna.new@example.com,2024-02-01 00:00:00,people",
              "p-2,ben@example.com,2024-01-01 00:00:00,people"),
          Warehouse.csv(
              MARIADB, "SELECT person_id, email, updated, _source FROM person ORDER BY person_id"));
    }
    String summary = out.toString(StandardCharsets.UTF_8);
    assertTrue(
        summary.matches("(?s).*person\\s+4\\s+3\\s+1\\s+1\\s+0\\s+2\\s+reconciled.*"), summary);
    assertTrue(
        Files.readString(folder.resolve("dead/dead-letter.jsonl"))
            .contains("\"position\":\"cli_people id=3\""));
  }

  @Test
  void deadLettersCanBeATableInTheWarehouse() throws Exception {
    String sinks = "  w: { type: duckdb, path: w.duckdb }";
    Path spec =
        write(
            spec(CSV_SOURCE, sinks)
                .replace(
                    "dead_letter: { path: dead }",
                    "dead_letter: { type: duckdb, path: w.duckdb }"));
    for (int run = 1; run <= 2; run++) {
      assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
      assertEquals(
          java.util.Collections.nCopies(
                  run,
                  "conform,invalid email,people,people.csv:5,\"3,not-an-email,2024-01-01T00:00:00Z\"")
              .stream()
              .collect(
                  java.util.stream.Collectors.toCollection(
                      () -> new ArrayList<>(List.of("stage,reason,source,position,payload")))),
          Warehouse.csv(
              JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
              "SELECT stage, reason, source, position, payload FROM _watershed_dead_letters"));
    }
    assertTrue(
        out.toString(StandardCharsets.UTF_8)
            .contains("dead letters: table _watershed_dead_letters in w.duckdb"));

    Warehouse.execute(POSTGRES, "DROP TABLE IF EXISTS cli_dead_letters");
    Path pg =
        write(
            spec(CSV_SOURCE, sinks)
                .replace(
                    "dead_letter: { path: dead }",
                    "dead_letter: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres, table: cli_dead_letters }"));
    assertEquals(Watershed.OK, cli("run", pg.toString(), "--runner=direct"), stderr());
    assertEquals(
        List.of("reason,position", "invalid email,people.csv:5"),
        Warehouse.csv(POSTGRES, "SELECT reason, position FROM cli_dead_letters"));
    Warehouse.execute(POSTGRES, "DROP TABLE IF EXISTS cli_dead_letters");
  }

  @Test
  void queryPrintsTheWarehouseRows() throws IOException {
    Path spec = write(spec(CSV_SOURCE, "  w: { type: duckdb, path: w.duckdb }"));
    assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
    out.reset();
    assertEquals(
        Watershed.OK,
        cli(
            "query",
            folder.resolve("w.duckdb").toString(),
            "SELECT person_id, email FROM person ORDER BY 1"));
    assertEquals(
        String.join(
            "\n",
            "person_id | email",
            "----------+---------------------",
            "p-1       | anna.new@example.com",
            "p-2       | ben@example.com",
            "(2 rows)",
            ""),
        out.toString(StandardCharsets.UTF_8));
    // The database's whole message: DuckDB says where the syntax error is on a later line.
    assertEquals(
        Watershed.FAILED,
        cli("query", folder.resolve("w.duckdb").toString(), "SELEC 1 FROM person"));
    assertTrue(
        stderr().contains("error: the query failed in " + folder.resolve("w.duckdb")), stderr());
    assertTrue(stderr().contains("Parser Error: syntax error at or near \"SELEC\""), stderr());
    assertTrue(stderr().contains("LINE 1: SELEC 1 FROM person"), stderr());
    err.reset();
    assertEquals(
        Watershed.FAILED,
        cli(
            "query",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&password=" + SECRET,
            "SELECT nosuchcolumn FROM pg_class"));
    assertTrue(stderr().contains("column \"nosuchcolumn\" does not exist"), stderr());
    assertTrue(stderr().contains("Position: 8"), stderr());
    assertFalse(stderr().contains(SECRET), stderr());
  }

  @Test
  void aParquetLakeIsASourceAndAMysqlUrlReachesMariaDb() throws Exception {
    Path toLake = write(spec(CSV_SOURCE, "  lake: { type: parquet, path: lake }"));
    assertEquals(Watershed.OK, cli("run", toLake.toString(), "--runner=direct"), stderr());
    Path fromLake =
        write(
            spec(
                    "  people: { type: parquet, path: \"lake/person/*.parquet\" }",
                    "  maria: { type: mariadb, url: \"jdbc:mysql://127.0.0.1:3306/test\", user: root }")
                .replace("person_id: { from: id, prefix: \"p-\" }", "person_id: person_id"));
    assertEquals(Watershed.OK, cli("run", fromLake.toString(), "--runner=direct"), stderr());
    assertEquals(
        List.of(
            "person_id,email,updated",
            "p-1,anna.new@example.com,2024-02-01 00:00:00",
            "p-2,ben@example.com,2024-01-01 00:00:00"),
        Warehouse.csv(MARIADB, "SELECT person_id, email, updated FROM person ORDER BY person_id"));
  }

  @Test
  void queryReadsAJdbcUrlToo() throws Exception {
    Warehouse.execute(
        POSTGRES,
        "DROP TABLE IF EXISTS cli_people",
        "CREATE TABLE cli_people (id INT, email TEXT)",
        "INSERT INTO cli_people VALUES (1, 'a@example.com')");
    assertEquals(
        Watershed.OK,
        cli(
            "query",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres",
            "SELECT id, email FROM cli_people"));
    assertEquals(
        String.join("\n", "id | email", "---+--------------", "1  | a@example.com", "(1 row)", ""),
        out.toString(StandardCharsets.UTF_8));
    assertEquals(Watershed.FAILED, cli("query", "missing.duckdb", "SELECT 1"));
    assertTrue(stderr().contains("no DuckDB file at missing.duckdb"), stderr());
  }

  /**
   * Runs the command line in its own JVM, as a user would, so that everything it prints (its own
   * output and the runners' logs with --verbose) is captured.
   */
  private static List<String> flinkTemporaryFiles() throws IOException {
    try (java.util.stream.Stream<Path> files =
        Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(name -> name.startsWith("flink-rpc"))
          .sorted()
          .toList();
    }
  }

  private static String runProcess(Path dir, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Watershed.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    builder.environment().put("WS_SECRET", SECRET);
    builder.environment().put("WS_SHORT", SHORT_SECRET);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(5, TimeUnit.MINUTES));
    return process.exitValue() + "\n" + output;
  }

  @Test
  void aSecretFromTheEnvironmentNeverAppearsInPlanLogsSummaryOrErrors() throws Exception {
    String sinks =
        String.join(
            "\n",
            "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user: postgres, password: \"${env:WS_SECRET}\" }",
            "  w: { type: duckdb, path: w.duckdb }");
    Path spec = write(spec(CSV_SOURCE, sinks));
    String plan = runProcess(folder, "plan", spec.toString());
    assertTrue(plan.startsWith("0\n") && plan.contains("load pg person"), plan);
    String run = runProcess(folder, "run", spec.toString(), "--runner=direct", "--verbose");
    // An embedded Flink run leaves nothing in the system's temporary folder (Flink's RPC jar).
    List<String> before = flinkTemporaryFiles();
    String flink = runProcess(folder, "run", spec.toString());
    assertTrue(flink.startsWith("0\n"), flink);
    assertEquals(before, flinkTemporaryFiles());
    assertTrue(run.startsWith("0\n") && run.contains("reconciled"), run);
    assertTrue(run.contains("INFO"), "--verbose shows the runner's logs: " + run);

    Path failing =
        write(
            spec(
                CSV_SOURCE,
                "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:1/test?password=${env:WS_SECRET}\", user: \"${env:WS_SECRET}\" }"));
    String error = runProcess(folder, "run", failing.toString(), "--verbose");
    assertTrue(error.startsWith("1\n") && error.contains("cannot connect"), error);
    for (String output : List.of(plan, run, flink, error)) {
      assertFalse(output.contains(SECRET), "the secret leaked into:\n" + output);
    }
  }

  /**
   * A secret is masked from the moment it is read: in the errors of a spec that does not parse (an
   * invalid URL quoting it), whatever its length, and a password written in a URL's user info.
   */
  @Test
  void secretsInAnInvalidSpecAreMaskedWhateverTheirLength() throws Exception {
    Path invalid =
        write(
            spec(
                CSV_SOURCE,
                "  pg: { type: postgres, url: \"postgresql://loader:${env:WS_SHORT}@db:5432/x\","
                    + " user: \"${env:WS_SECRET}\" }\n"
                    + "  pg2: { type: postgres, url: \"postgres://loader:plain-pw-77@db/x\" }"));
    List<String> outputs = new ArrayList<>();
    for (String command : List.of("validate", "plan", "run")) {
      String output = runProcess(folder, command, invalid.toString(), "--verbose");
      assertTrue(output.startsWith("2\n"), output);
      assertTrue(output.contains("unsupported JDBC url"), output);
      outputs.add(output);
    }
    for (String output : outputs) {
      assertFalse(output.contains(SHORT_SECRET), "the short secret leaked into:\n" + output);
      assertFalse(output.contains("plain-pw-77"), "the URL's password leaked into:\n" + output);
      assertTrue(output.contains("loader:*****@"), output);
    }
  }

  /** A failed run's report says it failed and why; the previous run's "succeeded" is gone. */
  @Test
  void aFailedRunWritesItsOwnReport() throws Exception {
    Path spec =
        write(
            spec(CSV_SOURCE, "  w: { type: duckdb, path: w.duckdb }")
                + "report: { path: report }\n");
    assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
    Path report = folder.resolve("report/run-report.json");
    assertEquals("succeeded", new ObjectMapper().readTree(report.toFile()).path("status").asText());
    write(
        spec(
                CSV_SOURCE,
                "  w: { type: duckdb, path: w.duckdb }\n"
                    + "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:1/test\", user:"
                    + " postgres }")
            + "report: { path: report }\n");
    assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
    JsonNode failed = new ObjectMapper().readTree(report.toFile());
    assertEquals("failed", failed.path("status").asText(), failed.toString());
    assertEquals(1, failed.path("exit_code").asInt());
    assertTrue(failed.path("cause").asText().contains("sinks.pg"), failed.toString());
  }

  /**
   * One run of a pipeline at a time: a second run, in this process or on another machine sharing
   * the PostgreSQL sink, is refused before it writes anything, and names what holds the lock.
   */
  @Test
  void aSecondRunOfAPipelineIsRefusedWhileTheFirstHoldsItsLock() throws Exception {
    Path spec =
        write(
            spec(
                    CSV_SOURCE,
                    "  pg: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\", user:"
                        + " postgres }")
                + "report: { path: report }\n");
    assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
    Path report = folder.resolve("report/run-report.json");
    String succeeded = Files.readString(report);

    Spec parsed = SpecParser.parse(spec, folder, Map.of());
    try (RunLock running = RunLock.acquire(parsed)) {
      err.reset();
      assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
      assertTrue(
          stderr()
              .contains(
                  "pipeline people is already running (process " + ProcessHandle.current().pid()),
          stderr());
      assertTrue(stderr().contains("wait for that run to finish, or stop it"), stderr());
      assertEquals(succeeded, Files.readString(report), "the running run's report is left alone");
    }

    // A run elsewhere (its report in another folder) holds the pipeline's lock in the database.
    try (Connection elsewhere = POSTGRES.connect();
        PreparedStatement lock =
            elsewhere.prepareStatement("SELECT pg_advisory_lock(hashtextextended(?, 0))")) {
      lock.setString(1, "watershed:" + Staging.tag("people"));
      lock.execute();
      err.reset();
      assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
      assertTrue(
          stderr()
              .contains(
                  "pipeline people is already running: another run holds its lock 'watershed:"
                      + Staging.tag("people")
                      + "' in jdbc:postgresql://127.0.0.1:5432/test (sinks.pg)"),
          stderr());
    }
    err.reset();
    assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
  }

  /** A run elsewhere holding the pipeline's MariaDB lock (GET_LOCK) refuses this run too. */
  @Test
  void aRunHoldingTheMariaDbLockRefusesASecondRun() throws Exception {
    Path spec =
        write(
            spec(
                    CSV_SOURCE,
                    "  maria: { type: mariadb, url: \"jdbc:mariadb://127.0.0.1:3306/test\", user:"
                        + " root }")
                + "report: { path: report }\n");
    try (Connection elsewhere = MARIADB.connect();
        PreparedStatement lock = elsewhere.prepareStatement("SELECT GET_LOCK(?, 0)")) {
      lock.setString(1, "watershed:" + Staging.tag("people"));
      try (ResultSet held = lock.executeQuery()) {
        assertTrue(held.next() && held.getInt(1) == 1, "the test holds the lock");
      }
      assertEquals(Watershed.FAILED, cli("run", spec.toString(), "--runner=direct"));
      assertTrue(
          stderr()
              .contains(
                  "pipeline people is already running: another run holds its lock 'watershed:"
                      + Staging.tag("people")
                      + "' in jdbc:mariadb://127.0.0.1:3306/test (sinks.maria)"),
          stderr());
      assertFalse(Files.exists(folder.resolve("report/run-report.json")), "nothing was written");
    }
    err.reset();
    assertEquals(Watershed.OK, cli("run", spec.toString(), "--runner=direct"), stderr());
  }

  /**
   * validate reads database catalogs when it can; an unreachable database is a note, not an error.
   */
  @Test
  void anUnreachableSourceDatabaseIsANoteInValidate() throws Exception {
    Path spec =
        write(
            spec(
                "  people: { type: jdbc, url: \"jdbc:postgresql://127.0.0.1:1/test\", user:"
                    + " postgres, table: cli_people, key: [id] }",
                "  w: { type: duckdb, path: w.duckdb }"));
    assertEquals(Watershed.OK, cli("validate", spec.toString()), stderr());
    assertTrue(
        stderr().contains("note: the columns of source 'people' were not checked"), stderr());
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("spec is valid (batch mode)"));
  }
}
