package dev.watershed.pipelines.spec;

import dev.watershed.io.WriteMode;
import java.util.List;
import java.util.Map;

/**
 * A sink as declared under {@code sinks:}. Table sinks (duckdb, postgres, mariadb) write one table
 * per model; file sinks (parquet, jsonl, csv) one folder or file per model.
 */
public record SinkSpec(
    String name,
    String type,
    int line,
    String path,
    String url,
    String user,
    String password,
    String schema,
    WriteMode mode,
    List<String> models,
    Map<String, String> partitionBy,
    String deletes,
    String bootstrapServers,
    String topic) {

  /** The topic a kafka sink writes {@code model} to: {@code topic} with {model} replaced. */
  public String topicOf(String model) {
    return topic.replace("{model}", model);
  }

  public boolean isTable() {
    return type.equals("duckdb") || type.equals("postgres") || type.equals("mariadb");
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "sink " + name + " (" + type + ")";
  }
}
