package dev.watershed.runners;

import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.init.Catalogs;
import dev.watershed.pipelines.init.DebeziumTopics;
import dev.watershed.pipelines.init.StarterSpec;
import dev.watershed.pipelines.run.Redaction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code watershed init}: a starter spec from a database's catalog, a Kafka broker's Debezium
 * topics, or a folder of CSV, JSON lines or Parquet files, printed or written to a file.
 */
final class Init {
  private static final String KAFKA = "kafka://";

  /** How long a broker may take to list its topics or deliver a topic's messages. */
  private static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(30);

  private Init() {}

  static int run(
      Watershed cli,
      String from,
      List<String> tables,
      String user,
      String passwordEnv,
      String name,
      String outFile,
      boolean force)
      throws IOException {
    List<StarterSpec.Table> found;
    String specName;
    try {
      if (from.startsWith("jdbc:")) {
        Dialect.of(from);
        if (!Redaction.withoutCredentials(from).equals(from)) {
          cli.err()
              .println(
                  "error: --from holds a password; give the URL without it and the password through"
                      + " --password-env VAR, so that the spec names the variable, not the secret");
          return Watershed.SPEC_ERROR;
        }
        Map<String, String> source = new LinkedHashMap<>();
        source.put("url", "\"" + from + "\"");
        String password = null;
        if (user != null) {
          source.put("user", StarterSpec.quotedValue(user));
        }
        if (passwordEnv != null) {
          password = cli.environment().get(passwordEnv);
          if (password == null) {
            cli.err()
                .println(
                    "error: --password-env "
                        + passwordEnv
                        + ": the variable is not set; export it");
            return Watershed.SPEC_ERROR;
          }
          Redaction.add(Set.of(password));
          // The spec names the variable, never the secret.
          source.put("password", "\"${env:" + passwordEnv + "}\"");
        }
        JdbcEndpoint endpoint =
            JdbcEndpoint.of(duckDbPath(cli, from)).withUser(user).withPassword(password);
        found = Catalogs.database(endpoint, source, tables);
        specName = name != null ? name : databaseName(from);
      } else if (from.startsWith(KAFKA)) {
        String rest = from.substring(KAFKA.length());
        int slash = rest.indexOf('/');
        String servers = slash < 0 ? rest : rest.substring(0, slash);
        List<String> topics = new ArrayList<>(tables);
        if (slash >= 0 && slash + 1 < rest.length()) {
          topics.add(rest.substring(slash + 1));
        }
        if (servers.isEmpty()) {
          throw new IllegalArgumentException(
              "--from " + from + ": no broker; give kafka://host:port or kafka://host:port/topic");
        }
        found = DebeziumTopics.read(servers, topics, KAFKA_TIMEOUT);
        specName = name != null ? name : topics.size() == 1 ? topics.get(0) : "changes";
      } else {
        Path path = cli.workingDir().resolve(from);
        if (!Files.exists(path)) {
          cli.err()
              .println(
                  "error: --from "
                      + from
                      + ": no such file or folder; give a JDBC URL, kafka://host:port[/topic],"
                      + " a CSV, JSON lines or Parquet file, or a folder of them");
          return Watershed.SPEC_ERROR;
        }
        found = Catalogs.files(path, from);
        String base = path.getFileName().toString().replaceFirst(Catalogs.EXTENSION, "");
        specName = name != null ? name : base;
      }
    } catch (DebeziumTopics.Unreachable e) {
      cli.err().println("error: " + Redaction.redact(e.getMessage()));
      return Watershed.FAILED;
    } catch (IllegalArgumentException e) {
      cli.err().println("error: " + Redaction.redact(e.getMessage()));
      return Watershed.SPEC_ERROR;
    } catch (SQLException e) {
      cli.err()
          .println(
              "error: cannot read the tables of "
                  + Redaction.redact(from)
                  + ": "
                  + Redaction.redact(String.valueOf(e.getMessage()).strip().split("\\R")[0])
                  + "; check the URL, --user and --password-env");
      return Watershed.FAILED;
    }
    if (found.isEmpty()) {
      cli.err()
          .println(
              "error: "
                  + Redaction.redact(from)
                  + (from.startsWith(KAFKA)
                      ? " holds no topic of Debezium change events"
                      : " holds no tables"));
      return Watershed.SPEC_ERROR;
    }
    specName = StarterSpec.specName(specName);
    String yaml =
        StarterSpec.yaml(
            specName, Redaction.redact(from), found, "target/" + specName + "/warehouse.duckdb");
    if (outFile == null) {
      cli.out().print(yaml);
      return Watershed.OK;
    }
    Path out = cli.workingDir().resolve(outFile);
    if (Files.exists(out) && !force) {
      cli.err().println("error: " + outFile + " exists; pass --force to replace it");
      return Watershed.SPEC_ERROR;
    }
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    Files.writeString(out, yaml);
    cli.out()
        .println(
            "wrote "
                + outFile
                + ": "
                + found.size()
                + (found.size() == 1 ? " source" : " sources")
                + "; check it with: watershed validate "
                + outFile);
    return Watershed.OK;
  }

  /** A relative DuckDB file is the working folder's, as in a spec. */
  private static String duckDbPath(Watershed cli, String url) {
    String prefix = "jdbc:duckdb:";
    if (!url.startsWith(prefix)) {
      return url;
    }
    String file = url.substring(prefix.length());
    if (file.isEmpty() || file.startsWith(":memory:") || Path.of(file).isAbsolute()) {
      return url;
    }
    Path path = cli.workingDir().resolve(file);
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException(
          "--from " + url + ": no DuckDB file at " + path + "; check the path");
    }
    return prefix + path;
  }

  private static String databaseName(String url) {
    String rest = url.replaceFirst("^jdbc:[a-z]+:(//[^/]*/)?", "");
    rest = rest.replaceFirst("[?;].*$", "");
    rest = rest.substring(rest.lastIndexOf('/') + 1).replaceFirst("\\.[A-Za-z0-9]+$", "");
    return rest.isEmpty() ? "starter" : rest.toLowerCase(Locale.ROOT);
  }
}
