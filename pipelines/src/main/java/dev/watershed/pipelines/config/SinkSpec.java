package dev.watershed.pipelines.config;

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
    String topic,
    BigQueryTarget bigQuery) {

  /**
   * Where and how a bigquery sink writes: tables {@code project:dataset.<model>}, through the
   * Storage Write API exactly once (or at least once), clustered by the listed fields a model has,
   * with the listed string fields typed JSON.
   */
  public record BigQueryTarget(
      String project,
      String dataset,
      boolean atLeastOnce,
      List<String> clusterBy,
      List<String> jsonFields) {
    /** {@code project:dataset.model}. */
    public String tableOf(String model) {
      return project + ":" + dataset + "." + model;
    }
  }

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
