package dev.watershed.pipelines.sinks;

import dev.watershed.io.WriteMode;
import dev.watershed.io.files.ParquetSink;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: parquet}: a lake folder of Parquet files per model, optionally partitioned. */
public final class ParquetSinkType implements SinkType {
  /** A lake: the folder models are written under, and each model's partition field. */
  public record Config(SinkBasics basics, String path, Map<String, String> partitionBy)
      implements SinkConfig {
    @Override
    public DatasetName datasetName(Spec spec, String model) {
      return DatasetName.file(spec.resolve(path) + "/" + model);
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      String model = context.model().name();
      String partition = partitionBy.get(model);
      ParquetSink parquet =
          ParquetSink.write(context.spec().resolve(path), model, context.model().loadFields())
              .withPipeline(context.spec().name())
              .withMode(context.mode())
              .withSinkName(name());
      if (partition != null) {
        parquet = parquet.withPartitionColumn(partition);
      }
      if (context.gate() != null) {
        parquet = parquet.withGate(context.gate());
      }
      rows.apply(step, parquet);
      return null;
    }

    @Override
    public List<String> sweepStaging(Spec spec) throws Exception {
      List<String> swept = new ArrayList<>();
      for (String folder : ParquetSink.sweepStaging(spec.resolve(path), spec.name())) {
        swept.add("sinks." + name() + ": " + folder);
      }
      return swept;
    }
  }

  @Override
  public String name() {
    return "parquet";
  }

  @Override
  public String description() {
    return "a lake folder of Parquet files per model, published by rename";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("path", "the lake folder, relative to the spec's folder (gs:// too)"),
        Partitioning.KEY);
  }

  @Override
  public WriteMode defaultMode() {
    return WriteMode.OVERWRITE;
  }

  @Override
  public List<WriteMode> modes() {
    return List.of(WriteMode.OVERWRITE, WriteMode.APPEND);
  }

  @Override
  public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
    return new Config(
        basics, block.string("path", true), Partitioning.parse(block, basics.models(), context));
  }
}
