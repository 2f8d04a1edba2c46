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
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The workers of {@link JdbcSource}: splitting a whole table into key ranges ({@link KeyRangesFn})
 * and reading a query or one range of it into raw rows ({@link ReadFn}).
 */
final class JdbcReads {
  private JdbcReads() {}

  /**
   * Splits a table's query into key ranges: {@code WHERE key >= a AND key < b} over the span of an
   * integer key, plus one range for null keys. A key that is not an integer, or an empty table,
   * keeps the one query.
   */
  static final class KeyRangesFn extends DoFn<String, String> {
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

  static final class ReadFn extends DoFn<String, Row> {
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
            for (String stmt : JdbcSource.statements(script)) {
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
                            JdbcSource.STAGE,
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
