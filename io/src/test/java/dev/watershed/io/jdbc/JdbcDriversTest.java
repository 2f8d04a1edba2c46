package dev.watershed.io.jdbc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Collections;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * A job's own class loader, as a Flink TaskManager gives every job, gets its connections although
 * {@link DriverManager} was initialised by another class loader first.
 */
class JdbcDriversTest {
  @Test
  void aSecondClassLoaderConnectsThroughItsOwnDriver() throws Exception {
    // The first "job": the test's class loader initialises DriverManager with its drivers.
    assertFalse(Collections.list(DriverManager.getDrivers()).isEmpty());

    URL classes = JdbcDrivers.class.getProtectionDomain().getCodeSource().getLocation();
    URL duckdb = org.duckdb.DuckDBDriver.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader job =
        new URLClassLoader(new URL[] {classes, duckdb}, ClassLoader.getPlatformClassLoader())) {
      Class<?> drivers = Class.forName(JdbcDrivers.class.getName(), true, job);
      assertNotSame(JdbcDrivers.class, drivers);
      Method connect = drivers.getDeclaredMethod("connect", String.class, Properties.class);
      connect.setAccessible(true);
      // DriverManager alone answered "No suitable driver found for jdbc:duckdb:" here: it only
      // hands a caller drivers of the caller's class loader, and this loader's DuckDB driver
      // class had never been loaded.
      try (Connection connection =
              (Connection) connect.invoke(null, "jdbc:duckdb:", new Properties());
          ResultSet answer = connection.createStatement().executeQuery("SELECT 40 + 2")) {
        assertSame(job, connection.getClass().getClassLoader());
        assertTrue(answer.next());
        assertEquals(42, answer.getInt(1));
      }
    }
  }
}
