package dev.watershed.io.jdbc;

import dev.watershed.io.Staging;
import dev.watershed.io.WriteMode;
import dev.watershed.transforms.dedupe.LastKnownValues;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
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
  private static final Logger LOG = LoggerFactory.getLogger(JdbcLoad.class);
  private final JdbcEndpoint endpoint;
  private final String table;
  private final CanonicalModel model;
  private WriteMode mode = WriteMode.APPEND;
  private String versionColumn;
  private String sinkName = "jdbc";
  private PCollectionView<Boolean> gate;
  private Scd2 history;
  private ChangeApply changes;
  private String statePipeline;
  private Map<String, String> marks = Map.of();
  private boolean perBundle;
  private String pipeline;

  private JdbcLoad(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    this.endpoint = endpoint;
    this.table = table;
    this.model = model;
  }

  private JdbcLoad copy() {
    JdbcLoad copy = new JdbcLoad(endpoint, table, model);
    copy.mode = mode;
    copy.versionColumn = versionColumn;
    copy.sinkName = sinkName;
    copy.gate = gate;
    copy.history = history;
    copy.changes = changes;
    copy.statePipeline = statePipeline;
    copy.marks = marks;
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
    next.statePipeline = pipelineName;
    next.marks = new TreeMap<>(sourceMarks);
    return next;
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

  private List<Schema.Field> stagingFields() {
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
      if (mode != WriteMode.MERGE || gate != null || history != null || !marks.isEmpty()) {
        throw new IllegalArgumentException(
            "a per-bundle load merges (or applies changes) without a gate, history or marks");
      }
      return rows.apply(
          "ApplyBundles", ParDo.of(new BundleApplyFn(this, stagingPrefix, stagingFields())));
    }
    return rows.apply("WriteStaging", ParDo.of(new StageFn(this, stagingPrefix, stagingFields())))
        .apply("CollectStaged", Combine.globally(new Staged()))
        .apply("Commit", commit());
  }

  private ParDo.SingleOutput<Map<String, Long>, Long> commit() {
    ParDo.SingleOutput<Map<String, Long>, Long> commit = ParDo.of(new CommitFn(this));
    return gate == null ? commit : commit.withSideInputs(gate);
  }

  /**
   * Creates the target when missing and brings it up to the model; creates the tables that applying
   * changes and keeping state need.
   */
  private void prepareTarget(Connection connection) throws SQLException {
    // Workers of one JVM set up at the same time; DuckDB refuses two concurrent creates of one
    // table ("write-write conflict"), so they take turns.
    synchronized (PREPARE_LOCK) {
      prepareTargetAlone(connection);
    }
  }

  private static final Object PREPARE_LOCK = new Object();
  private static final ConcurrentMap<String, Object> APPLY_LOCKS = new ConcurrentHashMap<>();

  private void prepareTargetAlone(Connection connection) throws SQLException {
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
      if (!marks.isEmpty()) {
        statement.execute(RunState.create(dialect, table));
      }
    }
  }

  /**
   * The statements that move one staging table's rows into the target; {@code intoEmpty} when a
   * merge's target is known to be empty and locked, so rows are inserted without the upsert's
   * conflict check (staged rows hold one row per key).
   */
  private List<String> applyStatements(
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
  private boolean mergesIntoEmpty(Statement statement, Dialect dialect) throws SQLException {
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
  private void evolve(Statement statement, Dialect dialect, List<Schema.Field> fields)
      throws SQLException {
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
                : "one transaction" + (marks.isEmpty() ? "" : " with the read marks")));
  }

  /**
   * Writes rows into a staging table of its own (one per worker), created on first use, and emits
   * after each bundle the table's name and the rows written in the bundle.
   */
  private static final class StageFn extends DoFn<Row, KV<String, Long>> {
    private final JdbcLoad load;
    private final JdbcEndpoint endpoint;
    private final String stagingPrefix;
    private final List<Schema.Field> fields;
    private transient Connection connection;
    private transient String staging;
    private transient StagingWriter writer;

    StageFn(JdbcLoad load, String stagingPrefix, List<Schema.Field> fields) {
      this.load = load;
      this.endpoint = load.endpoint;
      this.stagingPrefix = stagingPrefix;
      this.fields = new ArrayList<>(fields);
    }

    @ProcessElement
    public void process(@Element Row row) throws SQLException {
      try {
        if (writer == null) {
          open();
        }
        writer.write(row);
      } catch (SQLException | UncheckedIOException e) {
        throw load.failed("failed while staging rows, and nothing of the load was committed", e);
      }
    }

    private void open() throws SQLException {
      boolean files = endpoint.dialect() == Dialect.DUCKDB;
      if (connection == null) {
        connection = endpoint.connect();
        staging = stagingPrefix + "_" + UUID.randomUUID().toString().substring(0, 8);
        if (files) {
          DuckDbStagingFiles.create(connection, staging, fields);
        } else {
          try (Statement statement = connection.createStatement()) {
            synchronized (PREPARE_LOCK) {
              endpoint.dialect().createSchemaOf(statement, staging);
            }
            statement.execute(endpoint.dialect().createStaging(staging, fields));
          }
        }
      }
      writer =
          files
              ? new DuckDbStagingFiles.CsvWriter(connection, staging, fields)
              : StagingWriter.open(endpoint.dialect(), connection, staging, fields);
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws SQLException {
      if (writer != null) {
        long written;
        try {
          written = writer.finish();
          writer.close();
        } catch (SQLException | UncheckedIOException e) {
          throw load.failed("failed while staging rows, and nothing of the load was committed", e);
        }
        writer = null;
        context.output(KV.of(staging, written), Instant.now(), GlobalWindow.INSTANCE);
      }
    }

    @Teardown
    public void teardown() throws SQLException {
      if (writer != null) {
        try {
          writer.close();
        } catch (SQLException | UncheckedIOException e) {
          // The bundle failed already; its staging is swept by the pipeline's next run.
        }
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
   * Creates the target when missing, then in one transaction moves every staged row into it (and
   * saves the run's marks), and drops the staging tables.
   */
  private static final class CommitFn extends DoFn<Map<String, Long>, Long> {
    private final JdbcLoad load;
    private final Counter loaded;
    private final Counter blocked;

    CommitFn(JdbcLoad load) {
      this.load = load;
      this.loaded = RunCounters.counter("load." + load.sinkName + "." + load.model.name());
      this.blocked = RunCounters.counter("blocked." + load.sinkName + "." + load.model.name());
    }

    @ProcessElement
    public void process(@Element Map<String, Long> staged, ProcessContext context)
        throws SQLException {
      Dialect dialect = load.endpoint.dialect();
      if (load.gate != null && !context.sideInput(load.gate)) {
        try (Connection connection = load.endpoint.connect()) {
          for (String staging : staged.keySet()) {
            dropStaging(connection, dialect, staging);
          }
        }
        blocked.inc(staged.values().stream().mapToLong(Long::longValue).sum());
        LOG.info(
            "sink {}: the quality gate is closed; nothing loaded into {}",
            load.sinkName,
            load.table);
        context.output(0L);
        return;
      }
      List<String> names = new ArrayList<>();
      for (Schema.Field field : columns(load.model)) {
        names.add(field.getName());
      }
      long rows = staged.values().stream().mapToLong(Long::longValue).sum();
      long started = System.nanoTime();
      try (Connection connection = load.endpoint.connect()) {
        load.prepareTarget(connection);
        connection.setAutoCommit(false);
        for (int attempt = 1; ; attempt++) {
          try {
            commit(connection, dialect, staged, names);
            break;
          } catch (SQLException e) {
            if (attempt >= COMMIT_ATTEMPTS || !isConflict(e)) {
              throw load.failedCommit(connection, e);
            }
            connection.rollback();
            LOG.warn(
                "sink {}: loading {} met a concurrent transaction ({}); attempt {} of {}",
                load.sinkName,
                load.table,
                e.getSQLState(),
                attempt + 1,
                COMMIT_ATTEMPTS);
            pause(attempt);
          }
        }
        connection.setAutoCommit(true);
        for (String staging : staged.keySet()) {
          dropStaging(connection, dialect, staging);
        }
      }
      LOG.info(
          "sink {}: committed {} staged rows into {} in {} ({} ms)",
          load.sinkName,
          rows,
          load.table,
          load.endpoint.describe(),
          (System.nanoTime() - started) / 1_000_000);
      loaded.inc(rows);
      context.output(rows);
    }

    /** Moves every staged row into the target (and saves the run's marks), then commits. */
    private void commit(
        Connection connection, Dialect dialect, Map<String, Long> staged, List<String> names)
        throws SQLException {
      try (Statement statement = connection.createStatement()) {
        if (load.history != null) {
          for (String sql :
              load.history.statements(
                  dialect, load.table, List.copyOf(staged.keySet()), names, load.model.key())) {
            statement.execute(sql);
          }
        } else {
          if (load.mode == WriteMode.OVERWRITE) {
            statement.execute(dialect.deleteAll(load.table));
          }
          List<String> stagings = new ArrayList<>(staged.keySet());
          if (load.changes != null && stagings.size() > 1) {
            // A truncate applies to every older change of the run, whichever worker staged it:
            // the changes are gathered into one staging table and applied together.
            if (dialect == Dialect.DUCKDB) {
              DuckDbStagingFiles.gather(
                  connection, stagings.get(0), stagings, load.stagingFields());
            } else {
              List<String> columns = new ArrayList<>();
              for (Schema.Field field : load.stagingFields()) {
                columns.add(field.getName());
              }
              for (String other : stagings.subList(1, stagings.size())) {
                statement.execute(dialect.insertFrom(stagings.get(0), other, columns));
              }
            }
            stagings = stagings.subList(0, 1);
          }
          boolean intoEmpty = load.mergesIntoEmpty(statement, dialect);
          for (String staging : stagings) {
            for (String sql : load.applyStatements(dialect, staging, names, intoEmpty)) {
              statement.execute(sql);
            }
          }
        }
        if (!load.marks.isEmpty()) {
          RunState.save(connection, dialect, load.statePipeline, load.table, load.marks);
        }
      }
      connection.commit();
    }
  }

  /** How often a commit that meets a concurrent transaction (deadlock, serialization) is tried. */
  static final int COMMIT_ATTEMPTS = 4;

  /**
   * A deadlock or serialization failure: the database rolled this transaction back so another could
   * go on; the same transaction tried again can succeed ({@code 40001}, and PostgreSQL's {@code
   * 40P01}; MariaDB reports its deadlocks as {@code 40001}).
   */
  static boolean isConflict(SQLException e) {
    String state = String.valueOf(e.getSQLState());
    return state.equals("40001") || state.equals("40P01");
  }

  /** Waits before attempt {@code attempt + 1}: 0.5 s, 1 s, 2 s. */
  private static void pause(int attempt) throws SQLException {
    try {
      Thread.sleep(500L << (attempt - 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting to try a commit again", e);
    }
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
    String message = firstLine(cause);
    for (Throwable t = cause; t != null && t.getCause() != t; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("No space left on device")) {
        message =
            firstLine(t)
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

  private static String firstLine(Throwable cause) {
    String message =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** Drops a batch staging table (for DuckDB, its view and file). */
  private static void dropStaging(Connection connection, Dialect dialect, String staging)
      throws SQLException {
    if (dialect == Dialect.DUCKDB) {
      DuckDbStagingFiles.drop(connection, staging);
      return;
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute(dialect.dropTable(staging));
    }
  }

  /**
   * For unbounded input: stages each bundle's rows in a table of this worker's and, when the bundle
   * finishes, applies them to the target and empties the staging table in one transaction.
   */
  private static final class BundleApplyFn extends DoFn<Row, Long> {
    private final JdbcLoad load;
    private final String stagingPrefix;
    private final List<Schema.Field> fields;
    private final Counter loaded;
    private transient Connection connection;
    private transient String staging;
    private transient Map<String, Row> pending;
    private transient long received;

    BundleApplyFn(JdbcLoad load, String stagingPrefix, List<Schema.Field> fields) {
      this.load = load;
      this.stagingPrefix = stagingPrefix;
      this.fields = new ArrayList<>(fields);
      this.loaded = RunCounters.counter("load." + load.sinkName + "." + load.model.name());
    }

    @Setup
    public void setup() throws SQLException {
      connection = load.endpoint.connect();
      load.prepareTarget(connection);
      staging = stagingPrefix + "_" + UUID.randomUUID().toString().substring(0, 8);
      synchronized (PREPARE_LOCK) {
        try (Statement statement = connection.createStatement()) {
          statement.execute(load.endpoint.dialect().createStaging(staging, fields));
        }
      }
      connection.setAutoCommit(false);
    }

    @StartBundle
    public void startBundle() {
      pending = new LinkedHashMap<>();
    }

    /**
     * Keeps one row per key within the bundle (an upsert statement may touch a row only once): the
     * newest by the version column, else the last to arrive; a delete that replaces a row keeps
     * that row's values ({@link LastKnownValues}).
     */
    @ProcessElement
    public void process(@Element Row row) {
      received++;
      String key = CanonicalModel.keyText(row, load.model.key());
      Row held = pending.get(key);
      if (held != null && load.versionColumn != null) {
        Comparable<Object> heldVersion = held.getValue(load.versionColumn);
        Object version = row.getValue(load.versionColumn);
        if (heldVersion != null && (version == null || heldVersion.compareTo(version) > 0)) {
          return;
        }
      }
      pending.put(key, LastKnownValues.carriedInto(row, held));
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) throws SQLException {
      if (pending.isEmpty()) {
        return;
      }
      // Bundles of one table apply one at a time in this JVM: two transactions changing one key
      // at once could otherwise interleave a delete and an older upsert (and DuckDB refuses
      // concurrent updates of a row outright). Beam does not promise that a key's changes reach
      // the same worker after a shuffle.
      synchronized (
          APPLY_LOCKS.computeIfAbsent(load.endpoint.url() + " " + load.table, k -> new Object())) {
        applyPending(context);
      }
    }

    private void applyPending(FinishBundleContext context) throws SQLException {
      StagingWriter writer =
          StagingWriter.open(load.endpoint.dialect(), connection, staging, fields);
      for (Row row : pending.values()) {
        writer.write(row);
      }
      pending.clear();
      Dialect dialect = load.endpoint.dialect();
      List<String> names = new ArrayList<>();
      for (Schema.Field field : columns(load.model)) {
        names.add(field.getName());
      }
      try {
        writer.finish();
        writer.close();
        try (Statement statement = connection.createStatement()) {
          for (String sql : load.applyStatements(dialect, staging, names, false)) {
            statement.execute(sql);
          }
          statement.execute(dialect.emptyStaging(staging));
        }
        connection.commit();
        // Rows superseded within the bundle count as loaded: the newer row took their place.
        loaded.inc(received);
        context.output(received, Instant.now(), GlobalWindow.INSTANCE);
        received = 0;
      } catch (SQLException e) {
        throw load.failedCommit(connection, e);
      }
    }

    @Teardown
    public void teardown() throws SQLException {
      if (connection != null) {
        connection.setAutoCommit(true);
        try (Statement statement = connection.createStatement()) {
          statement.execute(load.endpoint.dialect().dropTable(staging));
        } catch (SQLException e) {
          // The staging table is private to this worker; a leftover one holds no committed data.
        }
        connection.close();
      }
    }
  }
}
