package dev.watershed.io.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.transforms.records.RawRecords;
import dev.watershed.transforms.records.StrictJson;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Reads JSON lines files (one JSON object per line) into raw rows ({@link RawRecords}).
 *
 * <p>Each column is a field name or a dotted path into nested objects ({@code address.city}).
 * Strings, numbers and booleans are read as their text; nested objects and arrays as compact JSON;
 * a missing field or JSON null as null. A line that is not a JSON object goes to the dead-letter
 * output ({@value #INVALID_JSON}) with the file, line number and the line itself. Files larger than
 * 32 MiB are read in line ranges on every worker.
 *
 * <pre>{@code
 * pipeline.apply(
 *     JsonLinesSource.read("billing", "data/accounts.jsonl")
 *         .withColumns(List.of("account_no", "owner.email", "balance")));
 * }</pre>
 */
public final class JsonLinesSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  public static final String INVALID_JSON = "invalid JSON";

  /** Reason of a line whose bytes are not UTF-8 text. */
  public static final String INVALID_ENCODING = "invalid encoding";

  private final String sourceName;
  private final String filepattern;
  private final List<String> columns;
  private final long rangeBytes;
  private final int maxRecordBytes;

  private JsonLinesSource(
      String sourceName,
      String filepattern,
      List<String> columns,
      long rangeBytes,
      int maxRecordBytes) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
    this.rangeBytes = rangeBytes;
    this.maxRecordBytes = maxRecordBytes;
  }

  public static JsonLinesSource read(String sourceName, String filepattern) {
    return new JsonLinesSource(
        sourceName,
        filepattern,
        List.of(),
        LineRange.RANGE_BYTES,
        CsvFormat.DEFAULT_MAX_RECORD_BYTES);
  }

  /** The fields (or dotted paths) to read; JSON lines carry no header, so name them. */
  public JsonLinesSource withColumns(List<String> columnNames) {
    return new JsonLinesSource(
        sourceName, filepattern, List.copyOf(columnNames), rangeBytes, maxRecordBytes);
  }

  /**
   * The longest line read (16 MiB by default); a longer one is a dead letter ({@value
   * CsvSource#TOO_LARGE}) and is never held in memory whole.
   */
  public JsonLinesSource withMaxRecordBytes(int bytes) {
    return new JsonLinesSource(sourceName, filepattern, columns, rangeBytes, bytes);
  }

  /** Reads files larger than {@code bytes} in ranges of about that size, on every worker. */
  JsonLinesSource withRangeBytes(long bytes) {
    return new JsonLinesSource(sourceName, filepattern, columns, bytes, maxRecordBytes);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(columns);
    return FileSourceFn.readFiles(
        input,
        filepattern,
        "ParseLines",
        new JsonFn(sourceName, schema, maxRecordBytes),
        rangeBytes);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("filepattern", filepattern));
  }

  /** The text of a JSON value as a raw column: scalars as text, containers as compact JSON. */
  public static String text(JsonNode value) {
    if (value == null || value.isNull() || value.isMissingNode()) {
      return null;
    }
    if (value.isValueNode()) {
      return value.asText();
    }
    return value.toString();
  }

  /**
   * The raw row of one JSON object: each column of {@code schema} read from it ({@link #at}, {@link
   * #text}), then the source, position and payload.
   */
  static Row rawRow(
      Schema schema, String sourceName, JsonNode object, String position, String payload) {
    int dataColumns = schema.getFieldCount() - 3;
    List<Object> values = new ArrayList<>(dataColumns + 3);
    for (int c = 0; c < dataColumns; c++) {
      values.add(text(at(object, schema.getField(c).getName())));
    }
    values.add(sourceName);
    values.add(position);
    values.add(payload);
    return Row.withSchema(schema).attachValues(values);
  }

  /** Follows a dotted path into nested objects. */
  public static JsonNode at(JsonNode object, String path) {
    JsonNode direct = object.get(path);
    if (direct != null || path.indexOf('.') < 0) {
      return direct;
    }
    JsonNode node = object;
    for (String part : path.split("\\.")) {
      if (node == null || !node.isObject()) {
        return null;
      }
      node = node.get(part);
    }
    return node;
  }

  private static final class JsonFn extends FileSourceFn {
    private transient ObjectMapper mapper;

    private final int maxLineBytes;

    JsonFn(String sourceName, Schema schema, int maxLineBytes) {
      super(sourceName, schema);
      this.maxLineBytes = maxLineBytes;
    }

    @Setup
    public void setup() {
      mapper = StrictJson.mapper();
    }

    @Override
    void readRange(LineRange range, Emitter emit) throws Exception {
      String name = range.name();
      CharsetDecoder utf8 =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      try (FileSourceFn.ByteLines lines = new FileSourceFn.ByteLines(range.open(), maxLineBytes)) {
        long lineNumber = range.firstLine() - 1;
        while (lines.next()) {
          lineNumber++;
          String position = name + ":" + lineNumber;
          if (lines.tooLong()) {
            emit.deadLetter(
                CsvSource.TOO_LARGE,
                "the line has "
                    + lines.fullLength()
                    + " bytes, more than "
                    + maxLineBytes
                    + " (max_record_bytes)",
                position,
                new String(lines.bytes(), 0, lines.length(), StandardCharsets.UTF_8) + "...");
            continue;
          }
          String line;
          try {
            // Decoded strictly: bytes that are not UTF-8 make a dead letter, never U+FFFD.
            line = utf8.decode(ByteBuffer.wrap(lines.bytes(), 0, lines.length())).toString();
          } catch (CharacterCodingException e) {
            emit.deadLetter(
                INVALID_ENCODING,
                "bytes that are not UTF-8 text",
                position,
                "base64:"
                    + Base64.getEncoder()
                        .encodeToString(Arrays.copyOf(lines.bytes(), lines.length())));
            continue;
          }
          if (line.isBlank()) {
            continue;
          }
          JsonNode object;
          try {
            object = mapper.readTree(lineNumber == 1 ? CsvSource.stripBom(line) : line);
          } catch (JsonProcessingException e) {
            emit.deadLetter(INVALID_JSON, e.getOriginalMessage(), position, line);
            continue;
          }
          if (object == null || !object.isObject()) {
            emit.deadLetter(INVALID_JSON, "the line is not a JSON object", position, line);
            continue;
          }
          emit.row(rawRow(schema, sourceName, object, position, line));
        }
      }
    }
  }
}
