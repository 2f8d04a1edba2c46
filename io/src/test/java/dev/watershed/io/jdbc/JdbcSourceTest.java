package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class JdbcSourceTest {
  @TempDir Path folder;

  @AfterEach
  void dropTables() throws SQLException {
    Databases.execute(Databases.postgres(), "DROP TABLE IF EXISTS source_test_accounts");
    Databases.execute(Databases.mariadb(), "DROP TABLE IF EXISTS source_test_accounts");
  }

  private static int step;

  private static PCollection<String> text(PCollection<Row> rows) {
    return rows.apply(
        "AsText" + step++,
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row r) ->
                    r.getString("id")
                        + "|"
                        + r.getString("balance")
                        + "|"
                        + r.getString("opened")
                        + "|"
                        + r.getString("day")
                        + "|"
                        + r.getString("_position")));
  }

  @Test
  void readsPostgresValuesAsStableText(TestPipeline pipeline) throws SQLException {
    Databases.execute(
        Databases.postgres(),
        "DROP TABLE IF EXISTS source_test_accounts",
        "CREATE TABLE source_test_accounts (id INT PRIMARY KEY, balance NUMERIC(10,2), opened TIMESTAMPTZ, day DATE, note TEXT)",
        "INSERT INTO source_test_accounts VALUES (1, 12.50, '2024-03-01 10:00:00+01', '2024-02-29', 'x'), (2, NULL, NULL, NULL, NULL)");
    PCollection<Row> rows =
        pipeline
            .apply(
                JdbcSource.read("billing", Databases.postgres())
                    .fromTable("source_test_accounts")
                    .withColumns(List.of("id", "balance", "opened", "day"))
                    .withKeyColumns(List.of("id"))
                    .withFetchSize(1))
            .output();
    PAssert.that(text(rows))
        .containsInAnyOrder(
            "1|12.50|2024-03-01T09:00:00Z|2024-02-29|source_test_accounts id=1",
            "2|null|null|null|source_test_accounts id=2");
    pipeline.run().waitUntilFinish();
  }

  /**
   * PostgreSQL timestamps and numerics read as the server's text come out exactly as {@link
   * java.time.Instant#toString()} and {@link java.math.BigDecimal#toPlainString()} write them, for
   * every fraction length, before 1970 and 2000, and in the year 9999.
   */
  @Test
  void readsPostgresTimestampsAndNumericsAsJavaWritesThem(TestPipeline pipeline)
      throws SQLException {
    java.util.Random random = new java.util.Random(5);
    List<String> expected = new java.util.ArrayList<>();
    StringBuilder insert = new StringBuilder("INSERT INTO source_test_accounts VALUES ");
    for (int id = 0; id < 300; id++) {
      long seconds = id == 0 ? 253_402_300_799L : random.nextLong(-5_000_000_000L, 5_000_000_000L);
      int micros =
          id % 3 == 0 ? 0 : id % 3 == 1 ? random.nextInt(1_000_000) : random.nextInt(1000) * 1000;
      java.time.Instant at = java.time.Instant.ofEpochSecond(seconds, micros * 1000L);
      java.math.BigDecimal balance =
          java.math.BigDecimal.valueOf(random.nextLong(-10_000_000_000L, 10_000_000_000L), 2);
      insert
          .append(id == 0 ? "" : ", ")
          .append("(")
          .append(id)
          .append(", ")
          .append(balance.toPlainString())
          .append(", TIMESTAMPTZ '")
          .append(at)
          .append("', NULL, NULL)");
      expected.add(
          id + "|" + balance.toPlainString() + "|" + at + "|null|source_test_accounts id=" + id);
    }
    Databases.execute(
        Databases.postgres(),
        "DROP TABLE IF EXISTS source_test_accounts",
        "CREATE TABLE source_test_accounts (id INT PRIMARY KEY, balance NUMERIC(14,2), opened TIMESTAMPTZ, day DATE, note TEXT)",
        insert.toString());
    PCollection<Row> rows =
        pipeline
            .apply(
                JdbcSource.read("billing", Databases.postgres())
                    .fromTable("source_test_accounts")
                    .withColumns(List.of("id", "balance", "opened", "day"))
                    .withKeyColumns(List.of("id")))
            .output();
    PAssert.that(text(rows)).containsInAnyOrder(expected);
    pipeline.run().waitUntilFinish();
  }

  @Test
  void rewritesOnlyPostgresUtcTimestampText() {
    assertEquals("2024-01-01T10:00:00Z", PostgresText.utcTimestamp("2024-01-01 10:00:00+00"));
    assertEquals("2024-01-01T10:00:00.100Z", PostgresText.utcTimestamp("2024-01-01 10:00:00.1+00"));
    assertEquals(
        "2024-01-01T10:00:00.123400Z", PostgresText.utcTimestamp("2024-01-01 10:00:00.1234+00"));
    assertEquals(
        "1969-12-31T23:59:59.999999Z", PostgresText.utcTimestamp("1969-12-31 23:59:59.999999+00"));
    assertNull(PostgresText.utcTimestamp("2024-01-01 10:00:00+01"));
    assertNull(PostgresText.utcTimestamp("2024-01-01 10:00:00+05:30"));
    assertNull(PostgresText.utcTimestamp("0044-03-15 12:00:00+00 BC"));
    assertNull(PostgresText.utcTimestamp("infinity"));
    assertNull(PostgresText.utcTimestamp("12024-01-01 10:00:00+00"));
  }

  /**
   * A table with an integer key is read in key ranges in parallel: every row exactly once, rows
   * with a null key too, on PostgreSQL and MariaDB.
   */
  @Test
  void aTableReadInKeyRangesYieldsEveryRowOnce(TestPipeline pipeline) throws SQLException {
    for (JdbcEndpoint database : List.of(Databases.postgres(), Databases.mariadb())) {
      Databases.execute(
          database,
          "DROP TABLE IF EXISTS source_test_accounts",
          "CREATE TABLE source_test_accounts (id INT, balance DECIMAL(10,2), opened DATE, day DATE)");
      StringBuilder insert =
          new StringBuilder("INSERT INTO source_test_accounts VALUES (NULL, 0, NULL, NULL)");
      for (int id = -3; id <= 1000; id += 7) {
        insert.append(", (").append(id).append(", 1, NULL, NULL)");
      }
      Databases.execute(database, insert.toString());
    }
    List<String> expected = new java.util.ArrayList<>();
    expected.add("null");
    for (int id = -3; id <= 1000; id += 7) {
      expected.add(String.valueOf(id));
    }
    for (JdbcEndpoint database : List.of(Databases.postgres(), Databases.mariadb())) {
      PCollection<Row> rows =
          pipeline
              .apply(
                  "read " + database.dialect(),
                  JdbcSource.read("billing", database)
                      .fromTable("source_test_accounts")
                      .withColumns(List.of("id", "balance"))
                      .withKeyColumns(List.of("id"))
                      .withPartitions(5))
              .output();
      PAssert.that(
              rows.apply(
                  "ids " + database.dialect(),
                  MapElements.into(TypeDescriptors.strings())
                      .via((Row r) -> String.valueOf(r.getString("id")))))
          .containsInAnyOrder(expected);
    }
    pipeline.run().waitUntilFinish();
  }

  @Test
  void readsMariaDbAndDuckDbBuiltFromAScript(TestPipeline pipeline) throws Exception {
    Databases.execute(
        Databases.mariadb(),
        "DROP TABLE IF EXISTS source_test_accounts",
        "CREATE TABLE source_test_accounts (id INT PRIMARY KEY, balance DECIMAL(10,2), opened DATETIME, day DATE)",
        "INSERT INTO source_test_accounts VALUES (7, 1.00, '2024-03-01 10:00:00', '2024-01-01')");
    Path script = folder.resolve("shop.sql");
    Files.writeString(
        script,
        "-- a comment\nCREATE TABLE accounts (id INTEGER, balance DECIMAL(10,2), opened TIMESTAMP, day DATE);\n"
            + "INSERT INTO accounts VALUES (8, 2.5, TIMESTAMP '2024-03-01 10:00:05', DATE '2024-01-02');\n");
    PCollection<Row> maria =
        pipeline
            .apply(
                "maria",
                JdbcSource.read("billing", Databases.mariadb())
                    .fromQuery("SELECT * FROM source_test_accounts")
                    .withColumns(List.of("id", "balance", "opened", "day")))
            .output();
    PCollection<Row> duck =
        pipeline
            .apply(
                "duck",
                JdbcSource.read("shop", JdbcEndpoint.of("jdbc:duckdb:"))
                    .fromTable("accounts")
                    .withInitSql(script.toString())
                    .withColumns(List.of("id", "balance", "opened", "day"))
                    .withKeyColumns(List.of("id")))
            .output();
    PAssert.that(text(maria)).containsInAnyOrder("7|1.00|2024-03-01T10:00|2024-01-01|query row 1");
    PAssert.that(text(duck))
        .containsInAnyOrder("8|2.50|2024-03-01T10:00:05|2024-01-02|accounts id=8");
    pipeline.run().waitUntilFinish();
  }

  /**
   * Incremental marks are source values: a hostile one (a quote and backslash that would end a
   * MariaDB literal and append a UNION, a trailing backslash) reads exactly the rows after it and
   * nothing else, on every dialect.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"postgres", "mariadb", "duckdb"})
  void hostileMarksStayValuesOnEveryDialect(String database, TestPipeline pipeline)
      throws Exception {
    JdbcEndpoint endpoint = Databases.named(database, folder);
    String hostile = "c\\')) UNION SELECT 'secret', 'x', 'y' -- ";
    String backslash = "b\\";
    Databases.execute(
        endpoint,
        "DROP TABLE IF EXISTS source_test_marks",
        "CREATE TABLE source_test_marks (code VARCHAR(200), id VARCHAR(20), note VARCHAR(20))");
    try (java.sql.Connection connection = endpoint.connect();
        java.sql.PreparedStatement insert =
            connection.prepareStatement("INSERT INTO source_test_marks VALUES (?, ?, ?)")) {
      for (String[] row :
          new String[][] {
            {"a", "1", "before"},
            {backslash, "2", "slash"},
            {hostile, "3", "hostile"},
            {"d", "4", "last"}
          }) {
        insert.setString(1, row[0]);
        insert.setString(2, row[1]);
        insert.setString(3, row[2]);
        insert.executeUpdate();
      }
    }
    String to = IncrementalRange.currentMark(endpoint, "source_test_marks", null, "code", "id");
    // Each mark (a value ending in a backslash, a value that would close a literal and append a
    // UNION) reads exactly the rows after it.
    Map<String, List<String>> expected =
        Map.of(backslash + "|2", List.of("hostile", "last"), hostile + "|3", List.of("last"));
    for (Map.Entry<String, List<String>> mark : expected.entrySet()) {
      String[] parts = mark.getKey().split("\\|");
      String from = "{\"value\": " + json(parts[0]) + ", \"tie\": \"" + parts[1] + "\"}";
      IncrementalRange.Bound bound =
          IncrementalRange.query(
              endpoint.dialect(), "source_test_marks", null, "code", "id", from, to);
      assertEquals(false, bound.sql().contains("UNION"), bound.sql());
      PCollection<Row> rows =
          pipeline
              .apply(
                  "read after " + parts[1],
                  JdbcSource.read("marks", endpoint)
                      .fromQuery(bound.sql(), bound.parameters())
                      .withColumns(List.of("code", "id", "note")))
              .output();
      PAssert.that(
              "after " + parts[1],
              rows.apply(
                  "notes " + parts[1],
                  MapElements.into(TypeDescriptors.strings()).via((Row r) -> r.getString("note"))))
          .containsInAnyOrder(mark.getValue());
    }
    pipeline.run().waitUntilFinish();
    Databases.execute(endpoint, "DROP TABLE IF EXISTS source_test_marks");
  }

  private static String json(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
