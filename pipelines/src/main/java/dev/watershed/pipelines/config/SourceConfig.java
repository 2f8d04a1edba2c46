package dev.watershed.pipelines.config;

import dev.watershed.io.files.ReplaySource;
import dev.watershed.transforms.conform.FieldRule;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * A source as its type parsed it from the spec: an immutable value (a record per type) that knows
 * how to read itself. What the rest of Watershed asks of any source is here, with defaults for a
 * source read whole from files; a type overrides what it does differently.
 */
public interface SourceConfig {
  /** Name, type, line, declared schema and drift policy. */
  SourceBasics basics();

  default String name() {
    return basics().name();
  }

  default String type() {
    return basics().type();
  }

  default int line() {
    return basics().line();
  }

  default Map<String, String> schema() {
    return basics().schema();
  }

  default String drift() {
    return basics().drift();
  }

  /**
   * Fails with one line naming {@code where} (the source's YAML path) and the fix when the service
   * the source reads from does not answer; files are checked by the parser.
   */
  default void checkReachable(Spec spec, String where) throws Exception {}

  /**
   * The transform that reads the source in this run: its raw rows and its dead letters. It
   * publishes display data (what it reads, without credentials), which {@code plan} prints.
   */
  PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(ReadContext context);

  /**
   * True when a run reads only what arrived since the last run (an incremental table, a topic from
   * its stored offsets): such a source plans a {@link ReadRange} per run, and cannot feed an
   * overwrite.
   */
  default boolean readsInPart() {
    return false;
  }

  /**
   * The topic and consumer group a streaming run reads this source through (Kafka and webhook
   * sources), or null.
   */
  default ConsumedTopic consumedTopic() {
    return null;
  }

  /** True when the source can be read without end, in streaming mode (a Kafka topic). */
  default boolean isStream() {
    return false;
  }

  /** True when its records are changes (inserts, updates, deletes) rather than rows. */
  default boolean isChangeStream() {
    return false;
  }

  /** A source read in part: where a first run starts (null: from the start). */
  default String firstMark() throws Exception {
    return null;
  }

  /**
   * A source read in part: the mark it stands at now, where this run reads up to. Asked only of
   * sources whose {@link #readsInPart()} is true; a source read whole has no mark (null).
   */
  default String currentMark() throws Exception {
    return null;
  }

  /**
   * A source read in part whose mark is found in its records rather than asked for before the run:
   * the raw column whose highest value read becomes the source's next mark (an API's {@code
   * updated_at}), or null. Such a source's {@link #currentMark} is null.
   */
  default String markField() {
    return null;
  }

  /** Records between two marks, or -1 when the source cannot count them. */
  default long pending(ReadRange range) {
    return range.to() == null || range.to().equals(range.from()) ? 0 : -1;
  }

  /** What the source is, in lineage; a type without a convention is named by Watershed's. */
  default DatasetName datasetName(Spec spec) {
    return new DatasetName("watershed://" + type(), name());
  }

  /**
   * About how many records a whole read of the source returns, for a run's live progress (a table's
   * estimate from the database's statistics, a file's from its size); -1 when unknown. Reads no
   * records and never fails.
   */
  default long estimatedRecords(Spec spec) {
    return -1;
  }

  /**
   * The columns and types the source has now, for the drift check; null when it has no schema to
   * observe before a run.
   */
  default Map<String, String> observeColumns(Spec spec) throws Exception {
    return null;
  }

  /**
   * Checks what the spec can check without a run that the columns {@code rules} read exist (a CSV
   * file's header); problems go to {@code fields}.
   */
  default void checkColumns(
      YamlObject fields, Map<String, FieldRule> rules, ParseContext context) {}

  /**
   * True when a column the source lost since the last run is read as null without being told (a
   * file's record simply lacks it); false when the reader names its columns (a database query) and
   * must be given the missing ones ({@link ReadContext#missingColumns()}).
   */
  default boolean readsMissingColumnsAsNull() {
    return true;
  }

  /** In a replay: the transform that parses the raw records of the source's dead letters. */
  default ReplaySource replay(Spec spec, List<ReplaySource.Record> records) {
    return ReplaySource.json(name(), records);
  }
}
