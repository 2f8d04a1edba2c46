package dev.watershed.pipelines.transform;

import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.SqlModelsSpec.SqlTest;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.pipelines.transform.SqlModels.SqlModel;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * Builds the SQL models inside the warehouse, in order, and runs their tests: the T of ELT.
 *
 * <ul>
 *   <li>{@code view}: the view is replaced in one transaction.
 *   <li>{@code table}: the query fills a table under a build name, which replaces the model's table
 *       in one transaction; a failed query leaves the previous table in place.
 *   <li>{@code incremental}: the first run builds the table; later runs merge the query's rows
 *       (only those with {@code incremental_column} at or after the table's newest, when one is
 *       named) by {@code unique_key}: the table's rows of those keys are replaced, in one
 *       transaction.
 * </ul>
 *
 * <p>A model that fails, or whose test that fails the run fails, is reported and its dependants are
 * skipped (their previous tables stay). Tests count failing rows: {@code not_null}, {@code unique},
 * {@code accepted_values}, {@code relationships} and custom SQL that returns them.
 */
public final class SqlTransform {
  /** A model's result: {@code built}, {@code failed} or {@code skipped}. */
  public record ModelResult(
      String name,
      String materialized,
      String status,
      long rows,
      double seconds,
      String error,
      List<String> refs) {}

  /** A test's result: failing rows (-1 when the test's query failed), up to five of them. */
  public record TestResult(
      String model, String name, boolean fail, long failed, List<String> samples, String error) {
    public boolean passed() {
      return failed == 0;
    }

    public boolean blocks() {
      return fail && !passed();
    }
  }

  /** What a transform did. */
  public record Outcome(List<ModelResult> models, List<TestResult> tests) {
    public static final Outcome NONE = new Outcome(List.of(), List.of());

    public boolean failed() {
      return models.stream().anyMatch(m -> m.status().equals("failed"));
    }

    /** A test that fails the run failed (exit code 3). */
    public boolean blocked() {
      return tests.stream().anyMatch(TestResult::blocks);
    }

    /** The models and tests as the summary shows them. */
    public String render() {
      if (models.isEmpty()) {
        return "";
      }
      StringBuilder out = new StringBuilder();
      out.append(
          String.format(
              "%n%-34s %-12s %-8s %10s %8s%n", "sql model", "materialized", "status", "rows", "s"));
      for (ModelResult m : models) {
        out.append(
            String.format(
                Locale.ROOT,
                "%-34s %-12s %-8s %10s %8.2f%n",
                m.name(),
                m.materialized(),
                m.status(),
                m.rows() < 0 ? "-" : String.valueOf(m.rows()),
                m.seconds()));
        if (m.error() != null) {
          out.append("  ").append(m.error()).append('\n');
        }
      }
      if (!tests.isEmpty()) {
        out.append(
            String.format(
                "%n%-34s %-40s %-10s %8s%n", "sql model", "test", "on failure", "failed"));
        for (TestResult t : tests) {
          out.append(
              String.format(
                  "%-34s %-40s %-10s %8s%n",
                  t.model(),
                  t.name(),
                  t.fail() ? "fail" : "warn",
                  t.failed() < 0 ? "error" : String.valueOf(t.failed())));
          if (t.error() != null) {
            out.append("  ").append(t.error()).append('\n');
          }
        }
      }
      return out.toString();
    }
  }

  private SqlTransform() {}

  /**
   * Builds every SQL model of {@code models} and runs the tests, telling {@code progress}; the
   * databases' messages pass through {@code redact} (which masks the spec's secrets).
   */
  public static Outcome run(
      SqlModels models, Consumer<String> progress, UnaryOperator<String> redact)
      throws SQLException {
    TableSink sink = models.sink();
    JdbcEndpoint endpoint = sink.endpoint(models.spec());
    Dialect dialect = endpoint.dialect();
    List<ModelResult> results = new ArrayList<>();
    List<TestResult> tests = new ArrayList<>();
    Set<String> skipped = new LinkedHashSet<>();
    try (Connection connection = endpoint.connect()) {
      for (SqlModel model : models.inOrder()) {
        if (skipped.contains(model.name())) {
          results.add(
              new ModelResult(
                  model.name(),
                  model.materialized(),
                  "skipped",
                  -1,
                  0,
                  "skipped: " + String.join(", ", failedRefs(model, results)) + " failed",
                  model.refs()));
          continue;
        }
        long start = System.nanoTime();
        String error = null;
        long rows = -1;
        try {
          rows = build(connection, sink, dialect, model);
        } catch (SQLException e) {
          rollback(connection);
          error = "failed: " + redact.apply(firstLine(e.getMessage()));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        boolean blocked = false;
        if (error == null) {
          for (SqlTest test :
              models.spec().sqlModels().tests().getOrDefault(model.name(), List.of())) {
            TestResult result = test(connection, sink, dialect, model.name(), test, redact);
            tests.add(result);
            blocked |= result.blocks() || (result.failed() < 0 && test.fail());
          }
        }
        results.add(
            new ModelResult(
                model.name(),
                model.materialized(),
                error == null ? "built" : "failed",
                rows,
                seconds,
                error,
                model.refs()));
        progress.accept(
            "sql model "
                + model.name()
                + ": "
                + (error == null ? "built" : error)
                + (blocked ? " (a test failed: its dependants are skipped)" : ""));
        if (error != null || blocked) {
          skipped.addAll(models.dependantsOf(model.name()));
        }
      }
    }
    return new Outcome(List.copyOf(results), List.copyOf(tests));
  }

  private static List<String> failedRefs(SqlModel model, List<ModelResult> results) {
    List<String> out = new ArrayList<>();
    for (ModelResult result : results) {
      if (model.refs().contains(result.name()) && !result.status().equals("built")) {
        out.add(result.name());
      }
    }
    return out.isEmpty() ? List.of("a model it depends on") : out;
  }

  private static long build(Connection connection, TableSink sink, Dialect dialect, SqlModel model)
      throws SQLException {
    String target = sink.tableOf(model.name());
    String sql =
        model
            .template()
            .render(
                b ->
                    switch (b.function()) {
                      case "ref" -> dialect.quote(sink.tableOf(b.args().get(0)));
                      case "this" -> dialect.quote(target);
                      default -> "";
                    })
            .strip()
            .replaceFirst(";\\s*$", "");
    String type = relationType(connection, sink, model.name());
    if (model.materialized().equals("view")) {
      connection.setAutoCommit(false);
      drop(connection, dialect, target, type);
      execute(connection, "CREATE VIEW " + dialect.quote(target) + " AS " + sql);
      connection.commit();
      connection.setAutoCommit(true);
      return -1;
    }
    if (model.materialized().equals("incremental") && "TABLE".equals(type)) {
      return merge(connection, sink, dialect, model, target, sql);
    }
    // A table: built under another name, then swapped in.
    String build = target + "__ws_build";
    connection.setAutoCommit(true);
    execute(connection, "DROP TABLE IF EXISTS " + dialect.quote(build));
    try {
      execute(connection, "CREATE TABLE " + dialect.quote(build) + " AS " + sql);
    } catch (SQLException e) {
      execute(connection, "DROP TABLE IF EXISTS " + dialect.quote(build));
      throw e;
    }
    long rows = count(connection, dialect.quote(build));
    connection.setAutoCommit(false);
    if (dialect == Dialect.POSTGRES
        && "TABLE".equals(type)
        && columns(connection, dialect.quote(target))
            .equals(columns(connection, dialect.quote(build)))) {
      // PostgreSQL binds views to the table itself: refilled in place (same columns), the views
      // that read it stay, those of skipped dependants included.
      execute(connection, "TRUNCATE " + dialect.quote(target));
      execute(
          connection,
          "INSERT INTO " + dialect.quote(target) + " SELECT * FROM " + dialect.quote(build));
      execute(connection, "DROP TABLE " + dialect.quote(build));
      connection.commit();
      connection.setAutoCommit(true);
      return rows;
    }
    drop(connection, dialect, target, type);
    execute(
        connection,
        "ALTER TABLE " + dialect.quote(build) + " RENAME TO " + dialect.quote(model.name()));
    connection.commit();
    connection.setAutoCommit(true);
    return rows;
  }

  /** An incremental model's new rows merged by its key; the rows merged. */
  private static long merge(
      Connection connection,
      TableSink sink,
      Dialect dialect,
      SqlModel model,
      String target,
      String sql)
      throws SQLException {
    String q = dialect.quote(target);
    String select = sql;
    if (model.incrementalColumn() != null) {
      String column = dialect.quote(model.incrementalColumn());
      select =
          "SELECT * FROM ("
              + sql
              + ") ws_new WHERE (SELECT MAX("
              + column
              + ") FROM "
              + q
              + ") IS NULL OR ws_new."
              + column
              + " >= (SELECT MAX("
              + column
              + ") FROM "
              + q
              + ")";
    }
    String stage = dialect.quote(target + "__ws_new");
    connection.setAutoCommit(true);
    execute(connection, "DROP TABLE IF EXISTS " + stage);
    execute(connection, "CREATE TABLE " + stage + " AS " + select);
    try {
      List<String> columns = new ArrayList<>();
      try (Statement statement = connection.createStatement();
          ResultSet empty = statement.executeQuery("SELECT * FROM " + stage + " WHERE 1 = 0")) {
        ResultSetMetaData meta = empty.getMetaData();
        for (int i = 1; i <= meta.getColumnCount(); i++) {
          columns.add(dialect.quote(meta.getColumnName(i)));
        }
      }
      String matches =
          model.uniqueKey().stream()
              .map(k -> "n." + dialect.quote(k) + " = " + q + "." + dialect.quote(k))
              .collect(Collectors.joining(" AND "));
      connection.setAutoCommit(false);
      execute(
          connection,
          "DELETE FROM "
              + q
              + " WHERE EXISTS (SELECT 1 FROM "
              + stage
              + " n WHERE "
              + matches
              + ")");
      String list = String.join(", ", columns);
      execute(connection, "INSERT INTO " + q + " (" + list + ") SELECT " + list + " FROM " + stage);
      connection.commit();
      connection.setAutoCommit(true);
      return count(connection, stage);
    } finally {
      connection.setAutoCommit(true);
      execute(connection, "DROP TABLE IF EXISTS " + stage);
    }
  }

  private static TestResult test(
      Connection connection,
      TableSink sink,
      Dialect dialect,
      String model,
      SqlTest test,
      UnaryOperator<String> redact) {
    String table = dialect.quote(sink.tableOf(model));
    String column = test.column() == null ? null : dialect.quote(test.column());
    String failing =
        switch (test.kind()) {
          case "not_null" -> "SELECT * FROM " + table + " WHERE " + column + " IS NULL";
          case "unique" ->
              "SELECT * FROM "
                  + table
                  + " WHERE "
                  + column
                  + " IN (SELECT "
                  + column
                  + " FROM "
                  + table
                  + " WHERE "
                  + column
                  + " IS NOT NULL GROUP BY "
                  + column
                  + " HAVING COUNT(*) > 1)";
          case "accepted_values" ->
              "SELECT * FROM "
                  + table
                  + " WHERE "
                  + column
                  + " IS NOT NULL AND CAST("
                  + column
                  + " AS VARCHAR(4000)) NOT IN ("
                  + test.values().stream()
                      .map(v -> "'" + v.replace("'", "''") + "'")
                      .collect(Collectors.joining(", "))
                  + ")";
          case "relationships" -> {
            String[] to = test.to().split("\\.");
            yield "SELECT * FROM "
                + table
                + " x WHERE x."
                + column
                + " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                + dialect.quote(sink.tableOf(to[0]))
                + " y WHERE y."
                + dialect.quote(to[1])
                + " = x."
                + column
                + ")";
          }
          default ->
              SqlTemplate.parse(test.sql())
                  .render(
                      b ->
                          b.function().equals("ref")
                              ? dialect.quote(sink.tableOf(b.args().get(0)))
                              : table)
                  .strip()
                  .replaceFirst(";\\s*$", "");
        };
    try {
      long failed = count(connection, "(" + failing + ") ws_failing");
      List<String> samples = new ArrayList<>();
      if (failed > 0) {
        try (Statement statement = connection.createStatement()) {
          statement.setMaxRows(5);
          try (ResultSet rows = statement.executeQuery(failing)) {
            int columns = rows.getMetaData().getColumnCount();
            while (rows.next()) {
              List<String> values = new ArrayList<>();
              for (int i = 1; i <= columns; i++) {
                values.add(rows.getMetaData().getColumnName(i) + "=" + rows.getString(i));
              }
              samples.add(String.join(", ", values));
            }
          }
        }
      }
      return new TestResult(model, test.name(), test.fail(), failed, samples, null);
    } catch (SQLException e) {
      rollback(connection);
      return new TestResult(
          model,
          test.name(),
          test.fail(),
          -1,
          List.of(),
          "the test's query failed: " + redact.apply(firstLine(e.getMessage())));
    }
  }

  /** {@code TABLE}, {@code VIEW}, or null when the relation is not there. */
  private static String relationType(Connection connection, TableSink sink, String name)
      throws SQLException {
    String schema = sink.schema() != null ? sink.schema() : connection.getSchema();
    DatabaseMetaData meta = connection.getMetaData();
    try (ResultSet tables = meta.getTables(null, schema, name, null)) {
      while (tables.next()) {
        String type = tables.getString("TABLE_TYPE").toUpperCase(Locale.ROOT);
        if (type.contains("VIEW")) {
          return "VIEW";
        }
        if (type.contains("TABLE")) {
          return "TABLE";
        }
      }
    }
    return null;
  }

  private static void drop(Connection connection, Dialect dialect, String target, String type)
      throws SQLException {
    if (type == null) {
      return;
    }
    // PostgreSQL refuses to drop what views depend on (a table whose columns changed): those are
    // SQL models built after this one.
    String cascade = dialect == Dialect.POSTGRES ? " CASCADE" : "";
    execute(connection, "DROP " + type + " " + dialect.quote(target) + cascade);
  }

  /** A relation's columns, names and types, in order. */
  private static List<String> columns(Connection connection, String relation) throws SQLException {
    List<String> columns = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet empty = statement.executeQuery("SELECT * FROM " + relation + " WHERE 1 = 0")) {
      ResultSetMetaData meta = empty.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnName(i) + " " + meta.getColumnTypeName(i));
      }
    }
    return columns;
  }

  private static long count(Connection connection, String relation) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT COUNT(*) FROM " + relation)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  private static void rollback(Connection connection) {
    try {
      if (!connection.getAutoCommit()) {
        connection.rollback();
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      // The connection's state is reported by the next statement.
    }
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.strip().split("\\R")[0];
  }
}
