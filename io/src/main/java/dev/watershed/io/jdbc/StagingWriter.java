package dev.watershed.io.jdbc;

import dev.watershed.transforms.model.ModelTypes;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;
import org.duckdb.DuckDBAppender;
import org.duckdb.DuckDBConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * Bulk-writes rows into a staging table with the fastest path each database offers: PostgreSQL
 * binary COPY, the DuckDB appender, and batched inserts for MariaDB.
 *
 * <p>One writer serves one bundle: {@link #write} rows, then {@link #finish}. The staging table is
 * invisible to readers of the target; {@link JdbcLoad} moves its rows into the target in one
 * transaction once every bundle is written.
 */
abstract class StagingWriter implements AutoCloseable {
  final Connection connection;
  final String table;
  final List<Schema.Field> fields;

  /** Each written field's kind and decimal scale, and its position in the rows' schema. */
  final ModelTypes.Kind[] kinds;

  final int[] scales;
  final FieldIndexes indexes;
  long rows;

  StagingWriter(Connection connection, String table, List<Schema.Field> fields) {
    this.connection = connection;
    this.table = table;
    this.fields = fields;
    this.kinds = new ModelTypes.Kind[fields.size()];
    this.scales = new int[fields.size()];
    for (int i = 0; i < kinds.length; i++) {
      kinds[i] = ModelTypes.kind(fields.get(i));
      scales[i] = ModelTypes.scale(fields.get(i));
    }
    this.indexes = new FieldIndexes(fields);
  }

  static StagingWriter open(
      Dialect dialect, Connection connection, String table, List<Schema.Field> fields)
      throws SQLException {
    switch (dialect) {
      case POSTGRES:
        return new PostgresCopy(connection, table, fields);
      case DUCKDB:
        return new DuckDbAppend(connection, table, fields);
      default:
        return new BatchedInsert(dialect, connection, table, fields);
    }
  }

  abstract void write(Row row) throws SQLException;

  /** Flushes what is buffered and returns the rows written by this writer. */
  abstract long finish() throws SQLException;

  @Override
  public void close() throws SQLException {}

  static LocalDateTime utc(Instant instant) {
    return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  /**
   * PostgreSQL {@code COPY ... FROM STDIN (FORMAT binary)}, streamed in chunks. The staging table
   * is created from the same fields ({@link Dialect#createStaging}), so every column's type is the
   * one written here: text as UTF-8, int4, int8, bool, numeric, date and timestamptz in
   * PostgreSQL's binary forms. Binary input saves the server parsing every value as text (measured:
   * a third of the server's time on a 2M-row COPY).
   */
  private static final class PostgresCopy extends StagingWriter {
    private static final int FLUSH_BYTES = 1 << 20;
    private static final byte[] HEADER = {
      'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
    };
    private final CopyIn copy;
    private final CopyBuffer buffer = new CopyBuffer(FLUSH_BYTES + 4096);
    private final PostgresNumeric numeric = new PostgresNumeric();

    PostgresCopy(Connection connection, String table, List<Schema.Field> fields)
        throws SQLException {
      super(connection, table, fields);
      StringBuilder columns = new StringBuilder();
      for (Schema.Field field : fields) {
        columns
            .append(columns.length() == 0 ? "" : ", ")
            .append(Dialect.POSTGRES.quote(field.getName()));
      }
      CopyManager manager = connection.unwrap(BaseConnection.class).getCopyAPI();
      copy =
          manager.copyIn(
              "COPY "
                  + Dialect.POSTGRES.quote(table)
                  + " ("
                  + columns
                  + ") FROM STDIN (FORMAT binary)");
      buffer.put(HEADER);
    }

    @Override
    void write(Row row) throws SQLException {
      int[] index = indexes.of(row);
      buffer.putShort(kinds.length);
      for (int i = 0; i < kinds.length; i++) {
        Object value = row.getValue(index[i]);
        if (value == null) {
          buffer.putInt(-1);
          continue;
        }
        switch (kinds[i]) {
          case STRING:
            buffer.putLengthAndUtf8((String) value);
            break;
          case INT:
            buffer.putInt(4).putInt((Integer) value);
            break;
          case LONG:
            buffer.putInt(8).putLong((Long) value);
            break;
          case DECIMAL:
            numeric.write(buffer, (BigDecimal) value);
            break;
          case BOOLEAN:
            buffer.putInt(1).put((Boolean) value ? (byte) 1 : (byte) 0);
            break;
          case DATE:
            buffer.putInt(4).putInt((int) (((LocalDate) value).toEpochDay() - POSTGRES_EPOCH_DAY));
            break;
          case TIMESTAMP:
            Instant instant = (Instant) value;
            buffer
                .putInt(8)
                .putLong(
                    Math.addExact(
                        Math.multiplyExact(
                            instant.getEpochSecond() - POSTGRES_EPOCH_SECOND, 1_000_000L),
                        instant.getNano() / 1000));
            break;
        }
      }
      rows++;
      if (buffer.size() >= FLUSH_BYTES) {
        flush();
      }
    }

    private void flush() throws SQLException {
      copy.writeToCopy(buffer.array(), 0, buffer.size());
      buffer.clear();
    }

    @Override
    long finish() throws SQLException {
      buffer.putShort(-1);
      flush();
      copy.endCopy();
      return rows;
    }

    @Override
    public void close() throws SQLException {
      if (copy.isActive()) {
        copy.cancelCopy();
      }
    }
  }

  /** 2000-01-01, PostgreSQL's epoch for dates, in days since 1970-01-01. */
  static final long POSTGRES_EPOCH_DAY = 10_957;

  /** 2000-01-01T00:00:00Z, PostgreSQL's epoch for timestamps, in seconds since 1970. */
  static final long POSTGRES_EPOCH_SECOND = POSTGRES_EPOCH_DAY * 86_400;

  /**
   * The positions of the written fields in the rows' schema, found once per schema: by name,
   * because staging fields are a subset of a model's fields.
   */
  static final class FieldIndexes {
    private final List<Schema.Field> fields;
    private Schema schema;
    private int[] indexes;

    FieldIndexes(List<Schema.Field> fields) {
      this.fields = fields;
    }

    int[] of(Row row) {
      Schema rowSchema = row.getSchema();
      if (rowSchema != schema) {
        int[] found = new int[fields.size()];
        for (int i = 0; i < found.length; i++) {
          found[i] = rowSchema.indexOf(fields.get(i).getName());
        }
        indexes = found;
        schema = rowSchema;
      }
      return indexes;
    }
  }

  /** The DuckDB appender: columnar appends, no SQL per row. */
  private static final class DuckDbAppend extends StagingWriter {
    private final DuckDBAppender appender;

    DuckDbAppend(Connection connection, String table, List<Schema.Field> fields)
        throws SQLException {
      super(connection, table, fields);
      appender =
          connection
              .unwrap(DuckDBConnection.class)
              .createAppender(DuckDBConnection.DEFAULT_SCHEMA, table);
    }

    @Override
    void write(Row row) throws SQLException {
      int[] index = indexes.of(row);
      appender.beginRow();
      for (int i = 0; i < kinds.length; i++) {
        Object value = row.getValue(index[i]);
        if (value == null) {
          appender.appendNull();
          continue;
        }
        switch (kinds[i]) {
          case STRING:
            appender.append((String) value);
            break;
          case INT:
            appender.append((int) (Integer) value);
            break;
          case LONG:
            appender.append((long) (Long) value);
            break;
          case DECIMAL:
            // The appender wants the column's exact scale.
            appender.append(((BigDecimal) value).setScale(scales[i], RoundingMode.HALF_UP));
            break;
          case BOOLEAN:
            appender.append((boolean) (Boolean) value);
            break;
          case DATE:
            appender.append((LocalDate) value);
            break;
          case TIMESTAMP:
            appender.append(utc((Instant) value));
            break;
        }
      }
      appender.endRow();
      rows++;
    }

    @Override
    long finish() throws SQLException {
      appender.flush();
      return rows;
    }

    @Override
    public void close() throws SQLException {
      appender.close();
    }
  }

  /** Batched prepared inserts, sent in groups of {@value #BATCH} rows. */
  private static final class BatchedInsert extends StagingWriter {
    private static final int BATCH = 2000;
    private final PreparedStatement insert;
    private int pending;

    BatchedInsert(Dialect dialect, Connection connection, String table, List<Schema.Field> fields)
        throws SQLException {
      super(connection, table, fields);
      StringBuilder sql =
          new StringBuilder("INSERT INTO ").append(dialect.quote(table)).append(" (");
      StringBuilder marks = new StringBuilder();
      for (int i = 0; i < fields.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append(dialect.quote(fields.get(i).getName()));
        marks.append(i == 0 ? "?" : ", ?");
      }
      insert =
          connection.prepareStatement(
              sql.append(") VALUES (").append(marks).append(')').toString());
    }

    @Override
    void write(Row row) throws SQLException {
      int[] index = indexes.of(row);
      for (int i = 0; i < kinds.length; i++) {
        Object value = row.getValue(index[i]);
        if (value instanceof Instant) {
          value = utc((Instant) value);
        }
        insert.setObject(i + 1, value);
      }
      insert.addBatch();
      rows++;
      if (++pending >= BATCH) {
        insert.executeBatch();
        pending = 0;
      }
    }

    @Override
    long finish() throws SQLException {
      if (pending > 0) {
        insert.executeBatch();
        pending = 0;
      }
      return rows;
    }

    @Override
    public void close() throws SQLException {
      insert.close();
    }
  }
}
