package dev.watershed.pipelines.spec;

import java.util.List;
import java.util.Map;

/**
 * A source as declared under {@code sources:}. File sources use {@code path}; JDBC sources use
 * {@code url}, {@code user}, {@code password} and one of {@code table} or {@code query}. {@code
 * schema} is the declared column types (empty: the schema recorded by the first run), {@code drift}
 * the policy when the source's schema changes.
 */
public record SourceSpec(
    String name,
    String type,
    int line,
    String path,
    char delimiter,
    String url,
    String user,
    String password,
    String table,
    String query,
    List<String> key,
    String initSql,
    int fetchSize,
    Map<String, String> schema,
    String drift,
    Kafka kafka,
    Incremental incremental) {

  /**
   * A Kafka source's topic: {@code format} is {@code json} or {@code debezium-json}; {@code group}
   * the consumer group a streaming run commits offsets for.
   */
  public record Kafka(String bootstrapServers, String topic, String format, String group) {
    public boolean isChangeStream() {
      return format.equals("debezium-json");
    }
  }

  /**
   * An incremental JDBC source: a run reads only rows past the mark (the greatest {@code column},
   * then {@code tieBreak}, value loaded so far).
   */
  public record Incremental(String column, String tieBreak) {}

  /** Drift policies: what a run does when the source's schema changed. */
  public static final java.util.Set<String> DRIFT_POLICIES =
      java.util.Set.of("allow", "evolve", "quarantine", "fail");

  public boolean isFile() {
    return !type.equals("jdbc") && !type.equals("kafka");
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "source " + name + " (" + type + ")";
  }
}
