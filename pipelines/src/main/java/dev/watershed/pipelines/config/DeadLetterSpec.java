package dev.watershed.pipelines.config;

/**
 * Where dead letters go, under {@code dead_letter:}: a JSON lines file ({@code type: jsonl}, the
 * default, under {@code path}), or a table in a DuckDB file ({@code path}) or a PostgreSQL or
 * MariaDB database ({@code url}, {@code user}, {@code password}), appended to on every run, or a
 * Kafka topic ({@code type: kafka}: {@code bootstrap_servers} is kept in {@code url}, {@code topic}
 * in {@code table}).
 */
public record DeadLetterSpec(
    String type, String path, String url, String user, String password, String table) {
  /** The default table dead letters are appended to. */
  public static final String DEFAULT_TABLE = "_watershed_dead_letters";

  public boolean isTable() {
    return !type.equals("jsonl") && !type.equals("kafka");
  }

  public boolean isKafka() {
    return type.equals("kafka");
  }

  /** The JSON lines file dead letters are written to (for {@code jsonl}). */
  public String file() {
    return (path.endsWith("/") ? path : path + "/") + "dead-letter.jsonl";
  }

  /** Where dead letters land, in words, without credentials. */
  public String describe() {
    if (isKafka()) {
      return "kafka topic " + table;
    }
    if (!isTable()) {
      return file();
    }
    String where = type.equals("duckdb") ? path : url.split("\\?")[0];
    return "table " + table + " in " + where;
  }

  @Override
  public String toString() {
    return "dead letters (" + type + ")";
  }
}
