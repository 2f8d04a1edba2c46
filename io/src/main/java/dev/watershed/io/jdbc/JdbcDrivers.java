package dev.watershed.io.jdbc;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.ServiceLoader;

/**
 * Opens JDBC connections with the drivers of Watershed's own class loader.
 *
 * <p>{@link DriverManager} looks for drivers once per JVM, with the class loader of its first
 * caller, and then hands a caller only drivers its own class loader would load. On a Flink
 * TaskManager every job has a class loader of its own: the second job's DuckDB, PostgreSQL or
 * MariaDB driver was never loaded, and its connections failed with "No suitable driver"
 * (FlinkClusterJarIT: two jobs on one session cluster). The drivers are looked up here, per class
 * loader, and {@link DriverManager} is kept as the fallback for a driver added at run time.
 */
final class JdbcDrivers {
  private static final List<Driver> DRIVERS = load();

  private JdbcDrivers() {}

  private static List<Driver> load() {
    List<Driver> drivers = new ArrayList<>();
    for (Driver driver : ServiceLoader.load(Driver.class, JdbcDrivers.class.getClassLoader())) {
      drivers.add(driver);
    }
    return List.copyOf(drivers);
  }

  /** A connection to {@code url} from the first of this class loader's drivers that accepts it. */
  static Connection connect(String url, Properties properties) throws SQLException {
    for (Driver driver : DRIVERS) {
      if (driver.acceptsURL(url)) {
        Connection connection = driver.connect(url, properties);
        if (connection != null) {
          return connection;
        }
      }
    }
    return DriverManager.getConnection(url, properties);
  }
}
