package dev.watershed.io;

import com.google.auth.oauth2.GoogleCredentials;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;

/**
 * Checks that a service answers before a run relies on it, so that an unreachable one fails at once
 * with one line naming it ({@code where}, a YAML path such as {@code sources.crm}) and the fix,
 * instead of minutes of a client library's retries part way through a run.
 */
public final class Reachable {
  /** The class of Beam's BigQuery connector, which the distribution's Google Cloud add-on holds. */
  private static final String BIGQUERY_IO = "org/apache/beam/sdk/io/gcp/bigquery/BigQueryIO.class";

  private Reachable() {}

  /**
   * Fails with one line when BigQuery cannot be reached or no Google Cloud credentials are found,
   * instead of the client library's minutes of retries.
   */
  public static void bigQuery(String where) {
    if (Reachable.class.getClassLoader().getResource(BIGQUERY_IO) == null) {
      throw new IllegalStateException(
          where
              + ": the Google Cloud clients a BigQuery sink needs are not installed; unpack the"
              + " Google Cloud add-on (watershed-<version>-gcp.tar.gz) where you unpacked"
              + " Watershed: it adds lib/gcp/");
    }
    String host = "bigquery.googleapis.com";
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, 443), 5_000);
    } catch (IOException e) {
      throw new IllegalStateException(
          where
              + ": cannot reach BigQuery at "
              + host
              + ":443 ("
              + e.getClass().getSimpleName()
              + "); check the network or proxy settings");
    }
    try {
      GoogleCredentials.getApplicationDefault();
    } catch (IOException e) {
      throw new IllegalStateException(
          where
              + ": no Google Cloud credentials found; set GOOGLE_APPLICATION_CREDENTIALS to a"
              + " service account key file, or run: gcloud auth application-default login");
    }
  }

  /** Connects once, failing with the database's own message after {@code where}. */
  public static void jdbc(String where, JdbcEndpoint endpoint) throws SQLException {
    try (Connection connection = endpoint.connect()) {
      connection.isValid(5);
    } catch (SQLException e) {
      throw new SQLException(where + ": " + e.getMessage(), e.getSQLState(), e);
    }
  }

  /** Fails with one line naming the broker when no broker answers at {@code servers}. */
  public static void kafka(String where, String servers, Duration timeout) {
    String unreachable = unreachableServers(servers);
    if (unreachable != null) {
      throw new IllegalStateException(
          where
              + ": cannot reach Kafka at "
              + servers
              + " ("
              + unreachable
              + "); check that the broker runs and bootstrap_servers is right");
    }
    // The brokers accept connections: ask them, retrying with backoff until the timeout, since a
    // busy broker or machine may take seconds to answer its first request.
    long deadline = System.nanoTime() + timeout.toNanos();
    long backoff = 500;
    Exception last = null;
    while (System.nanoTime() < deadline) {
      long left = Math.max(1_000, (deadline - System.nanoTime()) / 1_000_000);
      Admin admin =
          Admin.create(
              Map.of(
                  "bootstrap.servers",
                  servers,
                  "default.api.timeout.ms",
                  (int) left,
                  "request.timeout.ms",
                  (int) Math.min(left, 10_000)));
      try {
        admin.describeCluster().nodes().get(left, TimeUnit.MILLISECONDS);
        return;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(where + ": interrupted while asking Kafka at " + servers);
      } catch (Exception e) {
        last = e;
      } finally {
        // Bounded: a broker that accepts connections but never answers once kept an unbounded
        // close waiting for ever (a run hung in its reachability check).
        admin.close(Duration.ofSeconds(5));
      }
      try {
        Thread.sleep(Math.min(backoff, Math.max(0, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      backoff = Math.min(backoff * 2, 5_000);
    }
    throw new IllegalStateException(
        where
            + ": Kafka at "
            + servers
            + " accepts connections but did not answer within "
            + timeout.toSeconds()
            + " s"
            + (last == null ? "" : " (" + last.getClass().getSimpleName() + ")")
            + "; the broker or this machine is busy: raise the source's timeout (e.g. timeout:"
            + " 2m), or check the broker's health");
  }

  /**
   * Why none of the bootstrap servers accepts a TCP connection (the first one's error), or null
   * when one does.
   */
  private static String unreachableServers(String servers) {
    String first = null;
    for (String server : servers.split(",")) {
      String address = server.trim();
      int colon = address.lastIndexOf(':');
      if (colon <= 0) {
        return "'" + address + "' is not host:port";
      }
      try (Socket socket = new Socket()) {
        socket.connect(
            new InetSocketAddress(
                address.substring(0, colon), Integer.parseInt(address.substring(colon + 1))),
            10_000);
        return null;
      } catch (IOException | IllegalArgumentException e) {
        if (first == null) {
          first =
              address
                  + ": "
                  + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
      }
    }
    return first;
  }
}
