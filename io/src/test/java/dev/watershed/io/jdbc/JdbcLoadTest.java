package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.model.CanonicalModel;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every write mode against real PostgreSQL, MariaDB and DuckDB databases. */
class JdbcLoadTest {
  private static final CanonicalModel ITEM =
      CanonicalModel.builder("item")
          .field("id", "string")
          .field("name", "string")
          .field("amount", "decimal(10,2)")
          .field("day", "date")
          .field("at", "timestamp")
          .field("version", "long")
          .field("active", "boolean")
          .key("id")
          .build();

  @TempDir static Path folder;

  private JdbcEndpoint endpoint;
  private String table;

  static Stream<String> databases() {
    return Databases.ALL.stream();
  }

  private void use(String database) {
    endpoint = Databases.named(database, folder);
    table = "load_test_" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
  }

  @AfterEach
  void dropTable() throws SQLException {
    if (endpoint != null) {
      Databases.execute(endpoint, "DROP TABLE IF EXISTS " + table);
    }
  }

  private static Row item(String id, String name, String amount, long version) {
    return Row.withSchema(ITEM.schema())
        .addValues(
            id,
            name,
            amount == null ? null : new BigDecimal(amount),
            LocalDate.of(2024, 2, 29),
            Instant.parse("2024-03-01T10:15:30.123Z"),
            version,
            version % 2 == 0,
            "crm",
            "items.csv:" + version)
        .build();
  }

  private void load(WriteMode mode, Row... rows) {
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    pipeline
        .apply(Create.of(List.of(rows)).withRowSchema(ITEM.schema()))
        .apply(JdbcLoad.into(endpoint, table, ITEM).withMode(mode).withVersionColumn("version"));
    pipeline.run().waitUntilFinish();
  }

  private List<String> contents() throws SQLException {
    return Databases.rows(endpoint, "SELECT * FROM " + table + " ORDER BY id, version");
  }

  private static final String A1 = "a|Anna|10.50|2024-02-29|2024-03-01T10:15:30.123Z|1|false|crm";
  private static final String B1 = "b|Ben|null|2024-02-29|2024-03-01T10:15:30.123Z|1|false|crm";

  @ParameterizedTest
  @MethodSource("databases")
  void appendTwiceDoublesTheRows(String database) throws SQLException {
    use(database);
    load(WriteMode.APPEND, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    load(WriteMode.APPEND, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    assertEquals(List.of(A1, A1, B1, B1), contents());
  }

  @ParameterizedTest
  @MethodSource("databases")
  void overwriteTwiceLeavesTheSameRows(String database) throws SQLException {
    use(database);
    load(
        WriteMode.OVERWRITE,
        item("a", "Anna", "10.5", 1),
        item("b", "Ben", null, 1),
        item("c", "Cid", "1", 1));
    load(WriteMode.OVERWRITE, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    assertEquals(List.of(A1, B1), contents());
  }

  @org.junit.jupiter.api.Test
  void aDuckDbLoadLeavesNoStagingFilesBesideTheDatabase() throws Exception {
    use("duckdb");
    load(WriteMode.MERGE, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    load(WriteMode.APPEND, item("c", "Cid", "1", 1));
    assertEquals(3, contents().size());
    try (Stream<Path> files = java.nio.file.Files.list(folder)) {
      assertEquals(
          List.of(),
          files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".csv")).toList());
    }
  }

  @ParameterizedTest
  @MethodSource("databases")
  void mergeTwiceLeavesTheSameRows(String database) throws SQLException {
    use(database);
    load(WriteMode.MERGE, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    load(WriteMode.MERGE, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
    assertEquals(List.of(A1, B1), contents());
  }

  @ParameterizedTest
  @MethodSource("databases")
  void mergeAppliesNewerVersionsAndIgnoresOlderOnes(String database) throws SQLException {
    use(database);
    load(WriteMode.MERGE, item("a", "Anna", "10.5", 2), item("b", "Ben", null, 2));
    load(
        WriteMode.MERGE,
        item("a", "Anna Maria", "11", 3),
        item("b", "Old Ben", "1", 1),
        item("c", "Cid", "7.25", 1));
    assertEquals(
        List.of(
            "a|Anna Maria|11.00|2024-02-29|2024-03-01T10:15:30.123Z|3|false|crm",
            "b|Ben|null|2024-02-29|2024-03-01T10:15:30.123Z|2|true|crm",
            "c|Cid|7.25|2024-02-29|2024-03-01T10:15:30.123Z|1|false|crm"),
        contents());
  }

  @ParameterizedTest
  @MethodSource("databases")
  void aModelThatGainsAFieldAndWidensAnotherEvolvesTheTable(String database) throws SQLException {
    use(database);
    CanonicalModel v1 =
        CanonicalModel.builder("item")
            .field("id", "string")
            .field("score", "int")
            .key("id")
            .build();
    CanonicalModel v2 =
        CanonicalModel.builder("item")
            .field("id", "string")
            .field("score", "long")
            .field("vip", "boolean")
            .key("id")
            .build();
    Pipeline first = Pipeline.create(PipelineOptionsFactory.create());
    first
        .apply(
            Create.of(Row.withSchema(v1.schema()).addValues("a", 1, "crm", "x:1").build())
                .withRowSchema(v1.schema()))
        .apply(JdbcLoad.into(endpoint, table, v1).withMode(WriteMode.MERGE));
    first.run().waitUntilFinish();
    Pipeline second = Pipeline.create(PipelineOptionsFactory.create());
    second
        .apply(
            Create.of(
                    Row.withSchema(v2.schema())
                        .addValues("b", 5_000_000_000L, true, "crm", "x:2")
                        .build())
                .withRowSchema(v2.schema()))
        .apply(JdbcLoad.into(endpoint, table, v2).withMode(WriteMode.MERGE));
    second.run().waitUntilFinish();
    assertEquals(
        List.of("a|1|crm|null", "b|5000000000|crm|true"),
        Databases.rows(endpoint, "SELECT id, score, _source, vip FROM " + table + " ORDER BY id"));
  }

  @ParameterizedTest
  @MethodSource("databases")
  void loadingNothingCreatesAnEmptyTableAndOverwriteEmptiesIt(String database) throws SQLException {
    use(database);
    load(WriteMode.OVERWRITE, item("a", "Anna", "10.5", 1));
    load(WriteMode.OVERWRITE);
    assertEquals(List.of(), contents());
  }

  /** A table in a schema (a database, on MariaDB) that does not exist yet: the load creates it. */
  @ParameterizedTest
  @MethodSource("databases")
  void createsTheSchemaOfATableAsItCreatesTheTable(String database) throws SQLException {
    use(database);
    String schema = "ws_schema_" + UUID.randomUUID().toString().substring(0, 8);
    String qualified = schema + ".item";
    try {
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
      pipeline
          .apply(Create.of(List.of(item("a", "Ann", "1.50", 1))).withRowSchema(ITEM.schema()))
          .apply(
              JdbcLoad.into(endpoint, qualified, ITEM)
                  .withMode(WriteMode.MERGE)
                  .withVersionColumn("version"));
      pipeline.run().waitUntilFinish();
      assertEquals(
          List.of("a|Ann|1.50"),
          Databases.rows(endpoint, "SELECT id, name, amount FROM " + qualified));
    } finally {
      Databases.execute(
          endpoint,
          database.equals("mariadb")
              ? "DROP DATABASE IF EXISTS " + schema
              : "DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  /** A load whose commit fails says which sink, table and database, and that nothing committed. */
  @org.junit.jupiter.api.Test
  void aFailedCommitNamesTheSinkTableAndDatabase() throws SQLException {
    use("postgres");
    Databases.execute(
        endpoint,
        "CREATE TABLE "
            + table
            + " (id TEXT PRIMARY KEY, name TEXT CHECK (name <> 'Bad'), amount DECIMAL(10,2),"
            + " day DATE, at TIMESTAMPTZ, version BIGINT, active BOOLEAN, _source TEXT)");
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    pipeline
        .apply(
            Create.of(List.of(item("a", "Good", "1.00", 1), item("b", "Bad", "2.00", 2)))
                .withRowSchema(ITEM.schema()))
        .apply(
            JdbcLoad.into(endpoint, table, ITEM)
                .withMode(WriteMode.MERGE)
                .withVersionColumn("version")
                .withSinkName("warehouse"));
    Throwable failure =
        org.junit.jupiter.api.Assertions.assertThrows(
            RuntimeException.class, () -> pipeline.run().waitUntilFinish());
    String message = null;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().startsWith("sink warehouse:")) {
        message = t.getMessage();
      }
    }
    org.junit.jupiter.api.Assertions.assertNotNull(message, failure.toString());
    org.junit.jupiter.api.Assertions.assertTrue(
        message.startsWith(
            "sink warehouse: loading "
                + table
                + " into jdbc:postgresql://127.0.0.1:5432/test failed, and nothing of the load"
                + " was committed: ERROR: new row for relation"),
        message);
    assertEquals(List.of(), Databases.rows(endpoint, "SELECT id FROM " + table));
  }

  /**
   * A commit that meets a concurrent transaction (PostgreSQL's deadlock_detected 40P01, MariaDB's
   * 40001) is tried again and lands once. The conflict is raised by the database itself: a trigger
   * on the target fails the first statement that touches it, counted by a sequence (sequences are
   * not rolled back with the failed transaction).
   */
  @ParameterizedTest
  @MethodSource("serverDatabases")
  void aCommitThatMeetsADeadlockIsTriedAgainAndLandsOnce(String database) throws SQLException {
    use(database);
    String sequence = table + "_attempts";
    boolean postgres = database.equals("postgres");
    Databases.execute(
        endpoint,
        "CREATE TABLE "
            + table
            + " (id VARCHAR(64) PRIMARY KEY, name TEXT, amount DECIMAL(10,2), day DATE, at "
            + (postgres ? "TIMESTAMPTZ" : "DATETIME(6)")
            + ", version BIGINT, active BOOLEAN, _source TEXT)");
    Databases.execute(endpoint, "CREATE SEQUENCE " + sequence);
    try {
      if (postgres) {
        Databases.execute(
            endpoint,
            "CREATE FUNCTION "
                + table
                + "_conflict() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF nextval('"
                + sequence
                + "') = 1 THEN RAISE EXCEPTION 'deadlock detected (raised by the test)' USING"
                + " ERRCODE = '40P01'; END IF; RETURN NEW; END $$");
        Databases.execute(
            endpoint,
            "CREATE TRIGGER "
                + table
                + "_conflict BEFORE INSERT OR UPDATE ON "
                + table
                + " FOR EACH ROW EXECUTE FUNCTION "
                + table
                + "_conflict()");
      } else {
        Databases.execute(
            endpoint,
            "CREATE TRIGGER "
                + table
                + "_conflict BEFORE INSERT ON "
                + table
                + " FOR EACH ROW BEGIN IF NEXTVAL("
                + sequence
                + ") = 1 THEN SIGNAL SQLSTATE '40001' SET MESSAGE_TEXT = 'deadlock (raised by the"
                + " test)'; END IF; END");
      }
      load(WriteMode.MERGE, item("a", "Anna", "10.5", 1), item("b", "Ben", null, 1));
      assertEquals(
          List.of("a|Anna", "b|Ben"),
          Databases.rows(endpoint, "SELECT id, name FROM " + table + " ORDER BY id"));
      List<String> attempts =
          Databases.rows(
              endpoint,
              postgres
                  ? "SELECT last_value FROM " + sequence
                  : "SELECT NEXTVAL(" + sequence + ") - 1");
      assertTrue(
          Long.parseLong(attempts.get(0)) >= 3,
          "the first attempt failed, the second wrote both rows: " + attempts);
    } finally {
      Databases.execute(endpoint, "DROP TABLE IF EXISTS " + table);
      Databases.execute(endpoint, "DROP SEQUENCE IF EXISTS " + sequence);
      if (postgres) {
        Databases.execute(endpoint, "DROP FUNCTION IF EXISTS " + table + "_conflict()");
      }
    }
  }

  static Stream<String> serverDatabases() {
    return Stream.of("postgres", "mariadb");
  }
}
