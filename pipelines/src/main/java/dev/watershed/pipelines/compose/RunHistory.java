package dev.watershed.pipelines.compose;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.DedupeSpec;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.quality.QualityRule;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.beam.sdk.schemas.Schema;

/**
 * Every run's rows per model, kept in the warehouse itself: the table {@value #TABLE} of each table
 * sink (DuckDB, PostgreSQL, MariaDB) gets one row per run and model, with its status, counts,
 * duration and the newest record the model then held (its freshness), so that row-count and
 * freshness trends can be queried and alerted on with SQL. The run id is the one of the run's
 * OpenLineage events.
 */
public final class RunHistory {
  public static final String TABLE = "_watershed_runs";

  /** A model's row of one run. */
  public record Run(
      String runId,
      String model,
      String status,
      Instant startedAt,
      double seconds,
      long rowsIn,
      long loaded,
      long mergedAway,
      long deadLettered,
      Instant newestRecord) {}

  private RunHistory() {}

  /** Records the run in every table sink that holds a model; what fails is a warning. */
  public static void record(
      RunSummary summary, String status, Instant started, Consumer<String> warnings) {
    Spec spec = summary.spec();
    String runId = Lineage.runId(spec, started).toString();
    for (TableSink sink : spec.tableSinks()) {
      List<String> models = spec.modelsOf(sink);
      if (models.isEmpty()) {
        continue;
      }
      JdbcEndpoint endpoint = sink.endpoint(spec);
      String table = sink.tableOf(TABLE);
      String q = endpoint.dialect().quote(table);
      try (Connection connection = endpoint.connect()) {
        try (Statement create = connection.createStatement()) {
          endpoint.dialect().createSchemaOf(create, table);
          create.execute(
              "CREATE TABLE IF NOT EXISTS "
                  + q
                  + " (run_id VARCHAR(64), pipeline VARCHAR(255), model VARCHAR(255),"
                  + " status VARCHAR(32), started_at TIMESTAMP, seconds DECIMAL(12,3),"
                  + " rows_in BIGINT, loaded BIGINT, merged_away BIGINT, dead_lettered BIGINT,"
                  + " rows_written BIGINT, newest_record TIMESTAMP, seq BIGINT)");
        }
        // The run's place in the pipeline's history (one run at a time holds the run lock):
        // start times need not differ, a run's clock may be fixed or go back.
        long seq;
        try (PreparedStatement next =
            connection.prepareStatement(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM " + q + " WHERE pipeline = ?")) {
          next.setString(1, spec.name());
          try (ResultSet rows = next.executeQuery()) {
            rows.next();
            seq = rows.getLong(1);
          }
        }
        try (PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO " + q + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          for (String model : models) {
            insert.setString(1, runId);
            insert.setString(2, spec.name());
            insert.setString(3, model);
            insert.setString(4, status);
            insert.setTimestamp(5, timestamp(started));
            insert.setBigDecimal(6, java.math.BigDecimal.valueOf(summary.elapsed().toMillis(), 3));
            insert.setLong(7, summary.in(model));
            insert.setLong(8, summary.loaded(model));
            insert.setLong(9, summary.mergedAway(model));
            insert.setLong(10, summary.deadLettered(model));
            insert.setLong(11, summary.loadedInto(sink.name(), model));
            insert.setTimestamp(12, timestamp(newest(connection, spec, sink, model)));
            insert.setLong(13, seq);
            insert.addBatch();
          }
          insert.executeBatch();
        }
      } catch (SQLException | RuntimeException e) {
        warnings.accept(
            "warning: could not record the run in "
                + sink.name()
                + "'s "
                + TABLE
                + ": "
                + String.valueOf(e.getMessage()).strip().split("\\R")[0]);
      }
    }
  }

  /**
   * The field that says how fresh a model is: its freshness rule's column, else the timestamp its
   * dedupe orders by; null when it has neither.
   */
  static String freshnessField(Spec spec, String model) {
    for (QualityRule rule : spec.quality().getOrDefault(model, List.of())) {
      if (rule instanceof QualityRule.Freshness freshness) {
        return freshness.column();
      }
    }
    DedupeSpec dedupe = spec.dedupe().get(model);
    CanonicalModel canonical = spec.models().get(model);
    if (dedupe != null
        && dedupe.orderBy() != null
        && canonical.schema().hasField(dedupe.orderBy())) {
      Schema.Field field = canonical.schema().getField(dedupe.orderBy());
      if (ModelTypes.describe(field).equals("timestamp")) {
        return dedupe.orderBy();
      }
    }
    return null;
  }

  private static Instant newest(Connection connection, Spec spec, TableSink sink, String model)
      throws SQLException {
    String field = freshnessField(spec, model);
    if (field == null) {
      return null;
    }
    JdbcEndpoint endpoint = sink.endpoint(spec);
    try (Statement query = connection.createStatement();
        ResultSet rows =
            query.executeQuery(
                "SELECT MAX("
                    + endpoint.dialect().quote(field)
                    + ") FROM "
                    + endpoint.dialect().quote(sink.tableOf(model)))) {
      if (!rows.next()) {
        return null;
      }
      Timestamp newest = rows.getTimestamp(1);
      return newest == null ? null : newest.toLocalDateTime().toInstant(ZoneOffset.UTC);
    } catch (SQLException e) {
      // The model's table is not there (nothing loaded yet): no freshness to tell.
      return null;
    }
  }

  /**
   * The newest record each model's table held after the last run recorded (of any status: it is
   * measured in the table), for models with a freshness rule whose table keeps earlier runs' rows
   * (merge or append): a run that reads nothing new is as fresh as what the table holds. A date
   * counts until the end of its day, as the rule counts it. Models with no record are left out.
   */
  public static Map<String, Instant> heldNewest(Spec spec) {
    Map<String, Instant> held = new LinkedHashMap<>();
    for (String model : spec.models().keySet()) {
      String field = null;
      for (QualityRule rule : spec.quality().getOrDefault(model, List.of())) {
        if (rule instanceof QualityRule.Freshness freshness) {
          field = freshness.column();
        }
      }
      if (field == null) {
        continue;
      }
      boolean date =
          spec.models().get(model).schema().hasField(field)
              && ModelTypes.describe(spec.models().get(model).schema().getField(field))
                  .equals("date");
      for (TableSink sink : spec.tableSinksOf(model)) {
        if (sink.mode() == dev.watershed.io.WriteMode.OVERWRITE) {
          continue;
        }
        JdbcEndpoint endpoint = sink.endpoint(spec);
        try (Connection connection = endpoint.connect();
            PreparedStatement query =
                connection.prepareStatement(
                    "SELECT newest_record FROM "
                        + endpoint.dialect().quote(sink.tableOf(TABLE))
                        + " WHERE pipeline = ? AND model = ? ORDER BY seq DESC")) {
          query.setString(1, spec.name());
          query.setString(2, model);
          query.setMaxRows(1);
          try (ResultSet rows = query.executeQuery()) {
            if (rows.next()) {
              Timestamp newest = rows.getTimestamp(1);
              if (newest != null) {
                Instant at = newest.toLocalDateTime().toInstant(ZoneOffset.UTC);
                held.put(model, date ? at.plus(Duration.ofDays(1)) : at);
              }
              break;
            }
          }
        } catch (SQLException e) {
          // No history in this sink (yet): the next sink.
        }
      }
    }
    return held;
  }

  /**
   * Rows loaded per model by the last successful run recorded in the spec's table sinks (the first
   * sink that holds a model and has a record of it); models with no record are left out.
   */
  public static Map<String, Long> lastSucceeded(Spec spec) {
    Map<String, Long> loaded = new LinkedHashMap<>();
    for (String model : spec.models().keySet()) {
      for (TableSink sink : spec.tableSinksOf(model)) {
        JdbcEndpoint endpoint = sink.endpoint(spec);
        try (Connection connection = endpoint.connect();
            PreparedStatement query =
                connection.prepareStatement(
                    "SELECT loaded FROM "
                        + endpoint.dialect().quote(sink.tableOf(TABLE))
                        + " WHERE pipeline = ? AND model = ? AND status = 'succeeded'"
                        + " ORDER BY seq DESC")) {
          query.setString(1, spec.name());
          query.setString(2, model);
          query.setMaxRows(1);
          try (ResultSet rows = query.executeQuery()) {
            if (rows.next()) {
              loaded.put(model, rows.getLong(1));
              break;
            }
          }
        } catch (SQLException e) {
          // No history in this sink (yet): the next sink, or the report's file.
        }
      }
    }
    return loaded;
  }

  /** The last {@code limit} runs of {@code spec} recorded in {@code sink}, newest first. */
  public static List<Run> recent(Spec spec, TableSink sink, int limit) throws SQLException {
    JdbcEndpoint endpoint = sink.endpoint(spec);
    List<Run> runs = new ArrayList<>();
    try (Connection connection = endpoint.connect();
        PreparedStatement query =
            connection.prepareStatement(
                "SELECT run_id, model, status, started_at, seconds, rows_in, loaded, merged_away,"
                    + " dead_lettered, newest_record FROM "
                    + endpoint.dialect().quote(sink.tableOf(TABLE))
                    + " WHERE pipeline = ? ORDER BY seq DESC, model")) {
      query.setString(1, spec.name());
      query.setMaxRows(limit);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          Timestamp newest = rows.getTimestamp(10);
          runs.add(
              new Run(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getString(3),
                  rows.getTimestamp(4).toLocalDateTime().toInstant(ZoneOffset.UTC),
                  rows.getDouble(5),
                  rows.getLong(6),
                  rows.getLong(7),
                  rows.getLong(8),
                  rows.getLong(9),
                  newest == null ? null : newest.toLocalDateTime().toInstant(ZoneOffset.UTC)));
        }
      }
    }
    return runs;
  }

  private static Timestamp timestamp(Instant at) {
    return at == null ? null : Timestamp.valueOf(LocalDateTime.ofInstant(at, ZoneOffset.UTC));
  }

  /** How long ago {@code at} was, for a person: 45 s, 12 min, 3 h, 2 d. */
  public static String age(Instant at, Instant now) {
    long seconds = Math.max(0, Duration.between(at, now).toSeconds());
    return seconds < 120
        ? seconds + " s"
        : seconds < 7200
            ? seconds / 60 + " min"
            : seconds < 172800 ? seconds / 3600 + " h" : seconds / 86400 + " d";
  }
}
