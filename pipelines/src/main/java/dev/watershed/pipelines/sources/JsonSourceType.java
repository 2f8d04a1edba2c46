package dev.watershed.pipelines.sources;

import dev.watershed.io.files.JsonSource;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.util.List;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: json}: JSON documents holding an array of records (an export, an API dump). */
public final class JsonSourceType implements SourceType {
  /**
   * A JSON document source: its files, the JSON pointer to the records' array (empty: the document
   * is the array), and the largest record it reads.
   */
  public record Config(SourceBasics basics, String path, String recordsAt, int maxRecordBytes)
      implements SourceConfig {
    @Override
    public DatasetName datasetName(Spec spec) {
      return DatasetName.file(spec.resolve(path));
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return JsonSource.read(name(), context.spec().resolve(path))
          .withRecordsAt(recordsAt)
          .withMaxRecordBytes(maxRecordBytes)
          .withColumns(context.columns());
    }
  }

  @Override
  public String name() {
    return "json";
  }

  @Override
  public String description() {
    return "JSON documents, each an array of records or an object holding one";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        FileKeys.PATH,
        Key.string(
            "records_at",
            "JSON pointer to the array of records, such as /data (default: the document is the"
                + " array)"),
        FileKeys.MAX_RECORD_BYTES);
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    String recordsAt = block.string("records_at", "");
    if (!recordsAt.isEmpty() && !recordsAt.startsWith("/")) {
      block.error(
          "records_at",
          "expected a JSON pointer to the records' array, such as /data; got '" + recordsAt + "'");
    }
    return new Config(
        basics, FileKeys.path(block, context), recordsAt, FileKeys.maxRecordBytes(block));
  }
}
