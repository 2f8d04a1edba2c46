package dev.watershed.io.jdbc;

import dev.watershed.io.Staging;
import dev.watershed.io.WriteMode;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads model rows into a PostgreSQL, MariaDB or DuckDB table, all or nothing.
 *
 * <p>How: every worker bulk-writes into a staging table of its own, private to this run and named
 * after the pipeline and the run ({@link #withPipeline}), so a crashed run's staging can be swept
 * by the next ({@link StagingSweep}) (PostgreSQL binary COPY, MariaDB batched inserts; for DuckDB a
 * CSV file read through a view, {@link DuckDbStagingFiles}; a streaming load's bundles, the DuckDB
 * appender); when every bundle is written, the target table is created from the model if missing
 * (with the model key as primary key for {@link WriteMode#MERGE}), one transaction moves the staged
 * rows into it, and the staging tables are dropped. Merge input must hold one row per key across
 * all workers.
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
  static final Logger LOG = LoggerFactory.getLogger(JdbcLoad.class);
  final JdbcEndpoint endpoint;
  final String table;
  final CanonicalModel model;
  WriteMode mode = WriteMode.APPEND;
  String versionColumn;
  String sinkName = "jdbc";
  PCollectionView<Boolean> gate;
  Scd2 history;
  ChangeApply changes;
  Map<String, String> marks = Map.of();
  Map<String, PCollectionView<String>> foundMarks = Map.of();
  boolean perBundle;
  String pipeline;

  private JdbcLoad(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    this.endpoint = endpoint;
    this.table = table;
    this.model = model;
  }

  JdbcLoad copy() {
    JdbcLoad copy = new JdbcLoad(endpoint, table, model);
    copy.mode = mode;
    copy.versionColumn = versionColumn;
    copy.sinkName = sinkName;
    copy.gate = gate;
    copy.history = history;
    copy.changes = changes;
    copy.marks = marks;
    copy.foundMarks = foundMarks;
    copy.perBundle = perBundle;
    copy.pipeline = pipeline;
    return copy;
  }

  /** Loads rows of {@code model} into {@code table}; appends unless told otherwise. */
  public static JdbcLoad into(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    JdbcLoad load = new JdbcLoad(endpoint, table, model);
    if (model.tracksChanges()) {
      load.changes = ChangeApply.of(ChangeApply.Deletes.HARD);
      load.versionColumn = RawRecords.VERSION;
      load.mode = WriteMode.MERGE;
    }
    return load;
  }

  public JdbcLoad withMode(WriteMode writeMode) {
    JdbcLoad next = copy();
    next.mode = changes != null ? WriteMode.MERGE : writeMode;
    return next;
  }

  /** A merge leaves a stored row alone when its value in this column is newer. */
  public JdbcLoad withVersionColumn(String column) {
    if (column != null && !model.schema().hasField(column)) {
      throw new IllegalArgumentException(
          "version column '" + column + "' is not a field of model " + model.name());
    }
    JdbcLoad next = copy();
    next.versionColumn = changes != null ? RawRecords.VERSION : column;
    return next;
  }

  /**
   * A single boolean, computed in the same pipeline, that must be true for the load to commit; when
   * it is false the staged rows are discarded and the target is left as it was. Quality checks use
   * this to stop every load of a run before anything is committed.
   */
  public JdbcLoad withGate(PCollectionView<Boolean> commitAllowed) {
    JdbcLoad next = copy();
    next.gate = commitAllowed;
    return next;
  }

  /**
   * Keeps the table as a type 2 history of the model ({@link Scd2}) instead of one row per key:
   * each run's rows are a full snapshot that closes and opens versions.
   */
  public JdbcLoad withHistory(Scd2 scd2) {
    JdbcLoad next = copy();
    next.history = scd2;
    next.changes = null;
    return next;
  }

  /**
   * How deletes of a change stream are applied (the model must {@link
   * CanonicalModel#tracksChanges() track changes}); hard unless told otherwise.
   */
  public JdbcLoad withDeletes(ChangeApply.Deletes deletes) {
    if (!model.tracksChanges()) {
      throw new IllegalArgumentException(
          "model " + model.name() + " is not fed by a change stream; it has no deletes");
    }
    JdbcLoad next = copy();
    next.changes = ChangeApply.of(deletes);
    return next;
  }

  /**
   * Commits {@code sourceMarks} (by source: where this run read up to) to {@link RunState} in the
   * same transaction as the rows, so the marks never run ahead of or behind what was loaded.
   */
  public JdbcLoad withState(String pipelineName, Map<String, String> sourceMarks) {
    JdbcLoad next = withPipeline(pipelineName);
    next.marks = new TreeMap<>(sourceMarks);
    return next;
  }

  /**
   * Marks found in the data as the run goes (by source: the highest cursor value it read, {@link
   * HighestMark}), committed like {@link #withState}'s in the same transaction as the rows. A view
   * that ends null (the source read nothing) leaves the source's mark as {@link #withState} gave
   * it.
   */
  public JdbcLoad withFoundMarks(Map<String, PCollectionView<String>> sourceMarks) {
    JdbcLoad next = copy();
    next.foundMarks = new TreeMap<>(sourceMarks);
    return next;
  }

  /** True when the load commits marks with its rows. */
  boolean keepsMarks() {
    return !marks.isEmpty() || !foundMarks.isEmpty();
  }

  /**
   * The pipeline this load belongs to: its staging tables are named after the pipeline and the run
   * ({@link Staging}), so that a later run of the pipeline can remove what a crashed run left
   * ({@link StagingSweep}). Without it, staging is named after the table and never swept.
   */
  public JdbcLoad withPipeline(String pipelineName) {
    JdbcLoad next = copy();
    next.pipeline = pipelineName;
    return next;
  }

  /**
   * Commits every bundle on its own, for unbounded input: each bundle's rows are staged and merged
   * in one transaction when the bundle finishes (on Flink, before each checkpoint completes), so
   * with merge or change apply a bundle replayed after a failure changes nothing.
   */
  public JdbcLoad perBundle() {
    JdbcLoad next = copy();
    next.perBundle = true;
    return next;
  }

  /** The sink's name, used in counters. */
  public JdbcLoad withSinkName(String name) {
    JdbcLoad next = copy();
    next.sinkName = name;
    return next;
  }

  List<Schema.Field> stagingFields() {
    return model.tracksChanges() ? ChangeApply.stagingFields(model) : columns(model);
  }

  static List<Schema.Field> columns(CanonicalModel model) {
    return model.loadFields();
  }

  @Override
  public PCollection<Long> expand(PCollection<Row> rows) {
    String run = Staging.newRun();
    String stagingPrefix =
        (table.contains(".") ? table.substring(0, table.lastIndexOf('.') + 1) : "")
            + (pipeline != null
                ? Staging.tablePrefix(pipeline, run)
                : "_ws_stage_"
                    + table.substring(table.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT)
                    + "_"
                    + run);
    if (perBundle) {
      if (mode != WriteMode.MERGE || gate != null || history != null || keepsMarks()) {
        throw new IllegalArgumentException(
            "a per-bundle load merges (or applies changes) without a gate, history or marks");
      }
      return rows.apply(
          "ApplyBundles",
          ParDo.of(new JdbcLoadSteps.BundleApplyFn(this, stagingPrefix, stagingFields())));
    }
    return rows.apply(
            "WriteStaging",
            ParDo.of(new JdbcLoadSteps.StageFn(this, stagingPrefix, stagingFields())))
        .apply("CollectStaged", Combine.globally(new JdbcLoadSteps.Staged()))
        .apply("Commit", commit());
  }

  ParDo.SingleOutput<Map<String, Long>, Long> commit() {
    List<PCollectionView<?>> sideInputs = new ArrayList<>(foundMarks.values());
    if (gate != null) {
      sideInputs.add(gate);
    }
    return ParDo.of(new JdbcLoadSteps.CommitFn(this)).withSideInputs(sideInputs);
  }

  /**
   * Creates the target when missing and brings it up to the model; creates the tables that applying
   * changes and keeping state need.
   */
  void prepareTarget(Connection connection) throws SQLException {
    // Workers of one JVM set up at the same time; DuckDB refuses two concurrent creates of one
    // table ("write-write conflict"), so they take turns.
    synchronized (PREPARE_LOCK) {
      prepareTargetAlone(connection);
    }
  }

  static final Object PREPARE_LOCK = new Object();
  static final ConcurrentMap<String, Object> APPLY_LOCKS = new ConcurrentHashMap<>();

  void prepareTargetAlone(Connection connection) throws SQLException {
    Dialect dialect = endpoint.dialect();
    try (Statement statement = connection.createStatement()) {
      dialect.createSchemaOf(statement, table);
      List<Schema.Field> targetFields =
          changes != null ? changes.targetFields(model) : columns(model);
      String create =
          dialect.createTable(
              table,
              targetFields,
              mode == WriteMode.MERGE && history == null ? model.key() : List.of());
      statement.execute(
          history == null
              ? create
              : create.substring(0, create.length() - 1) + ", " + Scd2.extraColumns(dialect) + ")");
      evolve(statement, dialect, targetFields);
      if (changes != null) {
        for (String sql : changes.prepare(dialect, table, model)) {
          statement.execute(sql);
        }
      }
      if (keepsMarks()) {
        statement.execute(RunState.create(dialect, table));
      }
    }
  }

  /**
   * The statements that move one staging table's rows into the target; {@code intoEmpty} when a
   * merge's target is known to be empty and locked, so rows are inserted without the upsert's
   * conflict check (staged rows hold one row per key).
   */
  List<String> applyStatements(
      Dialect dialect, String staging, List<String> names, boolean intoEmpty) {
    if (changes != null) {
      return changes.statements(dialect, table, staging, model);
    }
    return List.of(
        mode == WriteMode.MERGE && !intoEmpty
            ? dialect.mergeFrom(table, staging, names, model.key(), versionColumn)
            : dialect.insertFrom(table, staging, names));
  }

  /**
   * True when a merge may insert instead of upserting: the target is empty, and on PostgreSQL
   * locked against other writers until the commit (so no row can appear before it). Measured on
   * PostgreSQL, 1.2M rows into an empty table with a primary key: upsert 2.4 s, insert 1.4 s. A
   * first load is the case this serves; MariaDB keeps its upsert (its table locks end the
   * transaction).
   */
  boolean mergesIntoEmpty(Statement statement, Dialect dialect) throws SQLException {
    if (mode != WriteMode.MERGE
        || changes != null
        || history != null
        || dialect == Dialect.MARIADB) {
      return false;
    }
    if (dialect == Dialect.POSTGRES) {
      statement.execute("LOCK TABLE " + dialect.quote(table) + " IN SHARE ROW EXCLUSIVE MODE");
    }
    try (ResultSet any =
        statement.executeQuery("SELECT 1 FROM " + dialect.quote(table) + " LIMIT 1")) {
      return !any.next();
    }
  }

  /**
   * Brings an existing target up to the model: adds the model's new fields as columns, and widens
   * int columns the model now declares long and decimals it declares wider.
   */
  void evolve(Statement statement, Dialect dialect, List<Schema.Field> fields) throws SQLException {
    Map<String, int[]> existing = new HashMap<>();
    try (ResultSet result =
        statement.executeQuery("SELECT * FROM " + dialect.quote(table) + " WHERE 1 = 0")) {
      ResultSetMetaData meta = result.getMetaData();
      for (int c = 1; c <= meta.getColumnCount(); c++) {
        existing.put(
            meta.getColumnName(c).toLowerCase(Locale.ROOT),
            new int[] {meta.getColumnType(c), meta.getPrecision(c), meta.getScale(c)});
      }
    }
    for (Schema.Field field : fields) {
      int[] column = existing.get(field.getName().toLowerCase(Locale.ROOT));
      if (column == null) {
        statement.execute(dialect.addColumn(table, field));
        continue;
      }
      ModelTypes.Kind kind = ModelTypes.kind(field);
      boolean widerInt =
          kind == ModelTypes.Kind.LONG
              && (column[0] == Types.INTEGER || column[0] == Types.SMALLINT);
      boolean widerDecimal =
          kind == ModelTypes.Kind.DECIMAL
              && (column[0] == Types.DECIMAL || column[0] == Types.NUMERIC)
              && (ModelTypes.scale(field) > column[2]
                  || ModelTypes.precision(field) - ModelTypes.scale(field) > column[1] - column[2]);
      if (widerInt || widerDecimal) {
        statement.execute(dialect.widenColumn(table, field));
      }
    }
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("mode", mode.specName()));
    builder.addIfNotNull(DisplayData.item("versionColumn", versionColumn));
    if (history != null) {
      builder.add(DisplayData.item("history", history.toString()));
    }
    if (changes != null) {
      builder.add(DisplayData.item("changes", "upserts and deletes by key"));
    }
    builder.add(
        DisplayData.item(
            "commit",
            perBundle
                ? "per bundle"
                : "one transaction" + (keepsMarks() ? " with the read marks" : "")));
  }

  /**
   * The error of a commit that failed, naming the sink, the table and the database, after rolling
   * back. A rollback that fails too (the database went away: "This connection has been closed", or
   * DuckDB's "no transaction is active" after a full disk) must not hide the first cause.
   */
  SQLException failedCommit(Connection connection, SQLException cause) {
    try {
      connection.rollback();
    } catch (SQLException rollback) {
      cause.addSuppressed(rollback);
    }
    return failed("failed, and nothing of the load was committed", cause);
  }

  /**
   * The error of a load that failed {@code how}, naming the sink, the table and the database, and
   * the fix when the cause is a full disk.
   */
  SQLException failed(String how, Exception cause) {
    String message = JdbcLoadSteps.firstLine(cause);
    for (Throwable t = cause; t != null && t.getCause() != t; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        message =
            JdbcLoadSteps.firstLine(t)
                + " (the disk is full: free space where the database keeps its files"
                + (endpoint.dialect() == Dialect.DUCKDB ? " and its staging files, beside it" : "")
                + ")";
        break;
      }
    }
    return new SQLException(
        "sink "
            + sinkName
            + ": loading "
            + table
            + " into "
            + endpoint.describe()
            + " "
            + how
            + ": "
            + message,
        cause instanceof SQLException sql ? sql.getSQLState() : null,
        cause);
  }
}
