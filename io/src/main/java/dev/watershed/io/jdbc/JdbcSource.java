package dev.watershed.io.jdbc;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.records.IsoText;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
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

  private final String sourceName;
  private final JdbcEndpoint endpoint;
  private final String table;
  private final String query;
  private final List<String> parameters;
  private final List<String> columns;
  private final List<String> keyColumns;
  private final String initSqlPath;
  private final int fetchSize;
  private final Set<String> missingColumns;
  private final int partitions;

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
                  ParDo.of(new KeyRangesFn(endpoint, table, keyColumns.get(0), partitions)))
              .setCoder(StringUtf8Coder.of())
              .apply("SpreadRanges", Reshuffle.viaRandomKey());
    }
    PCollectionTuple out =
        queries.apply(
            "ReadRows",
            ParDo.of(new ReadFn(this, schema, rows, dead))
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

  /**
   * Splits a table's query into key ranges: {@code WHERE key >= a AND key < b} over the span of an
   * integer key, plus one range for null keys. A key that is not an integer, or an empty table,
   * keeps the one query.
   */
  private static final class KeyRangesFn extends DoFn<String, String> {
    private final JdbcEndpoint endpoint;
    private final String table;
    private final String key;
    private final int partitions;

    KeyRangesFn(JdbcEndpoint endpoint, String table, String key, int partitions) {
      this.endpoint = endpoint;
      this.table = table;
      this.key = key;
      this.partitions = partitions;
    }

    @ProcessElement
    public void process(@Element String sql, OutputReceiver<String> out) throws SQLException {
      Dialect dialect = endpoint.dialect();
      String column = dialect.quote(key);
      Long low = null;
      Long high = null;
      try (Connection connection = endpoint.connect();
          Statement statement = connection.createStatement();
          ResultSet span =
              statement.executeQuery(
                  "SELECT min(" + column + "), max(" + column + ") FROM " + dialect.quote(table))) {
        span.next();
        Object min = span.getObject(1);
        Object max = span.getObject(2);
        boolean integral =
            min instanceof Long
                || min instanceof Integer
                || min instanceof Short
                || min instanceof BigInteger;
        if (integral && max != null) {
          low = ((Number) min).longValue();
          high = ((Number) max).longValue();
        }
      } catch (SQLException e) {
        low = null; // the one query then reports the problem as it reads
      }
      if (low == null) {
        out.output(sql);
        return;
      }
      long span = high - low + 1;
      long step = Math.max(1, (span + partitions - 1) / partitions);
      for (long from = low; from <= high; from += step) {
        long to = from + step;
        out.output(
            sql
                + " WHERE "
                + column
                + " >= "
                + from
                + (to <= high ? " AND " + column + " < " + to : ""));
        if (to > high || to < from) {
          break;
        }
      }
      out.output(sql + " WHERE " + column + " IS NULL");
    }
  }

  private static final class ReadFn extends DoFn<String, Row> {
    private final String sourceName;
    private final JdbcEndpoint endpoint;
    private final String initSqlPath;
    private final int fetchSize;
    private final List<String> parameters;
    private final String where;
    private final List<String> keyColumns;
    private final Schema schema;
    private final TupleTag<Row> rows;
    private final TupleTag<Row> dead;
    private final Counter read;

    ReadFn(JdbcSource source, Schema schema, TupleTag<Row> rows, TupleTag<Row> dead) {
      this.sourceName = source.sourceName;
      this.endpoint = source.endpoint;
      this.initSqlPath = source.initSqlPath;
      this.fetchSize = source.fetchSize;
      this.parameters = source.parameters;
      this.where = source.table != null ? source.table : "query";
      this.keyColumns = source.keyColumns;
      this.schema = schema;
      this.rows = rows;
      this.dead = dead;
      this.read = RunCounters.counter("source." + sourceName + ".read");
    }

    @ProcessElement
    public void process(@Element String sql, MultiOutputReceiver out) throws Exception {
      int dataColumns = schema.getFieldCount() - 3;
      try (Connection connection = endpoint.connect()) {
        if (initSqlPath != null) {
          String script = Files.readString(Path.of(initSqlPath), StandardCharsets.UTF_8);
          try (Statement statement = connection.createStatement()) {
            for (String stmt : statements(script)) {
              statement.execute(stmt);
            }
          }
        }
        connection.setAutoCommit(false);
        try (PreparedStatement statement =
            connection.prepareStatement(
                sql, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY)) {
          statement.setFetchSize(fetchSize);
          for (int i = 0; i < parameters.size(); i++) {
            if (endpoint.dialect() == Dialect.POSTGRES) {
              // Untyped, as a literal would be: the server reads it as the compared column's type.
              statement.setObject(i + 1, parameters.get(i), Types.OTHER);
            } else {
              statement.setString(i + 1, parameters.get(i));
            }
          }
          try (ResultSet result = statement.executeQuery()) {
            ResultSetMetaData meta = result.getMetaData();
            int[] kinds = new int[dataColumns + 1];
            boolean postgres = endpoint.dialect() == Dialect.POSTGRES;
            for (int c = 1; c <= dataColumns; c++) {
              kinds[c] = kind(meta.getColumnType(c), meta.getColumnTypeName(c), postgres);
            }
            long rowNumber = 0;
            while (result.next()) {
              rowNumber++;
              List<Object> values = new ArrayList<>(dataColumns + 3);
              String failure = null;
              for (int c = 1; c <= dataColumns; c++) {
                String value;
                try {
                  value = text(result, c, kinds[c]);
                } catch (SQLException | RuntimeException e) {
                  value = null;
                  failure = meta.getColumnName(c) + ": " + e.getMessage();
                }
                values.add(value);
              }
              String position = position(values, rowNumber);
              read.inc();
              if (failure != null) {
                out.get(dead)
                    .output(
                        DeadLetter.of(
                            STAGE,
                            "unreadable value",
                            failure,
                            sourceName,
                            position,
                            payload(values)));
                continue;
              }
              values.add(sourceName);
              values.add(position);
              // The row's columns are its payload: a dead letter writes them as JSON when needed.
              values.add(null);
              out.get(rows).output(Row.withSchema(schema).attachValues(values));
            }
          }
        }
        connection.commit();
      }
    }

    /** The values read so far as the JSON object a dead letter carries. */
    private String payload(List<Object> values) {
      StringBuilder json = new StringBuilder(256).append('{');
      for (int i = 0; i < values.size(); i++) {
        RawRecords.appendJsonField(
            json, i == 0, schema.getField(i).getName(), (String) values.get(i));
      }
      return json.append('}').toString();
    }

    private String position(List<Object> values, long rowNumber) {
      if (keyColumns.isEmpty()) {
        return where + " row " + rowNumber;
      }
      StringBuilder position = new StringBuilder(where);
      String separator = " ";
      for (String key : keyColumns) {
        position.append(separator).append(key).append('=').append(values.get(schema.indexOf(key)));
        separator = ",";
      }
      return position.toString();
    }

    /** A PostgreSQL {@code timestamptz}: read as the server's text, rewritten when in UTC. */
    private static final int POSTGRES_TIMESTAMPTZ = Integer.MIN_VALUE;

    /** A PostgreSQL {@code numeric}: the server writes it in plain notation already. */
    private static final int POSTGRES_NUMERIC = Integer.MIN_VALUE + 1;

    /**
     * How to read a column: drivers differ in the type codes they report (pgjdbc reports {@code
     * timestamptz} as TIMESTAMP), so the type name is consulted too.
     */
    private static int kind(int sqlType, String typeName, boolean postgres) {
      String name = typeName == null ? "" : typeName.toLowerCase(Locale.ROOT);
      if (postgres && name.equals("timestamptz")) {
        return POSTGRES_TIMESTAMPTZ;
      }
      if (postgres && name.equals("numeric")) {
        return POSTGRES_NUMERIC;
      }
      if (sqlType == Types.TIMESTAMP_WITH_TIMEZONE
          || name.equals("timestamptz")
          || name.contains("with time zone")) {
        return Types.TIMESTAMP_WITH_TIMEZONE;
      }
      return sqlType;
    }

    private static String text(ResultSet result, int column, int sqlType) throws SQLException {
      switch (sqlType) {
        case POSTGRES_TIMESTAMPTZ:
          // Parsing the server's text into an OffsetDateTime was a tenth of a read's CPU.
          String text = result.getString(column);
          if (text == null) {
            return null;
          }
          String utc = PostgresText.utcTimestamp(text);
          if (utc != null) {
            return utc;
          }
          return IsoText.instant(result.getObject(column, OffsetDateTime.class).toInstant());
        case POSTGRES_NUMERIC:
          return result.getString(column);
        case Types.TIMESTAMP_WITH_TIMEZONE:
          OffsetDateTime offset = result.getObject(column, OffsetDateTime.class);
          return offset == null ? null : IsoText.instant(offset.toInstant());
        case Types.TIMESTAMP:
          LocalDateTime local = result.getObject(column, LocalDateTime.class);
          return local == null ? null : IsoText.localDateTime(local);
        case Types.DATE:
          LocalDate date = result.getObject(column, LocalDate.class);
          return date == null ? null : date.toString();
        case Types.DECIMAL:
        case Types.NUMERIC:
          BigDecimal decimal = result.getBigDecimal(column);
          return decimal == null ? null : decimal.toPlainString();
        default:
          return result.getString(column);
      }
    }
  }
}
