package dev.watershed.io.jdbc;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.dedupe.LastKnownValues;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.CanonicalModel;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.GlobalWindow;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Instant;

/**
 * The workers of a {@link JdbcLoad}: staging rows per worker ({@link StageFn}), gathering what was
 * staged ({@link Staged}), the one commit that moves it into the target ({@link CommitFn}), and the
 * per-bundle apply of streaming runs ({@link BundleApplyFn}).
 */
final class JdbcLoadSteps {
  private JdbcLoadSteps() {}

  /**
   * Writes rows into a staging table of its own (one per worker), created on first use, and emits
   * after each bundle the table's name and the rows written in the bundle.
   */
  static final class StageFn extends DoFn<Row, KV<String, Long>> {
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
            synchronized (JdbcLoad.PREPARE_LOCK) {
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
  static final class Staged
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
  static final class CommitFn extends DoFn<Map<String, Long>, Long> {
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
        JdbcLoad.LOG.info(
            "sink {}: the quality gate is closed; nothing loaded into {}",
            load.sinkName,
            load.table);
        context.output(0L);
        return;
      }
      List<String> names = new ArrayList<>();
      for (Schema.Field field : JdbcLoad.columns(load.model)) {
        names.add(field.getName());
      }
      long rows = staged.values().stream().mapToLong(Long::longValue).sum();
      long started = System.nanoTime();
      try (Connection connection = load.endpoint.connect()) {
        load.prepareTarget(connection);
        connection.setAutoCommit(false);
        for (int attempt = 1; ; attempt++) {
          try {
            commit(connection, dialect, staged, names, marks(context));
            break;
          } catch (SQLException e) {
            if (attempt >= COMMIT_ATTEMPTS || !isConflict(e)) {
              throw load.failedCommit(connection, e);
            }
            connection.rollback();
            JdbcLoad.LOG.warn(
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
      JdbcLoad.LOG.info(
          "sink {}: committed {} staged rows into {} in {} ({} ms)",
          load.sinkName,
          rows,
          load.table,
          load.endpoint.describe(),
          (System.nanoTime() - started) / 1_000_000);
      loaded.inc(rows);
      context.output(rows);
    }

    /** The marks to commit: those planned, replaced by those found in the data where found. */
    private Map<String, String> marks(ProcessContext context) {
      Map<String, String> marks = new TreeMap<>(load.marks);
      for (Map.Entry<String, PCollectionView<String>> found : load.foundMarks.entrySet()) {
        String mark = context.sideInput(found.getValue());
        if (mark != null) {
          marks.put(found.getKey(), mark);
        }
      }
      return marks;
    }

    /** Moves every staged row into the target (and saves the run's marks), then commits. */
    private void commit(
        Connection connection,
        Dialect dialect,
        Map<String, Long> staged,
        List<String> names,
        Map<String, String> marks)
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
        if (!marks.isEmpty()) {
          RunState.save(connection, dialect, load.pipeline, load.table, marks);
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
  static void pause(int attempt) throws SQLException {
    try {
      Thread.sleep(500L << (attempt - 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting to try a commit again", e);
    }
  }

  static String firstLine(Throwable cause) {
    String message =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  /** Drops a batch staging table (for DuckDB, its view and file). */
  static void dropStaging(Connection connection, Dialect dialect, String staging)
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
  static final class BundleApplyFn extends DoFn<Row, Long> {
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
      synchronized (JdbcLoad.PREPARE_LOCK) {
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
          JdbcLoad.APPLY_LOCKS.computeIfAbsent(
              load.endpoint.url() + " " + load.table, k -> new Object())) {
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
      for (Schema.Field field : JdbcLoad.columns(load.model)) {
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
