package dev.watershed.pipelines.config;

import dev.watershed.io.files.CsvFormat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A source as declared under {@code sources:}. File sources use {@code path}; JDBC sources use
 * {@code url}, {@code user}, {@code password} and one of {@code table} or {@code query}; a CSV
 * source's {@code csv} format (delimiter, quote, escape, comment, header, encoding) is null for
 * other types; a JSON document source's {@code recordsAt} is the JSON pointer to its records;
 * {@code maxRecordBytes} the largest record a JSON or JSON lines source reads (a larger one is a
 * dead letter; a CSV source's is in its format). {@code schema} is the declared column types
 * (empty: the schema recorded by the first run), {@code drift} the policy when the source's schema
 * changes.
 */
public record SourceSpec(
    String name,
    String type,
    int line,
    String path,
    CsvFormat csv,
    String recordsAt,
    int maxRecordBytes,
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
   * the consumer group a streaming run commits offsets for; {@code timeout} how long a request to
   * the brokers may take, retries included, before the run fails (a busy machine needs more than a
   * few seconds).
   */
  public record Kafka(
      String bootstrapServers, String topic, String format, String group, Duration timeout) {
    /** How long Kafka requests may take unless the source says otherwise. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

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
  public static final Set<String> DRIFT_POLICIES = Set.of("allow", "evolve", "quarantine", "fail");

  public boolean isFile() {
    return !type.equals("jdbc") && !type.equals("kafka");
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "source " + name + " (" + type + ")";
  }
}
