package dev.watershed.io.jdbc;

import java.io.File;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a database is and how to log in: a JDBC URL, and an optional user and password.
 *
 * <p>The password is never part of {@link #toString()}, display data or error messages; {@link
 * #describe()} names the database without credentials. Connecting waits and tries again while the
 * database cannot take a connection now (too many connections, starting up or recovering), for up
 * to a minute; every other failure is reported at once.
 *
 * <pre>{@code
 * JdbcEndpoint billing =
 *     JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/billing").withUser("etl").withPassword(secret);
 * }</pre>
 */
public final class JdbcEndpoint implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcEndpoint.class);
  private final String url;
  private final String user;
  private final String password;

  private JdbcEndpoint(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /**
   * A database at {@code url}: {@code jdbc:postgresql:}, {@code jdbc:mariadb:}, {@code jdbc:mysql:}
   * or {@code jdbc:duckdb:}.
   */
  public static JdbcEndpoint of(String url) {
    Objects.requireNonNull(url, "url");
    Dialect.of(url);
    return new JdbcEndpoint(url, null, null);
  }

  public JdbcEndpoint withUser(String userName) {
    return new JdbcEndpoint(url, userName, password);
  }

  public JdbcEndpoint withPassword(String secret) {
    return new JdbcEndpoint(url, user, secret);
  }

  public String url() {
    return url;
  }

  public Dialect dialect() {
    return Dialect.of(url);
  }

  /** Opens a connection; the error names the database (never the password) and the likely fix. */
  public Connection connect() throws SQLException {
    Properties properties = new Properties();
    if (user != null) {
      properties.setProperty("user", user);
    }
    if (password != null) {
      properties.setProperty("password", password);
    }
    if (dialect() == Dialect.DUCKDB) {
      createParentFolder();
    }
    try {
      if (dialect() == Dialect.DUCKDB) {
        return DuckDbFiles.connect(url, properties);
      }
      return connectRetrying(properties);
    } catch (SQLException e) {
      throw new SQLException(
          "cannot connect to "
              + describe()
              + ": "
              + firstLine(e.getMessage())
              + " ("
              + fix(e)
              + ")",
          e.getSQLState(),
          e);
    }
  }

  /**
   * Connects, retrying with backoff (0.2 s doubling to 5 s, for up to {@link #TRANSIENT_PATIENCE})
   * while the database says it cannot take the connection now: too many connections, or starting up
   * or recovering. Any other failure (refused, wrong password, no such database) fails at once.
   */
  private Connection connectRetrying(Properties properties) throws SQLException {
    long deadline = System.nanoTime() + TRANSIENT_PATIENCE.toNanos();
    long backoffMillis = 200;
    for (int attempt = 1; ; attempt++) {
      try {
        return JdbcDrivers.connect(dialect().connectionUrl(url), properties);
      } catch (SQLException e) {
        if (!isTransient(e) || System.nanoTime() + backoffMillis * 1_000_000 > deadline) {
          throw e;
        }
        RETRIED.incrementAndGet();
        LOG.warn(
            "{} cannot take a connection now ({}); attempt {} again in {} ms",
            describe(),
            firstLine(e.getMessage()),
            attempt + 1,
            backoffMillis);
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
        backoffMillis = Math.min(backoffMillis * 2, 5_000);
      }
    }
  }

  private static final AtomicLong RETRIED = new AtomicLong();

  /** Connection attempts this JVM made again because the database could not take one then. */
  public static long retriedConnections() {
    return RETRIED.get();
  }

  /** How long connecting goes on retrying while the database cannot take a connection now. */
  static final Duration TRANSIENT_PATIENCE = Duration.ofSeconds(60);

  /**
   * Failures that pass: PostgreSQL's too many connections ({@code 53300}) and cannot connect now
   * (starting up, shutting down, recovering: {@code 57P03}); MariaDB's too many connections (error
   * 1040, and 1203 for a user's limit).
   */
  static boolean isTransient(SQLException e) {
    String state = String.valueOf(e.getSQLState());
    return state.equals("53300")
        || state.equals("57P03")
        || e.getErrorCode() == 1040
        || e.getErrorCode() == 1203;
  }

  /** What to do about a failed connection, as far as its message tells. */
  private String fix(SQLException e) {
    String message = String.valueOf(e.getMessage());
    if (dialect() == Dialect.DUCKDB && message.contains("Could not set lock on file")) {
      return "another process holds the DuckDB file, such as another run or a query; DuckDB"
          + " lets one process open a file: wait for it to end, or write to another file";
    }
    if (message.contains("No space left on device")) {
      return "the disk is full: free space where the database keeps its files";
    }
    if (dialect() == Dialect.DUCKDB) {
      return "check the path, and that the folder is writable";
    }
    return "check that the database is running and the url, user and password are right";
  }

  private void createParentFolder() {
    String path = url.substring("jdbc:duckdb:".length());
    int query = path.indexOf('?');
    path = query < 0 ? path : path.substring(0, query);
    if (!path.isEmpty() && !path.startsWith(":memory:")) {
      File parent = new File(path).getAbsoluteFile().getParentFile();
      if (parent != null) {
        parent.mkdirs();
      }
    }
  }

  /** The URL without any query parameters, which may carry credentials. */
  public String describe() {
    int query = url.indexOf('?');
    return query < 0 ? url : url.substring(0, query);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unknown error";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  @Override
  public String toString() {
    return describe();
  }
}
