package dev.watershed.io.files;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.model.RowJson;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.io.fs.MoveOptions;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;

/**
 * Writes rows as one JSON lines or CSV file per table: {@code <folder>/<table>.jsonl} or {@code
 * .csv}.
 *
 * <p>{@link WriteMode#OVERWRITE} replaces the file; {@link WriteMode#APPEND} adds a new file {@code
 * <table>-<run>.jsonl} beside the earlier ones. Merge needs a keyed table and is not offered. The
 * file appears whole when the write finishes (Beam writes to a temporary file and renames it). Only
 * the listed columns are written, in their order.
 *
 * <pre>{@code
 * customers.apply(TextSink.jsonLines("target/export", "customer", List.of("customer_id", "email")));
 * }</pre>
 */
public final class TextSink extends PTransform<PCollection<Row>, PCollection<Long>> {
  /** The file formats offered. */
  public enum Format {
    JSONL(".jsonl"),
    CSV(".csv");

    final String suffix;

    Format(String suffix) {
      this.suffix = suffix;
    }
  }

  private final String folder;
  private final String table;
  private final List<String> columns;
  private final Format format;
  private final WriteMode mode;
  private final String sinkName;
  private final PCollectionView<Boolean> gate;

  private TextSink(
      String folder,
      String table,
      List<String> columns,
      Format format,
      WriteMode mode,
      String sinkName,
      PCollectionView<Boolean> gate) {
    if (mode == WriteMode.MERGE) {
      throw new IllegalArgumentException("file sinks support append and overwrite, not merge");
    }
    this.folder = folder;
    this.table = table;
    this.columns = List.copyOf(columns);
    this.format = format;
    this.mode = mode;
    this.sinkName = sinkName;
    this.gate = gate;
  }

  public static TextSink jsonLines(String folder, String table, List<String> columns) {
    return new TextSink(folder, table, columns, Format.JSONL, WriteMode.OVERWRITE, "files", null);
  }

  public static TextSink csv(String folder, String table, List<String> columns) {
    return new TextSink(folder, table, columns, Format.CSV, WriteMode.OVERWRITE, "files", null);
  }

  public TextSink withMode(WriteMode writeMode) {
    return new TextSink(folder, table, columns, format, writeMode, sinkName, gate);
  }

  public TextSink withSinkName(String name) {
    return new TextSink(folder, table, columns, format, mode, name, gate);
  }

  /**
   * A single boolean that must be true for the file to be published; when it is false the file
   * written by this run is deleted and the folder is left as it was.
   */
  public TextSink withGate(PCollectionView<Boolean> commitAllowed) {
    return new TextSink(folder, table, columns, format, mode, sinkName, commitAllowed);
  }

  @Override
  public PCollection<Long> expand(PCollection<Row> rows) {
    String base = folder.endsWith("/") ? folder : folder + "/";
    String run = UUID.randomUUID().toString().substring(0, 8);
    String name = mode == WriteMode.APPEND ? table + "-" + run : table;
    // Written under a hidden pending name (readers of *.jsonl or *.csv do not see it), published
    // by a rename once the whole file is there and the gate is open.
    String pending = base + "." + name + ".pending-" + run;
    TextIO.Write write = TextIO.write().to(pending).withSuffix(format.suffix).withoutSharding();
    if (format == Format.CSV) {
      write = write.withHeader(String.join(",", columns));
    }
    PCollectionView<Long> rowCount =
        rows.apply("CountRows", Count.globally()).apply("RowCount", View.asSingleton());
    ParDo.SingleOutput<Long, Long> publish =
        ParDo.of(
                new PublishFn(
                    pending + format.suffix,
                    base + name + format.suffix,
                    gate,
                    rowCount,
                    sinkName + "." + table))
            .withSideInputs(rowCount);
    return rows.apply("Format", ParDo.of(new FormatFn(columns, format)))
        .apply("WriteFile", write.withOutputFilenames())
        .getPerDestinationOutputFilenames()
        .apply("CountFiles", Count.globally())
        .apply("Publish", gate == null ? publish : publish.withSideInputs(gate));
  }

  /**
   * Renames the pending file to its final name, or deletes it when the gate is closed; the rows
   * count as loaded ({@code load.<sink>.<table>}) only once published, else as blocked.
   */
  private static final class PublishFn extends DoFn<Long, Long> {
    private final String pending;
    private final String target;
    private final PCollectionView<Boolean> gate;
    private final PCollectionView<Long> rowCount;
    private final Counter loaded;
    private final Counter blocked;
    private final Counter bytes;

    PublishFn(
        String pending,
        String target,
        PCollectionView<Boolean> gate,
        PCollectionView<Long> rowCount,
        String sinkAndTable) {
      this.pending = pending;
      this.target = target;
      this.gate = gate;
      this.rowCount = rowCount;
      this.loaded = RunCounters.counter("load." + sinkAndTable);
      this.blocked = RunCounters.counter("blocked." + sinkAndTable);
      this.bytes = RunCounters.counter("bytes." + sinkAndTable);
    }

    @ProcessElement
    public void process(@Element Long files, ProcessContext context) throws IOException {
      ResourceId from = FileSystems.matchNewResource(pending, false);
      if (gate == null || context.sideInput(gate)) {
        MatchResult written = FileSystems.match(pending);
        if (written.status() == MatchResult.Status.OK) {
          for (MatchResult.Metadata file : written.metadata()) {
            bytes.inc(file.sizeBytes());
          }
        }
        FileSystems.rename(
            List.of(from),
            List.of(FileSystems.matchNewResource(target, false)),
            MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
        loaded.inc(context.sideInput(rowCount));
        context.output(files);
      } else {
        FileSystems.delete(List.of(from), MoveOptions.StandardMoveOptions.IGNORE_MISSING_FILES);
        blocked.inc(context.sideInput(rowCount));
        context.output(0L);
      }
    }
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("folder", folder));
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("format", format.name().toLowerCase(Locale.ROOT)));
    builder.add(DisplayData.item("mode", mode.specName()));
  }

  private static final class FormatFn extends DoFn<Row, String> {
    private final List<String> columns;
    private final Format format;
    private transient RowJson json;
    private transient Schema projected;

    FormatFn(List<String> columns, Format format) {
      this.columns = columns;
      this.format = format;
    }

    @Setup
    public void setup() {
      json = new RowJson();
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<String> out) {
      if (format == Format.JSONL) {
        if (projected == null) {
          List<Schema.Field> fields = new ArrayList<>();
          for (String column : columns) {
            fields.add(row.getSchema().getField(column));
          }
          projected = Schema.builder().addFields(fields).build();
        }
        List<Object> values = new ArrayList<>(columns.size());
        for (String column : columns) {
          values.add(row.getValue(column));
        }
        out.output(json.apply(Row.withSchema(projected).attachValues(values)));
        return;
      }
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns.size(); i++) {
        Object value = row.getValue(columns.get(i));
        if (i > 0) {
          line.append(',');
        }
        if (value != null) {
          String text =
              value instanceof BigDecimal
                  ? ModelTypes.atScale(row.getSchema().getField(columns.get(i)), (BigDecimal) value)
                      .toPlainString()
                  : value.toString();
          line.append(CsvLines.quote(text, ','));
        }
      }
      out.output(line.toString());
    }
  }
}
