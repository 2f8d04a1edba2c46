package dev.watershed.pipelines.sources;

import dev.watershed.io.SourceSizes;
import dev.watershed.io.drift.SourceSchemas;
import dev.watershed.io.files.JsonLinesSource;
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
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: jsonl}: files of one JSON object per line. */
public final class JsonLinesSourceType implements SourceType {
  /** A JSON lines source: its files and the largest record it reads. */
  public record Config(SourceBasics basics, String path, int maxRecordBytes)
      implements SourceConfig {
    @Override
    public DatasetName datasetName(Spec spec) {
      return DatasetName.file(spec.resolve(path));
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return JsonLinesSource.read(name(), context.spec().resolve(path))
          .withMaxRecordBytes(maxRecordBytes)
          .withColumns(context.columns());
    }

    @Override
    public long estimatedRecords(Spec spec) {
      return SourceSizes.textLines(spec.resolve(path), false);
    }

    @Override
    public Map<String, String> observeColumns(Spec spec) throws Exception {
      return SourceSchemas.jsonLines(spec.resolve(path));
    }
  }

  @Override
  public String name() {
    return "jsonl";
  }

  @Override
  public String description() {
    return "JSON lines files: one JSON object per line";
  }

  @Override
  public List<Key> keys() {
    return List.of(FileKeys.PATH, FileKeys.MAX_RECORD_BYTES);
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    return new Config(basics, FileKeys.path(block, context), FileKeys.maxRecordBytes(block));
  }
}
