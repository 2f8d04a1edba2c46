package dev.watershed.io.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.records.RawRecords;
import dev.watershed.transforms.records.StrictJson;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads raw records back from dead letters, for {@code watershed replay}: each dead letter's raw
 * payload is parsed as its source would parse it (a CSV line by the source's current header, a JSON
 * object by field names and dotted paths) and keeps its original position, so a record that fails
 * again is reported where it came from.
 *
 * <pre>{@code
 * pipeline.apply(
 *     ReplaySource.csv("crm", header, CsvFormat.rfc4180(), records).withColumns(List.of("id", "email")));
 * }</pre>
 */
public final class ReplaySource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  /** One dead letter to replay: where the record came from and what was read there. */
  public record Record(String position, String payload) implements Serializable {}

  private final String sourceName;
  private final List<String> csvHeader;
  private final CsvFormat format;
  private final List<Record> records;
  private final List<String> columns;

  private ReplaySource(
      String sourceName,
      List<String> csvHeader,
      CsvFormat format,
      List<Record> records,
      List<String> columns) {
    this.sourceName = sourceName;
    this.csvHeader = csvHeader;
    this.format = format;
    this.records = List.copyOf(records);
    this.columns = columns;
  }

  /** CSV lines, split by {@code header} (the source file's header as it is now). */
  public static ReplaySource csv(
      String sourceName, List<String> header, CsvFormat format, List<Record> records) {
    return new ReplaySource(sourceName, List.copyOf(header), format, records, List.of());
  }

  /** JSON objects: JSON lines records, and JDBC rows (their payload is the row as JSON). */
  public static ReplaySource json(String sourceName, List<Record> records) {
    return new ReplaySource(sourceName, null, CsvFormat.rfc4180(), records, List.of());
  }

  public ReplaySource withColumns(List<String> columnNames) {
    return new ReplaySource(sourceName, csvHeader, format, records, List.copyOf(columnNames));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(DisplayData.item("deadLetters", records.size()));
    builder.add(DisplayData.item("format", csvHeader == null ? "json" : "csv"));
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(columns);
    List<KV<String, String>> items = new ArrayList<>();
    for (Record record : records) {
      items.add(KV.of(record.position(), record.payload()));
    }
    PCollectionTuple out =
        input
            .apply(
                "DeadLetters",
                Create.of(items).withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
            .apply(
                "Parse",
                ParDo.of(new ParseFn(sourceName, schema, csvHeader, format))
                    .withOutputTags(FileSourceFn.ROWS, TupleTagList.of(FileSourceFn.DEAD)));
    return WithFailures.Result.of(
        out.get(FileSourceFn.ROWS).setRowSchema(schema),
        out.get(FileSourceFn.DEAD).setRowSchema(DeadLetter.SCHEMA));
  }

  private static final class ParseFn extends DoFn<KV<String, String>, Row> {
    private final String sourceName;
    private final Schema schema;
    private final List<String> header;
    private final CsvFormat format;
    private final Counter read;
    private transient ObjectMapper mapper;

    ParseFn(String sourceName, Schema schema, List<String> header, CsvFormat format) {
      this.sourceName = sourceName;
      this.schema = schema;
      this.header = header;
      this.format = format;
      this.read = RunCounters.counter("source." + sourceName + ".read");
    }

    @Setup
    public void setup() {
      mapper = StrictJson.mapper();
    }

    @ProcessElement
    public void process(@Element KV<String, String> record, MultiOutputReceiver out) {
      read.inc();
      String position = record.getKey();
      String payload = record.getValue();
      int dataColumns = schema.getFieldCount() - 3;
      List<Object> values = new ArrayList<>(dataColumns + 3);
      if (header != null) {
        List<String> fields = CsvSource.fields(payload, format);
        if (fields == null) {
          out.get(FileSourceFn.DEAD)
              .output(
                  DeadLetter.of(
                      FileSourceFn.STAGE,
                      CsvSource.MALFORMED,
                      "the record's quoting is broken",
                      sourceName,
                      position,
                      payload));
          return;
        }
        if (fields.size() != header.size()) {
          out.get(FileSourceFn.DEAD)
              .output(
                  DeadLetter.of(
                      FileSourceFn.STAGE,
                      CsvSource.WRONG_COLUMN_COUNT,
                      "expected "
                          + header.size()
                          + " fields as in the header, found "
                          + fields.size(),
                      sourceName,
                      position,
                      payload));
          return;
        }
        for (int c = 0; c < dataColumns; c++) {
          int index = header.indexOf(schema.getField(c).getName());
          values.add(index >= 0 ? fields.get(index) : null);
        }
      } else {
        JsonNode object;
        try {
          object = mapper.readTree(payload);
        } catch (JsonProcessingException e) {
          object = null;
        }
        if (object == null || !object.isObject()) {
          out.get(FileSourceFn.DEAD)
              .output(
                  DeadLetter.of(
                      FileSourceFn.STAGE,
                      JsonLinesSource.INVALID_JSON,
                      "the payload is not a JSON object",
                      sourceName,
                      position,
                      payload));
          return;
        }
        for (int c = 0; c < dataColumns; c++) {
          values.add(
              JsonLinesSource.text(JsonLinesSource.at(object, schema.getField(c).getName())));
        }
      }
      values.add(sourceName);
      values.add(position);
      values.add(payload);
      out.get(FileSourceFn.ROWS).output(Row.withSchema(schema).attachValues(values));
    }
  }
}
