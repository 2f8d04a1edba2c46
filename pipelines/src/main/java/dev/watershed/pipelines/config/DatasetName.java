package dev.watershed.pipelines.config;

import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A dataset's name in lineage, after OpenLineage's naming conventions: {@code namespace} says where
 * it lives (a database server, a broker, the file system) and {@code name} what it is there. Never
 * holds credentials.
 */
public record DatasetName(String namespace, String name) {
  /** A local file or folder (a glob's folder stands for the files it matches). */
  public static DatasetName file(String path) {
    return new DatasetName("file", Path.of(path).toAbsolutePath().normalize().toString());
  }

  /** A Kafka topic: the first bootstrap server names the cluster. */
  public static DatasetName kafka(String bootstrapServers, String topic) {
    String first = bootstrapServers.split(",")[0].trim();
    return new DatasetName("kafka://" + first, topic);
  }

  /**
   * A table of a JDBC database: PostgreSQL as {@code postgres://host:port} and {@code
   * database.schema.table}, MariaDB as {@code mysql://host:port} and {@code database.table}, DuckDB
   * as {@code duckdb://<file>} and {@code schema.table}.
   */
  public static DatasetName table(String jdbcUrl, String table) {
    if (jdbcUrl.startsWith("jdbc:duckdb:")) {
      String file = jdbcUrl.substring("jdbc:duckdb:".length()).replaceFirst("[?;].*$", "");
      String where = file.isEmpty() || file.startsWith(":memory:") ? "memory" : file;
      return new DatasetName("duckdb://" + where, table.contains(".") ? table : "main." + table);
    }
    URI uri = URI.create(jdbcUrl.substring("jdbc:".length()));
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    boolean postgres = scheme.startsWith("postgres");
    int port = uri.getPort() > 0 ? uri.getPort() : postgres ? 5432 : 3306;
    String database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    String namespace = (postgres ? "postgres://" : "mysql://") + uri.getHost() + ":" + port;
    String qualified = postgres && !table.contains(".") ? "public." + table : table;
    return new DatasetName(namespace, database.isEmpty() ? qualified : database + "." + qualified);
  }
}
