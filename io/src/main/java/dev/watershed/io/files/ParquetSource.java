package dev.watershed.io.files;

import dev.watershed.transforms.records.RawRecords;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.apache.avro.Conversions;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.ResourceId;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * Reads Parquet files into raw rows ({@link RawRecords}), one row per record.
 *
 * <p>Top-level columns are read by name and turned into text the same way as for other sources:
 * decimals in plain notation, dates as {@code yyyy-MM-dd}, timestamps as ISO-8601 instants, nested
 * values as their JSON-like text. Positions are {@code <file>:row <n>}.
 *
 * <pre>{@code
 * pipeline.apply(ParquetSource.read("events", "data/events/*.parquet").withColumns(List.of("id", "ts")));
 * }</pre>
 */
public final class ParquetSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  private final String sourceName;
  private final String filepattern;
  private final List<String> columns;

  private ParquetSource(String sourceName, String filepattern, List<String> columns) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
  }

  public static ParquetSource read(String sourceName, String filepattern) {
    return new ParquetSource(sourceName, filepattern, List.of());
  }

  /** The top-level columns to read. */
  public ParquetSource withColumns(List<String> columnNames) {
    return new ParquetSource(sourceName, filepattern, List.copyOf(columnNames));
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(columns);
    return FileSourceFn.readWholeFiles(
        input, filepattern, "ReadRecords", new ParquetFn(sourceName, schema));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("filepattern", filepattern));
  }

  private static final class ParquetFn extends FileSourceFn {
    ParquetFn(String sourceName, Schema schema) {
      super(sourceName, schema);
    }

    @Override
    void readRange(LineRange range, Emitter emit) throws Exception {
      String name = range.name();
      GenericData model = new GenericData();
      model.addLogicalTypeConversion(new Conversions.DecimalConversion());
      model.addLogicalTypeConversion(new TimeConversions.DateConversion());
      model.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
      model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
      int dataColumns = schema.getFieldCount() - 3;
      try (ParquetReader<GenericRecord> reader =
          AvroParquetReader.<GenericRecord>builder(new ChannelInputFile(range.file()))
              .withDataModel(model)
              .build()) {
        GenericRecord record;
        long rowNumber = 0;
        while ((record = reader.read()) != null) {
          rowNumber++;
          List<Object> values = new ArrayList<>(dataColumns + 3);
          for (int c = 0; c < dataColumns; c++) {
            String column = schema.getField(c).getName();
            Object value = record.getSchema().getField(column) == null ? null : record.get(column);
            values.add(
                value == null
                    ? null
                    : value instanceof BigDecimal
                        ? ((BigDecimal) value).toPlainString()
                        : value.toString());
          }
          values.add(sourceName);
          values.add(name + ":row " + rowNumber);
          values.add(record.toString());
          emit.row(Row.withSchema(schema).attachValues(values));
        }
      }
    }
  }

  /** A Parquet input file over a Beam filesystem's file, so any Beam filesystem can be read. */
  private static final class ChannelInputFile implements InputFile {
    private final ResourceId file;

    ChannelInputFile(String path) {
      this.file = FileSystems.matchNewResource(path, false);
    }

    @Override
    public long getLength() throws IOException {
      return FileSystems.matchSingleFileSpec(file.toString()).sizeBytes();
    }

    @Override
    public SeekableInputStream newStream() throws IOException {
      SeekableByteChannel channel = (SeekableByteChannel) FileSystems.open(file);
      InputStream stream = Channels.newInputStream(channel);
      return new DelegatingSeekableInputStream(stream) {
        @Override
        public long getPos() throws IOException {
          return channel.position();
        }

        @Override
        public void seek(long newPos) throws IOException {
          channel.position(newPos);
        }

        @Override
        public int read(ByteBuffer buf) throws IOException {
          return channel.read(buf);
        }
      };
    }
  }
}
