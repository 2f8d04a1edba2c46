package dev.watershed.io.files;

import dev.watershed.transforms.records.RawRecords;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.io.DelegatingSeekableInputStream;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * Reads Parquet files into raw rows ({@link RawRecords}), one row per record.
 *
 * <p>Top-level columns are read by name and turned into text the same way as for other sources:
 * decimals in plain notation (also those stored as INT32 or INT64), dates as {@code yyyy-MM-dd},
 * timestamps as ISO-8601 instants (timestamps without a time zone as ISO local date-times), times
 * of day as ISO times, nested values as their JSON-like text. Positions are {@code <file>:row <n>}.
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
      GenericData model = dataModel();
      Map<String, Integer> intDecimals =
          intDecimalScales(schemaOf(new ChannelInputFile(range.file())));
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
            values.add(text(value, intDecimals.get(column)));
          }
          values.add(sourceName);
          values.add(name + ":row " + rowNumber);
          values.add(record.toString());
          emit.row(Row.withSchema(schema).attachValues(values));
        }
      }
    }
  }

  /** Avro's model with the conversions that give decimals, dates and timestamps their values. */
  private static GenericData dataModel() {
    GenericData model = new GenericData();
    model.addLogicalTypeConversion(new Conversions.DecimalConversion());
    model.addLogicalTypeConversion(new TimeConversions.DateConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.LocalTimestampMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.LocalTimestampMillisConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMicrosConversion());
    model.addLogicalTypeConversion(new TimeConversions.TimeMillisConversion());
    return model;
  }

  private static MessageType schemaOf(InputFile file) throws IOException {
    try (ParquetFileReader footer = ParquetFileReader.open(file)) {
      return footer.getFooter().getFileMetaData().getSchema();
    }
  }

  /**
   * The scales of the top-level decimal columns stored as INT32 or INT64 (as DuckDB, Spark and
   * Arrow write decimals of up to 18 digits): Avro reads those as their unscaled whole numbers.
   */
  private static Map<String, Integer> intDecimalScales(MessageType schema) {
    Map<String, Integer> scales = new HashMap<>();
    for (Type column : schema.getFields()) {
      if (column.isPrimitive()
          && column.getLogicalTypeAnnotation()
              instanceof LogicalTypeAnnotation.DecimalLogicalTypeAnnotation decimal
          && (column.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT32
              || column.asPrimitiveType().getPrimitiveTypeName() == PrimitiveTypeName.INT64)) {
        scales.put(column.getName(), decimal.getScale());
      }
    }
    return scales;
  }

  /**
   * A column's value as this source reads it; {@code intDecimalScale} is the scale of a decimal
   * stored as a whole number, else null.
   */
  private static String text(Object value, Integer intDecimalScale) {
    if (value == null) {
      return null;
    }
    if (intDecimalScale != null && value instanceof Number number) {
      return BigDecimal.valueOf(number.longValue(), intDecimalScale).toPlainString();
    }
    return value instanceof BigDecimal ? ((BigDecimal) value).toPlainString() : value.toString();
  }

  /** The rows of the Parquet file at {@code path}, from its footer. */
  public static long rowCount(String path) throws IOException {
    try (ParquetFileReader footer = ParquetFileReader.open(new ChannelInputFile(path))) {
      return footer.getRecordCount();
    }
  }

  /** A Parquet file's schema and its first records, each a value per top-level column. */
  public record Sample(MessageType schema, List<List<String>> records) {}

  /**
   * The schema of the Parquet file at {@code path} and up to {@code limit} of its records, their
   * values as text as this source reads them ({@code watershed init} infers a key from them).
   */
  public static Sample sample(String path, int limit) throws IOException {
    InputFile file = new ChannelInputFile(path);
    MessageType schema = schemaOf(file);
    Map<String, Integer> intDecimals = intDecimalScales(schema);
    List<List<String>> records = new ArrayList<>();
    try (ParquetReader<GenericRecord> reader =
        AvroParquetReader.<GenericRecord>builder(file).withDataModel(dataModel()).build()) {
      GenericRecord record;
      while (records.size() < limit && (record = reader.read()) != null) {
        List<String> values = new ArrayList<>();
        for (Type column : schema.getFields()) {
          values.add(text(record.get(column.getName()), intDecimals.get(column.getName())));
        }
        records.add(values);
      }
    }
    return new Sample(schema, records);
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
