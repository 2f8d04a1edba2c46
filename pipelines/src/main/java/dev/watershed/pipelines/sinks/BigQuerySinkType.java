package dev.watershed.pipelines.sinks;

import dev.watershed.io.Reachable;
import dev.watershed.io.WriteMode;
import dev.watershed.io.bigquery.BigQueryLoad;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: bigquery}: tables of a BigQuery dataset, through the Storage Write API. */
public final class BigQuerySinkType implements SinkType {
  /**
   * A dataset: project and dataset are names, never credentials (those come from the environment);
   * {@code atLeastOnce} chooses the Storage Write API's cheaper method.
   */
  public record Config(
      SinkBasics basics,
      String project,
      String dataset,
      boolean atLeastOnce,
      List<String> clusterBy,
      List<String> jsonFields,
      Map<String, String> partitionBy)
      implements SinkConfig {
    /** The table {@code model} is loaded into, as {@code project:dataset.model}. */
    public String tableOf(String model) {
      return project + ":" + dataset + "." + model;
    }

    @Override
    public DatasetName datasetName(Spec spec, String model) {
      return new DatasetName("bigquery", project + "." + dataset + "." + model);
    }

    @Override
    public void checkReachable(Spec spec, String where) {
      Reachable.bigQuery(where);
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      CanonicalModel model = context.model();
      String order = model.tracksChanges() ? RawRecords.VERSION : context.versionColumn();
      BigQueryLoad load =
          BigQueryLoad.into(tableOf(model.name()), model)
              .withMode(mode())
              .withVersionColumn(order, context.now())
              .withClustering(clusterBy.stream().filter(model.schema()::hasField).toList())
              .withJsonFields(jsonFields.stream().filter(model.schema()::hasField).toList())
              .withSinkName(name());
      if (atLeastOnce) {
        load = load.withAtLeastOnce();
      }
      if (partitionBy.containsKey(model.name())) {
        load = load.withPartitioning(partitionBy.get(model.name()));
      }
      if (context.spec().isStreaming()) {
        load = load.withTriggeringFrequency(context.spec().timing().checkpointEvery());
      } else if (context.gate() != null) {
        load = load.withGate(context.gate());
      }
      return rows.apply(step, load);
    }
  }

  @Override
  public String name() {
    return "bigquery";
  }

  @Override
  public String description() {
    return "tables of a BigQuery dataset, through the Storage Write API";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("project", "the Google Cloud project"),
        Key.string("dataset", "the dataset the tables go in"),
        Key.oneOf(
            "method",
            "the Storage Write API's delivery: exactly_once (default) or at_least_once",
            "exactly_once",
            "at_least_once"),
        Partitioning.KEY,
        Key.strings("cluster_by", "up to 4 fields to cluster the tables by"),
        Key.strings("json", "string fields holding JSON, typed JSON in BigQuery"),
        Key.oneOf("deletes", "change streams' deletes are BigQuery CDC deletes: hard", "hard"));
  }

  @Override
  public WriteMode defaultMode() {
    return WriteMode.MERGE;
  }

  @Override
  public List<WriteMode> modes() {
    return List.of(WriteMode.MERGE, WriteMode.APPEND);
  }

  @Override
  public String refusal(WriteMode mode) {
    return mode == WriteMode.OVERWRITE
        ? "BigQuery's Storage Write API appends or merges; use append or merge (or drop the table"
            + " first)"
        : SinkType.super.refusal(mode);
  }

  @Override
  public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
    String project = block.string("project", true);
    String dataset = block.string("dataset", true);
    for (String[] name : new String[][] {{"project", project}, {"dataset", dataset}}) {
      if (name[1] != null && !name[1].matches("[A-Za-z0-9_.:-]+")) {
        block.error(name[0], "'" + name[1] + "' is not a valid BigQuery " + name[0] + " name");
      }
    }
    String method = block.string("method", "exactly_once");
    if (!method.equals("exactly_once") && !method.equals("at_least_once")) {
      block.error(
          "method", "unknown method '" + method + "'; allowed: exactly_once, at_least_once");
    }
    List<String> clusterBy = block.strings("cluster_by");
    if (clusterBy.size() > 4) {
      block.error("cluster_by", "BigQuery clusters by at most 4 fields");
    }
    Map<String, CanonicalModel> models = context.models();
    List<String> json = block.strings("json");
    for (String field : json) {
      boolean isString =
          models.values().stream()
              .anyMatch(
                  m ->
                      m.schema().hasField(field)
                          && ModelTypes.kind(m.schema().getField(field)) == ModelTypes.Kind.STRING);
      if (!isString) {
        block.error("json", "no model has a string field '" + field + "' to type JSON");
      }
    }
    String deletes = block.string("deletes", "hard");
    if (!deletes.equals("hard")) {
      block.error("deletes", "a bigquery sink applies deletes as BigQuery CDC deletes: use hard");
    }
    Map<String, String> partitionBy = Partitioning.parse(block, basics.models(), context);
    for (Map.Entry<String, String> partition : partitionBy.entrySet()) {
      ModelTypes.Kind kind =
          ModelTypes.kind(models.get(partition.getKey()).schema().getField(partition.getValue()));
      if (kind != ModelTypes.Kind.DATE && kind != ModelTypes.Kind.TIMESTAMP) {
        block.error(
            "partition_by",
            "BigQuery partitions by day on a date or timestamp field; '"
                + partition.getValue()
                + "' of '"
                + partition.getKey()
                + "' is neither");
      }
    }
    return new Config(
        basics, project, dataset, method.equals("at_least_once"), clusterBy, json, partitionBy);
  }
}
