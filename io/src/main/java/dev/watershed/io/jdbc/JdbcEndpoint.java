package dev.watershed.io.jdbc;

import java.io.File;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Properties;

/**
 * Where a database is and how to log in: a JDBC URL, and an optional user and password.
 *
 * <p>The password is never part of {@link #toString()}, display data or error messages; {@link
 * #describe()} names the database without credentials.
 *
 * <pre>{@code
 * JdbcEndpoint billing =
 *     JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/billing").withUser("etl").withPassword(secret);
 * }</pre>
 */
public final class JdbcEndpoint implements Serializable {
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
      return DriverManager.getConnection(dialect().connectionUrl(url), properties);
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
