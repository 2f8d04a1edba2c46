package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.transforms.model.CanonicalModel;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bulk writers keep every value exactly: PostgreSQL's binary COPY (text, int4, int8, numeric,
 * bool, date, timestamptz written byte by byte), the DuckDB appender and MariaDB's batches.
 */
class StagingWriterTest {
  private static final CanonicalModel ALL_KINDS =
      CanonicalModel.builder("kinds")
          .field("n", "int")
          .field("s", "string")
          .field("l", "long")
          .field("d", "decimal(38,10)")
          .field("b", "boolean")
          .field("day", "date")
          .field("at", "timestamp")
          .key("n")
          .build();

  @TempDir static Path folder;

  /** Every database's writer, and DuckDB's batch staging files ({@code duckdb-files}). */
  static Stream<String> databases() {
    return Stream.concat(Databases.ALL.stream(), Stream.of("duckdb-files"));
  }

  private static final List<String> TEXTS =
      Arrays.asList(
          "",
          "plain",
          "tab\there",
          "new\nline\r\n",
          "back\\slash \\N",
          "ünïcödé",
          "日本語",
          "emoji 😀",
          null,
          "x".repeat(20_000));

  private static final List<String> DECIMALS =
      Arrays.asList(
          "0",
          "0.0000000001",
          "-0.0000000001",
          "1",
          "-1",
          "0.5",
          "10000",
          "100000000",
          "-123.45",
          "12345678901234567890.1234567890",
          "9999999999999999999999999999.9999999999",
          "-9999999999999999999999999999.9999999999",
          "1E+5",
          null);

  private static final List<String> INSTANTS =
      Arrays.asList(
          "1969-12-31T23:59:59.999999Z",
          "1999-12-31T23:59:59Z",
          "2000-01-01T00:00:00Z",
          "2000-01-01T00:00:00.000001Z",
          "2024-03-01T10:15:30.123456Z",
          "1000-01-01T00:00:00Z",
          "9999-12-31T23:59:59.999999Z",
          null);

  private static final List<String> DAYS =
      Arrays.asList("1000-01-01", "1969-12-31", "1999-12-31", "2000-01-01", "2024-02-29", null);

  /**
   * Row {@code n} takes the {@code n}-th value of each list, cycling, so every value is written.
   */
  private static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    int count = Math.max(TEXTS.size(), DECIMALS.size());
    for (int n = 0; n < count; n++) {
      String decimal = DECIMALS.get(n % DECIMALS.size());
      String instant = INSTANTS.get(n % INSTANTS.size());
      String day = DAYS.get(n % DAYS.size());
      rows.add(
          Row.withSchema(ALL_KINDS.schema())
              .addValues(
                  n % 3 == 0 ? Integer.MIN_VALUE + n : n % 3 == 1 ? Integer.MAX_VALUE - n : -n,
                  TEXTS.get(n % TEXTS.size()),
                  n % 2 == 0 ? Long.MIN_VALUE + n : Long.MAX_VALUE - n,
                  decimal == null ? null : new BigDecimal(decimal),
                  n % 4 == 3 ? null : n % 2 == 0,
                  day == null ? null : LocalDate.parse(day),
                  instant == null ? null : Instant.parse(instant),
                  "src",
                  "pos " + n)
              .build());
    }
    return rows;
  }

  @ParameterizedTest
  @MethodSource("databases")
  void writesEveryKindOfValueExactly(String database) throws SQLException {
    boolean files = database.equals("duckdb-files");
    JdbcEndpoint endpoint = Databases.named(files ? "duckdb" : database, folder);
    Dialect dialect = endpoint.dialect();
    String table = "staging_test_" + UUID.randomUUID().toString().substring(0, 8);
    List<Schema.Field> fields = ALL_KINDS.loadFields();
    List<Row> rows = rows();
    try (Connection connection = endpoint.connect()) {
      if (files) {
        DuckDbStagingFiles.create(connection, table, fields);
      } else {
        try (Statement statement = connection.createStatement()) {
          statement.execute(dialect.createStaging(table, fields));
        }
      }
      try (StagingWriter writer =
          files
              ? new DuckDbStagingFiles.CsvWriter(connection, table, fields)
              : StagingWriter.open(dialect, connection, table, fields)) {
        for (Row row : rows) {
          writer.write(row);
        }
        assertEquals(rows.size(), writer.finish());
      }
      List<String> expected = new ArrayList<>();
      for (Row row : rows) {
        expected.add(expectedText(row));
      }
      List<String> actual = new ArrayList<>();
      try (Statement statement = connection.createStatement();
          ResultSet result =
              statement.executeQuery(
                  "SELECT "
                      + String.join(
                          ", ",
                          Stream.of("n", "s", "l", "d", "b", "day", "at", "_source")
                              .map(dialect::quote)
                              .toList())
                      + " FROM "
                      + dialect.quote(table)
                      + " ORDER BY l")) {
        while (result.next()) {
          actual.add(actualText(result, dialect));
        }
      } finally {
        if (files) {
          DuckDbStagingFiles.drop(connection, table);
        } else {
          try (Statement statement = connection.createStatement()) {
            statement.execute(dialect.dropTable(table));
          }
        }
      }
      expected.sort(null);
      actual.sort(null);
      assertEquals(expected, actual);
    }
  }

  private static String expectedText(Row row) {
    BigDecimal decimal = row.getDecimal("d");
    Instant at = row.getValue("at");
    return String.join(
        "|",
        String.valueOf(row.getInt32("n")),
        String.valueOf(row.getString("s")),
        String.valueOf(row.getInt64("l")),
        decimal == null ? "null" : decimal.setScale(10).toPlainString(),
        String.valueOf(row.getBoolean("b")),
        String.valueOf(row.<LocalDate>getValue("day")),
        String.valueOf(at),
        row.getString("_source"));
  }

  private static String actualText(ResultSet result, Dialect dialect) throws SQLException {
    BigDecimal decimal = result.getBigDecimal(4);
    Object bool = result.getObject(5);
    Instant at;
    if (dialect == Dialect.POSTGRES) {
      OffsetDateTime offset = result.getObject(7, OffsetDateTime.class);
      at = offset == null ? null : offset.toInstant();
    } else {
      LocalDateTime local = result.getObject(7, LocalDateTime.class);
      at = local == null ? null : local.toInstant(ZoneOffset.UTC);
    }
    return String.join(
        "|",
        String.valueOf(result.getInt(1)),
        String.valueOf(result.getString(2)),
        String.valueOf(result.getLong(3)),
        decimal == null ? "null" : decimal.setScale(10).toPlainString(),
        bool == null ? "null" : String.valueOf(result.getBoolean(5)),
        String.valueOf(result.getObject(6, LocalDate.class)),
        String.valueOf(at),
        result.getString(8));
  }
}
