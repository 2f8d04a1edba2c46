package dev.watershed.pipelines.sinks;

import dev.watershed.io.WriteMode;
import dev.watershed.io.files.TextSink;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** The text file sinks: {@code csv} and {@code jsonl}, one file per model in a folder. */
public abstract class TextSinkType implements SinkType {
  /** A folder of one text file per model. */
  public record Config(SinkBasics basics, String path) implements SinkConfig {
    @Override
    public DatasetName datasetName(Spec spec, String model) {
      return DatasetName.file(spec.resolve(path) + "/" + model);
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      String model = context.model().name();
      List<String> columns =
          context.model().loadFields().stream().map(Schema.Field::getName).toList();
      String folder = context.spec().resolve(path);
      TextSink text =
          type().equals("csv")
              ? TextSink.csv(folder, model, columns)
              : TextSink.jsonLines(folder, model, columns);
      text = text.withMode(context.mode()).withSinkName(name());
      rows.apply(step, context.gate() == null ? text : text.withGate(context.gate()));
      return null;
    }
  }

  @Override
  public List<Key> keys() {
    return List.of(Key.string("path", "the folder the files go in, relative to the spec's folder"));
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
    return new Config(basics, block.string("path", true));
  }

  /** {@code csv}: an RFC 4180 file with a header per model. */
  public static final class Csv extends TextSinkType {
    @Override
    public String name() {
      return "csv";
    }

    @Override
    public String description() {
      return "a CSV file with a header per model";
    }
  }

  /** {@code jsonl}: a JSON lines file per model. */
  public static final class JsonLines extends TextSinkType {
    @Override
    public String name() {
      return "jsonl";
    }

    @Override
    public String description() {
      return "a JSON lines file per model";
    }
  }
}
