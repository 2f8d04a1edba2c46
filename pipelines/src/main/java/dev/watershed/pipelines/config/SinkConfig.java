package dev.watershed.pipelines.config;

import dev.watershed.io.WriteMode;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * A sink as its type parsed it from the spec: an immutable value (a record per type) that knows how
 * to load a model's rows. Sinks that are database tables also implement {@link TableSink}.
 */
public interface SinkConfig {
  SinkBasics basics();

  default String name() {
    return basics().name();
  }

  default String type() {
    return basics().type();
  }

  default int line() {
    return basics().line();
  }

  default WriteMode mode() {
    return basics().mode();
  }

  /** The models it takes as the spec lists them; empty means all ({@link Spec#modelsOf}). */
  default List<String> models() {
    return basics().models();
  }

  /** The column each model is partitioned by, where the sink partitions. */
  default Map<String, String> partitionBy() {
    return Map.of();
  }

  /** True for sinks a streaming run can write (tables that merge, topics). */
  default boolean streams() {
    return false;
  }

  /**
   * Applies the load of one model's rows to {@code rows} under {@code step}; returns its dead
   * letters (rows the destination refused), or null when it refuses none. The load transform
   * publishes display data (where it writes, without credentials), which {@code plan} prints.
   */
  PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context);

  /**
   * Fails with one line naming {@code where} (the sink's YAML path) and the fix when the service it
   * writes to does not answer.
   */
  default void checkReachable(Spec spec, String where) throws Exception {}

  /** What {@code model} becomes in this sink, in lineage. */
  default DatasetName datasetName(Spec spec, String model) {
    return new DatasetName("watershed://" + type(), name() + "." + model);
  }

  /** Removes what crashed runs of the pipeline left in the sink; returns what it removed. */
  default List<String> sweepStaging(Spec spec) throws Exception {
    return List.of();
  }

  /**
   * The sink's {@code sync:} block, or null: a synced sink receives only what changed since it last
   * received each model ({@link SyncSpec}); its load records what the destination accepted.
   */
  default SyncSpec sync() {
    return null;
  }

  /**
   * True when a synced sink takes the diff as a change stream (the model with changes: {@code
   * _version}, {@code _deleted}, {@code _changed_at}): tables, which apply it, and topics, whose
   * consumers do. False for sinks that turn deletes into requests of their own (APIs).
   */
  default boolean syncsAsChanges() {
    return isTable();
  }

  /** True when this is a database table sink. */
  default boolean isTable() {
    return this instanceof TableSink;
  }
}
