package dev.watershed.io.jdbc;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * Loads model rows into a PostgreSQL, MariaDB or DuckDB table, all or nothing.
 *
 * <p>How: every worker bulk-writes into a staging table of its own, private to this run (PostgreSQL
 * COPY, the DuckDB appender, MariaDB batched inserts); when every bundle is written, the target
 * table is created from the model if missing (with the model key as primary key for {@link
 * WriteMode#MERGE}), one transaction moves the staged rows into it, and the staging tables are
 * dropped. Merge input must hold one row per key across all workers.
 *
 * <p>Guarantees: readers see the target either before or after the whole load. {@link
 * WriteMode#APPEND} adds rows, {@link WriteMode#OVERWRITE} replaces the table's contents, {@link
 * WriteMode#MERGE} upserts by key, so a re-run or a retried bundle never duplicates a row. With
 * {@link #withVersionColumn}, a merge never replaces a stored row with an older version. Merge
 * input must hold one row per key (apply {@code Dedupe} first).
 *
 * <p>Output: one element, the number of rows loaded. Counter: {@code load.<sink>.<table>}.
 *
 * <pre>{@code
 * customers.apply(
 *     JdbcLoad.into(JdbcEndpoint.of("jdbc:duckdb:target/warehouse.duckdb"), "customer", customerModel)
 *         .withMode(WriteMode.MERGE)
 *         .withVersionColumn("updated_at"));
 * }</pre>
 */
public final class JdbcLoad extends PTransform<PCollection<Row>, PCollection<Long>> {
  private final JdbcEndpoint endpoint;
  private final String table;
  private final CanonicalModel model;
  private final WriteMode mode;
  private final String versionColumn;
  private final String sinkName;
  private final PCollectionView<Boolean> gate;
  private final Scd2 history;

  private JdbcLoad(
      JdbcEndpoint endpoint,
      String table,
      CanonicalModel model,
      WriteMode mode,
      String versionColumn,
      String sinkName,
      PCollectionView<Boolean> gate,
      Scd2 history) {
    this.history = history;
    this.endpoint = endpoint;
    this.table = table;
    this.model = model;
    this.mode = mode;
    this.versionColumn = versionColumn;
    this.sinkName = sinkName;
    this.gate = gate;
  }

  /** Loads rows of {@code model} into {@code table}; appends unless told otherwise. */
  public static JdbcLoad into(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    return new JdbcLoad(endpoint, table, model, WriteMode.APPEND, null, "jdbc", null, null);
  }

  public JdbcLoad withMode(WriteMode writeMode) {
    return new JdbcLoad(endpoint, table, model, writeMode, versionColumn, sinkName, gate, history);
  }

  /** A merge leaves a stored row alone when its value in this column is newer. */
  public JdbcLoad withVersionColumn(String column) {
    if (column != null && !model.schema().hasField(column)) {
      throw new IllegalArgumentException(
          "version column '" + column + "' is not a field of model " + model.name());
    }
    return new JdbcLoad(endpoint, table, model, mode, column, sinkName, gate, history);
  }

  /**
   * A single boolean, computed in the same pipeline, that must be true for the load to commit; when
   * it is false the staged rows are discarded and the target is left as it was. Quality checks use
   * this to stop every load of a run before anything is committed.
   */
  public JdbcLoad withGate(PCollectionView<Boolean> commitAllowed) {
    return new JdbcLoad(
        endpoint, table, model, mode, versionColumn, sinkName, commitAllowed, history);
  }

  /**
   * Keeps the table as a type 2 history of the model ({@link Scd2}) instead of one row per key:
   * each run's rows are a full snapshot that closes and opens versions.
   */
  public JdbcLoad withHistory(Scd2 scd2) {
    return new JdbcLoad(endpoint, table, model, mode, versionColumn, sinkName, gate, scd2);
  }

  /** The sink's name, used in counters. */
  public JdbcLoad withSinkName(String name) {
    return new JdbcLoad(endpoint, table, model, mode, versionColumn, name, gate, history);
  }

  static List<Schema.Field> columns(CanonicalModel model) {
    return model.loadFields();
  }

  @Override
  public PCollection<Long> expand(PCollection<Row> rows) {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String stagingPrefix =
        (table.contains(".") ? table.substring(0, table.lastIndexOf('.') + 1) : "")
            + "_ws_stage_"
            + table.substring(table.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT)
            + "_"
            + run;
    return rows.apply("WriteStaging", ParDo.of(new StageFn(endpoint, stagingPrefix, model)))
        .apply("CollectStaged", Combine.globally(new Staged()))
        .apply("Commit", commit());
  }

  private ParDo.SingleOutput<Map<String, Long>, Long> commit() {
    ParDo.SingleOutput<Map<String, Long>, Long> commit =
        ParDo.of(
            new CommitFn(endpoint, table, model, mode, versionColumn, sinkName, gate, history));
    return gate == null ? commit : commit.withSideInputs(gate);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("mode", mode.specName()));
    builder.addIfNotNull(DisplayData.item("versionColumn", versionColumn));
  }

  /**
   * Writes rows into a staging table of its own (one per worker), created on first use, and emits
   * after each bundle the table's name and the rows written in the bundle.
   */
  private static final class StageFn extends DoFn<Row, KV<String, Long>> {
    private final JdbcEndpoint endpoint;
    private final String stagingPrefix;
    private final CanonicalModel model;
    private transient Connection connection;
    private transient String staging;
    private transient StagingWriter writer;

    StageFn(JdbcEndpoint endpoint, String stagingPrefix, CanonicalModel model) {
      this.endpoint = endpoint;
      this.stagingPrefix = stagingPrefix;
      this.model = model;
    }

    @ProcessElement
    public void process(@Element Row row) throws SQLException {
      if (writer == null) {
        if (connection == null) {
          connection = endpoint.connect();
          staging = stagingPrefix + "_" + UUID.randomUUID().toString().substring(0, 8);
          try (Statement statement = connection.createStatement()) {
            statement.execute(endpoint.dialect().createStaging(staging, columns(model)));
          }
        }
        writer = StagingWriter.open(endpoint.dialect(), connection, staging, columns(model));
      }
      writer.write(row);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws SQLException {
      if (writer != null) {
        long written = writer.finish();
        writer.close();
        writer = null;
        context.output(KV.of(staging, written), Instant.now(), GlobalWindow.INSTANCE);
      }
    }

    @Teardown
    public void teardown() throws SQLException {
      if (writer != null) {
        writer.close();
      }
      if (connection != null) {
        connection.close();
      }
    }
  }

  /** Gathers the staging tables written and the rows staged in each. */
  private static final class Staged
      extends Combine.CombineFn<KV<String, Long>, Map<String, Long>, Map<String, Long>> {
    @Override
    public Map<String, Long> createAccumulator() {
      return new TreeMap<>();
    }

    @Override
    public Map<String, Long> addInput(Map<String, Long> tables, KV<String, Long> staged) {
      tables.merge(staged.getKey(), staged.getValue(), Long::sum);
      return tables;
    }

    @Override
    public Map<String, Long> mergeAccumulators(Iterable<Map<String, Long>> all) {
      Map<String, Long> merged = new TreeMap<>();
      for (Map<String, Long> tables : all) {
        tables.forEach((name, count) -> merged.merge(name, count, Long::sum));
      }
      return merged;
    }

    @Override
    public Map<String, Long> extractOutput(Map<String, Long> tables) {
      return tables;
    }

    @Override
    public Coder<Map<String, Long>> getAccumulatorCoder(
        CoderRegistry registry, Coder<KV<String, Long>> inputCoder) {
      return MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
    }

    @Override
    public Coder<Map<String, Long>> getDefaultOutputCoder(
        CoderRegistry registry, Coder<KV<String, Long>> inputCoder) {
      return MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
    }
  }

  /**
   * Creates the target when missing, then in one transaction moves every staged row into it, and
   * drops the staging tables.
   */
  private static final class CommitFn extends DoFn<Map<String, Long>, Long> {
    private final JdbcEndpoint endpoint;
    private final String table;
    private final CanonicalModel model;
    private final WriteMode mode;
    private final String versionColumn;
    private final PCollectionView<Boolean> gate;
    private final Scd2 history;
    private final Counter loaded;
    private final Counter blocked;

    CommitFn(
        JdbcEndpoint endpoint,
        String table,
        CanonicalModel model,
        WriteMode mode,
        String versionColumn,
        String sinkName,
        PCollectionView<Boolean> gate,
        Scd2 history) {
      this.history = history;
      this.gate = gate;
      this.blocked = Metrics.counter("watershed", "blocked." + sinkName + "." + model.name());
      this.endpoint = endpoint;
      this.table = table;
      this.model = model;
      this.mode = mode;
      this.versionColumn = versionColumn;
      this.loaded = Metrics.counter("watershed", "load." + sinkName + "." + model.name());
    }

    /**
     * Brings an existing target up to the model: adds the model's new fields as columns, and widens
     * int columns the model now declares long and decimals it declares wider.
     */
    private void evolve(Connection connection, Statement statement, Dialect dialect)
        throws SQLException {
      Map<String, int[]> existing = new java.util.HashMap<>();
      try (java.sql.ResultSet result =
          statement.executeQuery("SELECT * FROM " + dialect.quote(table) + " WHERE 1 = 0")) {
        java.sql.ResultSetMetaData meta = result.getMetaData();
        for (int c = 1; c <= meta.getColumnCount(); c++) {
          existing.put(
              meta.getColumnName(c).toLowerCase(Locale.ROOT),
              new int[] {meta.getColumnType(c), meta.getPrecision(c), meta.getScale(c)});
        }
      }
      for (Schema.Field field : columns(model)) {
        int[] column = existing.get(field.getName().toLowerCase(Locale.ROOT));
        if (column == null) {
          statement.execute(dialect.addColumn(table, field));
          continue;
        }
        ModelTypes.Kind kind = ModelTypes.kind(field);
        boolean widerInt =
            kind == ModelTypes.Kind.LONG
                && (column[0] == java.sql.Types.INTEGER || column[0] == java.sql.Types.SMALLINT);
        boolean widerDecimal =
            kind == ModelTypes.Kind.DECIMAL
                && (column[0] == java.sql.Types.DECIMAL || column[0] == java.sql.Types.NUMERIC)
                && (ModelTypes.scale(field) > column[2]
                    || ModelTypes.precision(field) - ModelTypes.scale(field)
                        > column[1] - column[2]);
        if (widerInt || widerDecimal) {
          statement.execute(dialect.widenColumn(table, field));
        }
      }
    }

    @ProcessElement
    public void process(@Element Map<String, Long> staged, ProcessContext context)
        throws SQLException {
      Dialect dialect = endpoint.dialect();
      if (gate != null && !context.sideInput(gate)) {
        try (Connection connection = endpoint.connect();
            Statement statement = connection.createStatement()) {
          for (String staging : staged.keySet()) {
            statement.execute(dialect.dropTable(staging));
          }
        }
        blocked.inc(staged.values().stream().mapToLong(Long::longValue).sum());
        context.output(0L);
        return;
      }
      List<String> names = new ArrayList<>();
      for (Schema.Field field : columns(model)) {
        names.add(field.getName());
      }
      long rows = 0;
      try (Connection connection = endpoint.connect()) {
        try (Statement statement = connection.createStatement()) {
          String create =
              dialect.createTable(
                  table,
                  columns(model),
                  mode == WriteMode.MERGE && history == null ? model.key() : List.of());
          statement.execute(
              history == null
                  ? create
                  : create.substring(0, create.length() - 1)
                      + ", "
                      + Scd2.extraColumns(dialect)
                      + ")");
          evolve(connection, statement, dialect);
        }
        connection.setAutoCommit(false);
        try (Statement statement = connection.createStatement()) {
          if (history != null) {
            for (String sql :
                history.statements(
                    dialect, table, List.copyOf(staged.keySet()), names, model.key())) {
              statement.execute(sql);
            }
          }
          if (mode == WriteMode.OVERWRITE && history == null) {
            statement.execute(dialect.deleteAll(table));
          }
          for (Map.Entry<String, Long> staging :
              history != null ? Map.<String, Long>of().entrySet() : staged.entrySet()) {
            statement.execute(
                mode == WriteMode.MERGE
                    ? dialect.mergeFrom(table, staging.getKey(), names, model.key(), versionColumn)
                    : dialect.insertFrom(table, staging.getKey(), names));
            rows += staging.getValue();
          }
          if (history != null) {
            rows = staged.values().stream().mapToLong(Long::longValue).sum();
          }
          connection.commit();
        } catch (SQLException e) {
          connection.rollback();
          throw e;
        }
        connection.setAutoCommit(true);
        try (Statement statement = connection.createStatement()) {
          for (String staging : staged.keySet()) {
            statement.execute(dialect.dropTable(staging));
          }
        }
      }
      loaded.inc(rows);
      context.output(rows);
    }
  }
}
