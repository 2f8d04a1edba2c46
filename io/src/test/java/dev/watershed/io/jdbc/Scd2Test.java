package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.transforms.model.CanonicalModel;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
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

/** Slowly changing dimensions type 2 on real PostgreSQL, MariaDB and DuckDB databases. */
class Scd2Test {
  private static final CanonicalModel CUSTOMER =
      CanonicalModel.builder("customer")
          .field("id", "string")
          .field("email", "string")
          .field("country", "string")
          .field("updated_at", "timestamp")
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
    table = "history_test_" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
  }

  @AfterEach
  void dropTable() throws SQLException {
    if (endpoint != null) {
      Databases.execute(endpoint, "DROP TABLE IF EXISTS " + table);
    }
  }

  private static Row customer(String id, String email, String country, String updated) {
    return Row.withSchema(CUSTOMER.schema())
        .addValues(id, email, country, Instant.parse(updated), "crm", "c:" + id)
        .build();
  }

  private void snapshot(Scd2 history, String at, Row... rows) {
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    pipeline
        .apply(Create.of(List.of(rows)).withRowSchema(CUSTOMER.schema()))
        .apply(
            JdbcLoad.into(endpoint, table, CUSTOMER)
                .withHistory(history.withClock(Instant.parse(at))));
    pipeline.run().waitUntilFinish();
  }

  private List<String> history() throws SQLException {
    return Databases.rows(
        endpoint,
        "SELECT id, email, valid_from, valid_to, is_current, is_deleted FROM "
            + table
            + " ORDER BY id, valid_from, is_deleted");
  }

  private static final String T1 = "2024-01-01T00:00:00Z";
  private static final String T2 = "2024-02-01T00:00:00Z";
  private static final String T3 = "2024-03-01T00:00:00Z";
  private static final String T4 = "2024-04-01T00:00:00Z";
  private static final String T5 = "2024-05-01T00:00:00Z";

  private static final Row A1 = customer("a", "a@example.com", "DE", T1);
  private static final Row A2 = customer("a", "a2@example.com", "DE", T3);
  private static final Row B1 = customer("b", "b@example.com", "FR", T1);
  private static final Row B1_TOUCHED = customer("b", "b@example.com", "FR", T3);

  @ParameterizedTest
  @MethodSource("databases")
  void changesCloseAndOpenVersionsReRunsChangeNothingAndDeletesInvalidate(String database)
      throws SQLException {
    use(database);
    Scd2 scd2 = Scd2.check(List.of("email", "country")).withDeletes(Scd2.Deletes.INVALIDATE);
    snapshot(scd2, T1, A1, B1);
    snapshot(scd2, T2, A1, B1);
    assertEquals(
        List.of(
            "a|a@example.com|" + T1 + "|null|true|false",
            "b|b@example.com|" + T1 + "|null|true|false"),
        history());
    // a's email changes; b is touched but its tracked columns are the same.
    snapshot(scd2, T3, A2, B1_TOUCHED);
    snapshot(scd2, T4, A2);
    assertEquals(
        List.of(
            "a|a@example.com|" + T1 + "|" + T3 + "|false|false",
            "a|a2@example.com|" + T3 + "|null|true|false",
            "b|b@example.com|" + T1 + "|" + T4 + "|false|false"),
        history());
    snapshot(scd2, T5, A2);
    assertEquals(3, history().size(), "re-running after a delete changes nothing");
  }

  @ParameterizedTest
  @MethodSource("databases")
  void deletesAsNewRecordsAndAKeyThatComesBack(String database) throws SQLException {
    use(database);
    Scd2 scd2 = Scd2.check(List.of("email", "country")).withDeletes(Scd2.Deletes.NEW_RECORD);
    snapshot(scd2, T1, A1, B1);
    snapshot(scd2, T2, A1);
    snapshot(scd2, T3, A1);
    snapshot(scd2, T4, A1, B1);
    assertEquals(
        List.of(
            "a|a@example.com|" + T1 + "|null|true|false",
            "b|b@example.com|" + T1 + "|" + T2 + "|false|false",
            "b|b@example.com|" + T2 + "|" + T4 + "|false|true",
            "b|b@example.com|" + T4 + "|null|true|false"),
        history());
  }

  @ParameterizedTest
  @MethodSource("databases")
  void deletesIgnoredKeepTheLastVersionCurrent(String database) throws SQLException {
    use(database);
    Scd2 scd2 = Scd2.check(List.of("email"));
    snapshot(scd2, T1, A1, B1);
    snapshot(scd2, T2, A1);
    assertEquals(
        List.of(
            "a|a@example.com|" + T1 + "|null|true|false",
            "b|b@example.com|" + T1 + "|null|true|false"),
        history());
  }

  @ParameterizedTest
  @MethodSource("databases")
  void theTimestampStrategyUsesTheSourcesOwnTimes(String database) throws SQLException {
    use(database);
    Scd2 scd2 = Scd2.timestamp(List.of("email", "country"), "updated_at");
    snapshot(scd2, T4, A1);
    snapshot(scd2, T5, A2);
    snapshot(scd2, T5, A1); // an older snapshot of a: not newer, so no new version
    assertEquals(
        List.of(
            "a|a@example.com|" + T1 + "|" + T3 + "|false|false",
            "a|a2@example.com|" + T3 + "|null|true|false"),
        history());
  }
}
