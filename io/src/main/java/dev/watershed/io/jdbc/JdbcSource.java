package dev.watershed.io.jdbc;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads a table or query from PostgreSQL, MariaDB or DuckDB into raw rows ({@link RawRecords}).
 *
 * <p>The query runs once, streamed with a fetch size and autocommit off (so PostgreSQL uses a
 * cursor instead of loading the whole result), and its rows are emitted without Beam's default
 * whole-result reshuffle. Values are read as text in a stable form: timestamps as ISO-8601 instants
 * (or local date-times for columns without a zone), dates as {@code yyyy-MM-dd}, decimals in plain
 * notation, so {@code Conform} types them like any other source. Positions name the table and the
 * key columns' values ({@code accounts id=42}).
 *
 * <p>{@link #withInitSql} runs a SQL script on the connection first: with {@code jdbc:duckdb:} (an
 * in-memory database) this builds a source database from a script at run time.
 *
 * <pre>{@code
 * pipeline.apply(
 *     JdbcSource.read("billing", JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/billing"))
 *         .fromTable("public.accounts")
 *         .withColumns(List.of("id", "email", "balance"))
 *         .withKeyColumns(List.of("id")));
 * }</pre>
 */
public final class JdbcSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  /** The stage written into this source's dead letters. */
  public static final String STAGE = "extract";

  /** Default rows per fetch round trip. */
  public static final int DEFAULT_FETCH_SIZE = 10_000;

  final String sourceName;
  final JdbcEndpoint endpoint;
  final String table;
  final String query;
  final List<String> parameters;
  final List<String> columns;
  final List<String> keyColumns;
  final String initSqlPath;
  final int fetchSize;
  final Set<String> missingColumns;
  final int partitions;

  private JdbcSource(
      String sourceName,
      JdbcEndpoint endpoint,
      String table,
      String query,
      List<String> parameters,
      List<String> columns,
      List<String> keyColumns,
      String initSqlPath,
      int fetchSize,
      Set<String> missingColumns,
      int partitions) {
    this.partitions = partitions;
    this.sourceName = sourceName;
    this.endpoint = endpoint;
    this.table = table;
    this.query = query;
    this.parameters = parameters;
    this.columns = columns;
    this.keyColumns = keyColumns;
    this.initSqlPath = initSqlPath;
    this.fetchSize = fetchSize;
    this.missingColumns = missingColumns;
  }

  public static JdbcSource read(String sourceName, JdbcEndpoint endpoint) {
    return new JdbcSource(
        sourceName,
        endpoint,
        null,
        null,
        List.of(),
        List.of(),
        List.of(),
        null,
        DEFAULT_FETCH_SIZE,
        Set.of(),
        1);
  }

  /** Reads a table ({@code name} or {@code schema.name}). */
  public JdbcSource fromTable(String tableName) {
    return new JdbcSource(
        sourceName,
        endpoint,
        tableName,
        null,
        List.of(),
        columns,
        keyColumns,
        initSqlPath,
        fetchSize,
        missingColumns,
        partitions);
  }

  /** Reads the rows of a query. */
  public JdbcSource fromQuery(String sql) {
    return fromQuery(sql, List.of());
  }

  /**
   * Reads the rows of a query with {@code ?} placeholders, bound to {@code values} in order as text
   * the database converts to each column's type: values never become SQL.
   */
  public JdbcSource fromQuery(String sql, List<String> values) {
    return new JdbcSource(
        sourceName,
        endpoint,
        null,
        sql,
        List.copyOf(values),
        columns,
        keyColumns,
        initSqlPath,
        fetchSize,
        missingColumns,
        partitions);
  }

  /** The columns to read; required. */
  public JdbcSource withColumns(List<String> columnNames) {
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        List.copyOf(columnNames),
        keyColumns,
        initSqlPath,
        fetchSize,
        missingColumns,
        partitions);
  }

  /**
   * Reads a table in this many key ranges, in parallel, when its key is one integer column (else,
   * and for queries, in one read). The ranges split the key's span evenly; rows with a null key are
   * read by a range of their own.
   */
  public JdbcSource withPartitions(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("partitions must be positive, got " + count);
    }
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        columns,
        keyColumns,
        initSqlPath,
        fetchSize,
        missingColumns,
        count);
  }

  /** Columns that identify a row, used in positions for dead letters. */
  public JdbcSource withKeyColumns(List<String> columnNames) {
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        columns,
        List.copyOf(columnNames),
        initSqlPath,
        fetchSize,
        missingColumns,
        partitions);
  }

  /** A SQL script (a file of statements separated by {@code ;}) run before the read. */
  public JdbcSource withInitSql(String path) {
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        columns,
        keyColumns,
        path,
        fetchSize,
        missingColumns,
        partitions);
  }

  public JdbcSource withFetchSize(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("fetch size must be positive, got " + rows);
    }
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        columns,
        keyColumns,
        initSqlPath,
        rows,
        missingColumns,
        partitions);
  }

  /**
   * Columns the source no longer has (schema drift under an allowing policy): they are read as null
   * instead of failing the query.
   */
  public JdbcSource withMissingColumns(Set<String> columnNames) {
    return new JdbcSource(
        sourceName,
        endpoint,
        table,
        query,
        parameters,
        columns,
        keyColumns,
        initSqlPath,
        fetchSize,
        Set.copyOf(columnNames),
        partitions);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    if ((table == null) == (query == null)) {
      throw new IllegalArgumentException(
          "JdbcSource " + sourceName + " needs exactly one of fromTable and fromQuery");
    }
    if (columns.isEmpty()) {
      throw new IllegalArgumentException("JdbcSource " + sourceName + " needs withColumns(...)");
    }
    List<String> readColumns = new ArrayList<>(columns);
    for (String key : keyColumns) {
      if (!readColumns.contains(key)) {
        readColumns.add(key);
      }
    }
    Dialect dialect = endpoint.dialect();
    String from = table != null ? dialect.quote(table) : "(" + query + ") q";
    List<String> selected = new ArrayList<>();
    for (String column : readColumns) {
      selected.add(
          missingColumns.contains(column)
              ? "NULL AS " + dialect.quote(column)
              : dialect.quote(column));
    }
    String sql = "SELECT " + String.join(", ", selected) + " FROM " + from;
    Schema schema = RawRecords.schema(readColumns);
    TupleTag<Row> rows = new TupleTag<>("rows");
    TupleTag<Row> dead = new TupleTag<>("dead_letters");
    PCollection<String> queries = input.apply("Query", Create.of(sql));
    // An in-memory database built by init SQL exists only inside each read: no ranges there.
    if (partitions > 1 && table != null && keyColumns.size() == 1 && initSqlPath == null) {
      queries =
          queries
              .apply(
                  "KeyRanges",
                  ParDo.of(
                      new JdbcReads.KeyRangesFn(endpoint, table, keyColumns.get(0), partitions)))
              .setCoder(StringUtf8Coder.of())
              .apply("SpreadRanges", Reshuffle.viaRandomKey());
    }
    PCollectionTuple out =
        queries.apply(
            "ReadRows",
            ParDo.of(new JdbcReads.ReadFn(this, schema, rows, dead))
                .withOutputTags(rows, TupleTagList.of(dead)));
    return WithFailures.Result.of(
        out.get(rows).setRowSchema(schema), out.get(dead).setRowSchema(DeadLetter.SCHEMA));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.addIfNotNull(DisplayData.item("table", table));
    builder.addIfNotNull(DisplayData.item("query", query));
    builder.add(DisplayData.item("fetchSize", fetchSize));
    if (!parameters.isEmpty()) {
      // Marks bound to the query (an incremental read's range): values, never credentials.
      builder.add(DisplayData.item("parameters", parameters.toString()));
    }
  }

  /** Splits a script into statements on semicolons at line ends. */
  public static List<String> statements(String script) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        statements.add(current.toString().strip().replaceAll(";$", ""));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      statements.add(current.toString().strip());
    }
    return statements;
  }
}
