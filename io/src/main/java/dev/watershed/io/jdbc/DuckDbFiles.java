package dev.watershed.io.jdbc;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.duckdb.DuckDBConnection;

/**
 * One open DuckDB database per file in this JVM, shared by every connection to it.
 *
 * <p>DuckDB lets one process open a database file once; two threads opening the same file at the
 * same time conflict. So the first connection opens the database and later ones are {@link
 * DuckDBConnection#duplicate() duplicates} of it; the database is closed, and the file released,
 * when the last connection closes.
 */
final class DuckDbFiles {
  private static final Map<String, Shared> OPEN = new HashMap<>();

  private DuckDbFiles() {}

  private static final class Shared {
    final DuckDBConnection root;
    int users;

    Shared(DuckDBConnection root) {
      this.root = root;
    }
  }

  static Connection connect(String url, Properties properties) throws SQLException {
    String path = url.substring("jdbc:duckdb:".length());
    if (path.isEmpty() || path.startsWith(":memory:")) {
      return JdbcDrivers.connect(url, properties);
    }
    String key = Path.of(path.split("\\?")[0]).toAbsolutePath().normalize().toString();
    synchronized (OPEN) {
      Shared shared = OPEN.get(key);
      if (shared == null) {
        shared = new Shared((DuckDBConnection) JdbcDrivers.connect(url, properties));
        OPEN.put(key, shared);
      }
      DuckDBConnection connection = (DuckDBConnection) shared.root.duplicate();
      shared.users++;
      return released(connection, key);
    }
  }

  private static void release(String key) throws SQLException {
    synchronized (OPEN) {
      Shared shared = OPEN.get(key);
      if (shared != null && --shared.users == 0) {
        OPEN.remove(key);
        shared.root.close();
      }
    }
  }

  /** A connection whose close also releases the shared database. */
  private static Connection released(DuckDBConnection connection, String key) {
    boolean[] closed = {false};
    return (Connection)
        Proxy.newProxyInstance(
            DuckDbFiles.class.getClassLoader(),
            new Class<?>[] {Connection.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "close":
                  if (!closed[0]) {
                    closed[0] = true;
                    connection.close();
                    release(key);
                  }
                  return null;
                case "unwrap":
                  return ((Class<?>) args[0]).isInstance(connection)
                      ? connection
                      : connection.unwrap((Class<?>) args[0]);
                case "isWrapperFor":
                  return ((Class<?>) args[0]).isInstance(connection)
                      || connection.isWrapperFor((Class<?>) args[0]);
                default:
                  try {
                    return method.invoke(connection, args);
                  } catch (InvocationTargetException e) {
                    throw e.getCause();
                  }
              }
            });
  }
}
