package dev.watershed.pipelines.run;

import dev.watershed.io.Staging;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.StagingSweep;
import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.RunReport;
import dev.watershed.pipelines.config.DeadLetterSpec;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.TableSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of a pipeline at a time. Two runs of one spec would write the same run report, read the
 * same marks and commit over each other; the second is refused with a message naming the holder.
 *
 * <p>Held from before a run reads anything until it ends, in two places: a lock file beside the run
 * report ({@code run.lock}, an operating-system lock that ends with the process, however it ends),
 * and in each PostgreSQL and MariaDB sink a session lock named after the pipeline (a run on another
 * machine that shares the database is refused too). DuckDB allows one process per file, and the
 * lock file covers runs inside one process.
 *
 * <p>While it holds the lock, a run may {@link #sweep} what earlier runs of the pipeline left
 * behind: no other run of the pipeline can be writing it.
 */
public final class RunLock implements AutoCloseable {
  /** The lock file's name, beside the run report. */
  public static final String FILE = "run.lock";

  private final Spec spec;
  private final FileChannel channel;
  private final FileLock fileLock;
  private final List<Connection> sessions = new ArrayList<>();

  private RunLock(Spec spec, FileChannel channel, FileLock fileLock) {
    this.spec = spec;
    this.channel = channel;
    this.fileLock = fileLock;
  }

  /** A run that found the pipeline's lock held by another run. */
  public static final class HeldException extends IllegalStateException {
    HeldException(String message) {
      super(message);
    }
  }

  /**
   * Takes the pipeline's lock, or fails with {@link HeldException} when another run holds it.
   *
   * @throws IOException when the lock file cannot be written
   * @throws SQLException when a sink database cannot be reached
   */
  public static RunLock acquire(Spec spec) throws IOException, SQLException {
    Path file = RunReport.folder(spec).toAbsolutePath().resolve(FILE);
    Files.createDirectories(file.getParent());
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by another run in this process
    }
    if (lock == null) {
      String holder = Files.readString(file, StandardCharsets.UTF_8).trim();
      channel.close();
      throw new HeldException(
          "pipeline "
              + spec.name()
              + " is already running ("
              + (holder.isEmpty() ? "another run" : holder)
              + ", lock "
              + file
              + "); wait for that run to finish, or stop it");
    }
    channel.truncate(0);
    channel.write(
        ByteBuffer.wrap(
            ("process " + ProcessHandle.current().pid() + ", started " + Instant.now())
                .getBytes(StandardCharsets.UTF_8)),
        0);
    RunLock held = new RunLock(spec, channel, lock);
    try {
      for (Map.Entry<String, JdbcEndpoint> sink : lockedDatabases(spec).entrySet()) {
        held.lockSession(sink.getKey(), sink.getValue());
      }
    } catch (SQLException | RuntimeException e) {
      held.close();
      throw e;
    }
    return held;
  }

  /** PostgreSQL and MariaDB sinks (and dead-letter table), one per database, by spec path. */
  private static Map<String, JdbcEndpoint> lockedDatabases(Spec spec) {
    Map<String, JdbcEndpoint> byUrl = new LinkedHashMap<>();
    Map<String, JdbcEndpoint> out = new LinkedHashMap<>();
    for (Map.Entry<String, JdbcEndpoint> each : databases(spec).entrySet()) {
      Dialect dialect = each.getValue().dialect();
      if ((dialect == Dialect.POSTGRES || dialect == Dialect.MARIADB)
          && byUrl.putIfAbsent(each.getValue().url(), each.getValue()) == null) {
        out.put(each.getKey(), each.getValue());
      }
    }
    return out;
  }

  /** Every database the pipeline stages in, by where the spec names it. */
  private static Map<String, JdbcEndpoint> databases(Spec spec) {
    Map<String, JdbcEndpoint> out = new LinkedHashMap<>();
    for (TableSink sink : spec.tableSinks()) {
      out.put("sinks." + sink.name(), sink.endpoint(spec));
    }
    DeadLetterSpec deadLetter = spec.deadLetter();
    if (deadLetter.isTable()) {
      out.put("dead_letter", Composer.deadLetterEndpoint(spec, deadLetter));
    }
    return out;
  }

  private void lockSession(String where, JdbcEndpoint endpoint) throws SQLException {
    Connection session;
    try {
      session = endpoint.connect();
    } catch (SQLException e) {
      throw new SQLException(where + ": " + e.getMessage(), e.getSQLState(), e);
    }
    sessions.add(session);
    String name = "watershed:" + Staging.tag(spec.name());
    String sql =
        endpoint.dialect() == Dialect.POSTGRES
            ? "SELECT pg_try_advisory_lock(hashtextextended(?, 0))"
            : "SELECT GET_LOCK(?, 0)";
    try (PreparedStatement statement = session.prepareStatement(sql)) {
      statement.setString(1, name);
      try (ResultSet result = statement.executeQuery()) {
        if (!result.next() || !result.getBoolean(1)) {
          throw new HeldException(
              "pipeline "
                  + spec.name()
                  + " is already running: another run holds its lock '"
                  + name
                  + "' in "
                  + endpoint.describe()
                  + " ("
                  + where
                  + "); wait for that run to finish, or stop it");
        }
      }
    }
  }

  /**
   * Removes the staging tables, staging files and lake staging folders that earlier runs of the
   * pipeline left (runs that crashed, or lost a database mid-commit); returns what it removed.
   */
  public List<String> sweep() throws IOException, SQLException {
    List<String> swept = new ArrayList<>();
    for (Map.Entry<String, JdbcEndpoint> database : databases(spec).entrySet()) {
      try {
        for (String table : StagingSweep.sweep(database.getValue(), spec.name())) {
          swept.add(database.getKey() + ": " + table);
        }
      } catch (SQLException e) {
        throw new SQLException(
            database.getKey() + ": cannot remove staging left by earlier runs: " + e.getMessage(),
            e.getSQLState(),
            e);
      }
    }
    for (SinkConfig sink : spec.sinks().values()) {
      try {
        swept.addAll(sink.sweepStaging(spec));
      } catch (IOException | SQLException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException("sinks." + sink.name() + ": " + e.getMessage(), e);
      }
    }
    return swept;
  }

  /** Releases the lock: database sessions first, then the lock file. */
  @Override
  public void close() throws IOException {
    for (Connection session : sessions) {
      try {
        session.close(); // ends the session, and with it the session lock
      } catch (SQLException e) {
        // A session that is already gone holds no lock.
      }
    }
    sessions.clear();
    if (fileLock != null && fileLock.isValid()) {
      channel.truncate(0);
      fileLock.release();
    }
    channel.close();
  }
}
