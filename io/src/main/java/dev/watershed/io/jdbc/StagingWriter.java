package dev.watershed.io.jdbc;

import dev.watershed.transforms.model.ModelTypes;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
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
 * COPY, the DuckDB appender, and batched inserts for MariaDB.
 *
 * <p>One writer serves one bundle: {@link #write} rows, then {@link #finish}. The staging table is
 * invisible to readers of the target; {@link JdbcLoad} moves its rows into the target in one
 * transaction once every bundle is written.
 */
abstract class StagingWriter implements AutoCloseable {
  final Connection connection;
  final String table;
  final List<Schema.Field> fields;
  long rows;

  StagingWriter(Connection connection, String table, List<Schema.Field> fields) {
    this.connection = connection;
    this.table = table;
    this.fields = fields;
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

  /** PostgreSQL COPY ... FROM STDIN in text format, streamed in chunks. */
  private static final class PostgresCopy extends StagingWriter {
    private static final int FLUSH_BYTES = 1 << 20;
    private final CopyIn copy;
    private final StringBuilder buffer = new StringBuilder(FLUSH_BYTES + 4096);

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
          manager.copyIn("COPY " + Dialect.POSTGRES.quote(table) + " (" + columns + ") FROM STDIN");
    }

    @Override
    void write(Row row) throws SQLException {
      for (int i = 0; i < fields.size(); i++) {
        if (i > 0) {
          buffer.append('\t');
        }
        Object value = row.getValue(fields.get(i).getName());
        if (value == null) {
          buffer.append("\\N");
        } else if (value instanceof String) {
          escape((String) value);
        } else if (value instanceof BigDecimal) {
          buffer.append(((BigDecimal) value).toPlainString());
        } else if (value instanceof Instant) {
          buffer.append(value);
        } else if (value instanceof Boolean) {
          buffer.append(((Boolean) value) ? 't' : 'f');
        } else {
          buffer.append(value);
        }
      }
      buffer.append('\n');
      rows++;
      if (buffer.length() >= FLUSH_BYTES) {
        flush();
      }
    }

    private void escape(String s) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '\\':
            buffer.append("\\\\");
            break;
          case '\t':
            buffer.append("\\t");
            break;
          case '\n':
            buffer.append("\\n");
            break;
          case '\r':
            buffer.append("\\r");
            break;
          default:
            buffer.append(c);
        }
      }
    }

    private void flush() throws SQLException {
      byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
      copy.writeToCopy(bytes, 0, bytes.length);
      buffer.setLength(0);
    }

    @Override
    long finish() throws SQLException {
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

  /** The DuckDB appender: columnar appends, no SQL per row. */
  private static final class DuckDbAppend extends StagingWriter {
    private final DuckDBAppender appender;
    private final ModelTypes.Kind[] kinds;
    private final int[] scales;

    DuckDbAppend(Connection connection, String table, List<Schema.Field> fields)
        throws SQLException {
      super(connection, table, fields);
      appender =
          connection
              .unwrap(DuckDBConnection.class)
              .createAppender(DuckDBConnection.DEFAULT_SCHEMA, table);
      kinds = new ModelTypes.Kind[fields.size()];
      scales = new int[fields.size()];
      for (int i = 0; i < kinds.length; i++) {
        kinds[i] = kindOf(fields.get(i));
        scales[i] = ModelTypes.scale(fields.get(i));
      }
    }

    @Override
    void write(Row row) throws SQLException {
      appender.beginRow();
      for (int i = 0; i < fields.size(); i++) {
        Object value = row.getValue(fields.get(i).getName());
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
            appender.append(
                ((BigDecimal) value).setScale(scales[i], java.math.RoundingMode.HALF_UP));
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
    private final ModelTypes.Kind[] kinds;
    private int pending;

    BatchedInsert(Dialect dialect, Connection connection, String table, List<Schema.Field> fields)
        throws SQLException {
      super(connection, table, fields);
      StringBuilder sql =
          new StringBuilder("INSERT INTO ").append(dialect.quote(table)).append(" (");
      StringBuilder marks = new StringBuilder();
      kinds = new ModelTypes.Kind[fields.size()];
      for (int i = 0; i < fields.size(); i++) {
        sql.append(i == 0 ? "" : ", ").append(dialect.quote(fields.get(i).getName()));
        marks.append(i == 0 ? "?" : ", ?");
        kinds[i] = kindOf(fields.get(i));
      }
      insert =
          connection.prepareStatement(
              sql.append(") VALUES (").append(marks).append(')').toString());
    }

    @Override
    void write(Row row) throws SQLException {
      for (int i = 0; i < fields.size(); i++) {
        Object value = row.getValue(fields.get(i).getName());
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

  /** Lineage columns are plain strings; model fields carry their own kind. */
  static ModelTypes.Kind kindOf(Schema.Field field) {
    return ModelTypes.kind(field);
  }
}
