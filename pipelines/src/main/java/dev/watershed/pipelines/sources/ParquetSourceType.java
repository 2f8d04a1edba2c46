package dev.watershed.pipelines.sources;

import dev.watershed.io.SourceSizes;
import dev.watershed.io.files.ParquetSource;
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

/** {@code type: parquet}: Parquet files (their schema travels with them). */
public final class ParquetSourceType implements SourceType {
  /** A Parquet source: its files. */
  public record Config(SourceBasics basics, String path) implements SourceConfig {
    @Override
    public DatasetName datasetName(Spec spec) {
      return DatasetName.file(spec.resolve(path));
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return ParquetSource.read(name(), context.spec().resolve(path))
          .withColumns(context.columns());
    }

    @Override
    public long estimatedRecords(Spec spec) {
      return SourceSizes.parquetRows(spec.resolve(path));
    }
  }

  @Override
  public String name() {
    return "parquet";
  }

  @Override
  public String description() {
    return "Parquet files";
  }

  @Override
  public List<Key> keys() {
    return List.of(FileKeys.PATH);
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    return new Config(basics, FileKeys.path(block, context));
  }
}
