package dev.watershed.io;

import dev.watershed.io.files.ParquetSource;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;

/**
 * About how many records a source holds, without reading it, for a run's live progress: a table's
 * row estimate from the database's statistics, a Parquet file's row count from its footer, a text
 * file's size over the mean size of its first lines. Each returns -1 when it cannot tell; none
 * fails.
 */
public final class SourceSizes {
  /** Bytes of a text file's beginning whose lines give the mean line size. */
  private static final int SAMPLE_BYTES = 64 * 1024;

  /** More files than this are not opened one by one to count rows. */
  private static final int MAX_PARQUET_FILES = 1_000;

  private SourceSizes() {}

  /**
   * The records of the text files {@code filepattern} matches (one per line; {@code header} when
   * each file's first line is a header). Compressed files are not estimated.
   */
  public static long textLines(String filepattern, boolean header) {
    try {
      List<MatchResult.Metadata> files = FileSystems.match(filepattern).metadata();
      if (files.isEmpty()) {
        return -1;
      }
      long bytes = 0;
      for (MatchResult.Metadata file : files) {
        String name = file.resourceId().getFilename();
        if (name == null
            || name.toLowerCase(Locale.ROOT).matches(".*\\.(gz|bz2|zip|zst|deflate)")) {
          return -1;
        }
        bytes += file.sizeBytes();
      }
      byte[] sample = new byte[SAMPLE_BYTES];
      int read = 0;
      try (ReadableByteChannel channel = FileSystems.open(files.get(0).resourceId());
          InputStream in = Channels.newInputStream(channel)) {
        int n;
        while (read < sample.length && (n = in.read(sample, read, sample.length - read)) > 0) {
          read += n;
        }
      }
      int lines = 0;
      int headerBytes = 0;
      int lastEnd = 0;
      for (int i = 0; i < read; i++) {
        if (sample[i] == '\n') {
          if (header && headerBytes == 0) {
            headerBytes = i + 1;
          } else {
            lines++;
          }
          lastEnd = i + 1;
        }
      }
      if (lines == 0) {
        // One line or less in the sample: the file is as short as its first lines.
        return read < SAMPLE_BYTES ? (header ? 0 : 1) : -1;
      }
      double meanLine = (double) (lastEnd - headerBytes) / lines;
      long body = bytes - (long) headerBytes * files.size();
      return Math.max(0, Math.round(body / meanLine));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** The rows of the Parquet files {@code filepattern} matches, from their footers. */
  public static long parquetRows(String filepattern) {
    try {
      List<MatchResult.Metadata> files = FileSystems.match(filepattern).metadata();
      if (files.isEmpty() || files.size() > MAX_PARQUET_FILES) {
        return -1;
      }
      long rows = 0;
      for (MatchResult.Metadata file : files) {
        rows += ParquetSource.rowCount(file.resourceId().toString());
      }
      return rows;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The database's own estimate of a table's rows: PostgreSQL's {@code pg_class.reltuples},
   * MariaDB's {@code information_schema.TABLES.TABLE_ROWS}, DuckDB's {@code estimated_size}.
   */
  public static long tableRows(JdbcEndpoint endpoint, String table) {
    String sql;
    switch (endpoint.dialect()) {
      case POSTGRES:
        sql = "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)";
        break;
      case MARIADB:
        sql =
            "SELECT TABLE_ROWS FROM information_schema.TABLES"
                + " WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
        break;
      default:
        sql =
            "SELECT estimated_size FROM duckdb_tables()"
                + " WHERE schema_name = COALESCE(?, current_schema()) AND table_name = ?";
    }
    int dot = table.lastIndexOf('.');
    String schema = dot < 0 ? null : table.substring(0, dot);
    String name = table.substring(dot + 1);
    try (Connection connection = endpoint.connect();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setQueryTimeout(5);
      if (endpoint.dialect() == Dialect.POSTGRES) {
        statement.setString(1, endpoint.dialect().quote(table));
      } else {
        statement.setString(1, schema);
        statement.setString(2, name);
      }
      try (ResultSet rows = statement.executeQuery()) {
        // PostgreSQL says -1 for a table never vacuumed or analysed.
        return rows.next() && rows.getLong(1) >= 0 ? rows.getLong(1) : -1;
      }
    } catch (SQLException | RuntimeException e) {
      return -1;
    }
  }
}
