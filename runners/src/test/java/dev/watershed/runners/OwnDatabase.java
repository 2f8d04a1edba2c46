package dev.watershed.runners;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A PostgreSQL or MariaDB server of a test's own, in a new data folder on a free port, that the
 * test may crash and start again: never the shared servers other tests use. As root, PostgreSQL
 * runs as the {@code postgres} user (it refuses root).
 */
final class OwnDatabase implements AutoCloseable {
  private static final Path PG_BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final Duration STARTUP = Duration.ofMinutes(2);

  private final boolean postgres;
  private final Path folder;
  private final int port;
  private Process mariadb;

  private OwnDatabase(boolean postgres, Path folder, int port) {
    this.postgres = postgres;
    this.folder = folder;
    this.port = port;
  }

  /** A new PostgreSQL 15 server, started. */
  static OwnDatabase postgres() throws IOException, InterruptedException {
    Assumptions.assumeTrue(
        Files.isExecutable(PG_BIN.resolve("initdb")),
        "skipped: PostgreSQL's server programs are not installed at " + PG_BIN);
    OwnDatabase db = new OwnDatabase(true, folder("pg"), freePort());
    if (isRoot()) {
      command("chown", "postgres", db.folder.toString());
    }
    db.exec(
        PG_BIN.resolve("initdb").toString(),
        "-D",
        db.data().toString(),
        "-A",
        "trust",
        "-U",
        "postgres");
    db.start();
    return db;
  }

  /** A new MariaDB server with an empty database {@code test}, started. */
  static OwnDatabase mariadb() throws IOException, InterruptedException, SQLException {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/sbin/mariadbd")),
        "skipped: the MariaDB server is not installed at /usr/sbin/mariadbd");
    OwnDatabase db = new OwnDatabase(false, folder("mariadb"), freePort());
    command(
        "mariadb-install-db",
        "--no-defaults",
        "--datadir=" + db.data(),
        "--user=" + System.getProperty("user.name"),
        "--auth-root-authentication-method=normal",
        "--skip-test-db");
    db.start();
    try (Connection connection =
            JdbcEndpoint.of("jdbc:mariadb://127.0.0.1:" + db.port + "/")
                .withUser("root")
                .connect();
        java.sql.Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE test");
    }
    return db;
  }

  int port() {
    return port;
  }

  String url() {
    return postgres
        ? "jdbc:postgresql://127.0.0.1:" + port + "/postgres"
        : "jdbc:mariadb://127.0.0.1:" + port + "/test";
  }

  String user() {
    return postgres ? "postgres" : "root";
  }

  JdbcEndpoint endpoint() {
    return JdbcEndpoint.of(url()).withUser(user());
  }

  /** A query listing the server's sessions, what each runs and waits on, for failure messages. */
  String sessionsQuery() {
    return postgres
        ? "SELECT pid, state, wait_event_type, wait_event, left(query, 120) AS query"
            + " FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
        : "SELECT id, command, state, time, left(info, 120) AS info"
            + " FROM information_schema.processlist WHERE id <> connection_id()";
  }

  /** Starts the server and waits until it accepts connections. */
  void start() throws IOException, InterruptedException {
    if (postgres) {
      exec(
          PG_BIN.resolve("pg_ctl").toString(),
          "-D",
          data().toString(),
          "-o",
          "-p " + port + " -k " + folder + " -c listen_addresses=127.0.0.1",
          "-l",
          folder.resolve("server.log").toString(),
          "-w",
          "-t",
          String.valueOf(STARTUP.toSeconds()),
          "start");
      return;
    }
    mariadb =
        new ProcessBuilder(
                "/usr/sbin/mariadbd",
                "--no-defaults",
                "--datadir=" + data(),
                "--port=" + port,
                "--socket=" + folder.resolve("mariadb.sock"),
                "--bind-address=127.0.0.1",
                "--user=" + System.getProperty("user.name"),
                "--skip-log-bin",
                // A test holds row locks while a run waits on them.
                "--innodb-lock-wait-timeout=3600")
            .redirectErrorStream(true)
            .redirectOutput(folder.resolve("server.log").toFile())
            .start();
    Instant deadline = Instant.now().plus(STARTUP);
    JdbcEndpoint server =
        JdbcEndpoint.of("jdbc:mariadb://127.0.0.1:" + port + "/").withUser("root");
    while (true) {
      try (Connection connection = server.connect()) {
        return;
      } catch (SQLException notYet) {
        if (!mariadb.isAlive() || Instant.now().isAfter(deadline)) {
          throw new IOException(
              "MariaDB did not start: " + Files.readString(folder.resolve("server.log")));
        }
        Thread.sleep(100); // polling for the condition "accepts connections"
      }
    }
  }

  /**
   * Stops the server as a crash would: PostgreSQL with {@code pg_ctl stop -m immediate} (no
   * checkpoint; crash recovery on the next start), MariaDB with kill -9.
   */
  void crash() throws IOException, InterruptedException {
    if (postgres) {
      exec(PG_BIN.resolve("pg_ctl").toString(), "-D", data().toString(), "-m", "immediate", "stop");
    } else if (mariadb != null) {
      mariadb.destroyForcibly().waitFor();
    }
  }

  @Override
  public void close() throws IOException, InterruptedException {
    crash();
    try (Stream<Path> walk = Files.walk(folder)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private Path data() {
    return folder.resolve("data");
  }

  /** Runs a server program, as the postgres user when root. */
  private void exec(String... args) throws IOException, InterruptedException {
    List<String> line = new ArrayList<>();
    if (postgres && isRoot()) {
      line.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    line.addAll(List.of(args));
    command(line.toArray(String[]::new));
  }

  private static void command(String... args) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(args).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes());
    if (process.waitFor() != 0) {
      throw new IOException(String.join(" ", args) + " failed:\n" + output);
    }
  }

  /** A folder every user can enter (the server may run as another user than the test). */
  private static Path folder(String kind) throws IOException {
    Path folder = Files.createTempDirectory("watershed-fault-" + kind + "-");
    Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
    return folder;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }
}
