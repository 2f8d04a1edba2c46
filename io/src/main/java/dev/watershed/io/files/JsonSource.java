package dev.watershed.io.files;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import dev.watershed.transforms.records.RawRecords;
import dev.watershed.transforms.records.StrictJson;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Reads files that hold one JSON document each (most API exports) into raw rows ({@link
 * RawRecords}): a top-level array yields one record per element, a top-level object one record, and
 * with {@link #withRecordsAt} the array found at a JSON pointer ({@code /data}) inside the document
 * yields them. Files are read as a stream of tokens, one record in memory at a time.
 *
 * <p>Columns are read as in {@link JsonLinesSource} (field names or dotted paths). A record's
 * position is {@code <file>[<index>]}, its index in the array from 0. An element that is not an
 * object is a dead letter ({@value JsonLinesSource#INVALID_JSON}); so is the rest of a file after a
 * syntax error, as one dead letter that says where reading stopped (JSON cannot be resynchronised
 * after an error), and content after the document.
 *
 * <pre>{@code
 * pipeline.apply(
 *     JsonSource.read("payments", "exports/charges-*.json")
 *         .withRecordsAt("/data")
 *         .withColumns(List.of("id", "customer.email", "amount")));
 * }</pre>
 */
public final class JsonSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  private final String sourceName;
  private final String filepattern;
  private final List<String> columns;
  private final String recordsAt;
  private final int maxRecordBytes;

  private JsonSource(
      String sourceName,
      String filepattern,
      List<String> columns,
      String recordsAt,
      int maxRecordBytes) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
    this.recordsAt = recordsAt;
    this.maxRecordBytes = maxRecordBytes;
  }

  public static JsonSource read(String sourceName, String filepattern) {
    return new JsonSource(
        sourceName, filepattern, List.of(), "", CsvFormat.DEFAULT_MAX_RECORD_BYTES);
  }

  /** The fields (or dotted paths) to read. */
  public JsonSource withColumns(List<String> columnNames) {
    return new JsonSource(
        sourceName, filepattern, List.copyOf(columnNames), recordsAt, maxRecordBytes);
  }

  /**
   * The largest record read, in bytes of the file (16 MiB by default): a larger one is a dead
   * letter ({@value CsvSource#TOO_LARGE}) with its position and its first bytes, and is never held
   * in memory whole; reading goes on with the next record. A single string value longer than this
   * stops the file's reading there (the parser cannot skip it), as one dead letter.
   */
  public JsonSource withMaxRecordBytes(int bytes) {
    if (bytes < 1) {
      throw new IllegalArgumentException("max_record_bytes must be positive, got " + bytes);
    }
    return new JsonSource(sourceName, filepattern, columns, recordsAt, bytes);
  }

  /**
   * Where the records are: a JSON pointer of object keys to an array ({@code /data}, {@code
   * /response/items}); empty for the document itself.
   */
  public JsonSource withRecordsAt(String pointer) {
    if (!pointer.isEmpty() && !pointer.startsWith("/")) {
      throw new IllegalArgumentException(
          "records_at is a JSON pointer starting with '/', e.g. /data; got '" + pointer + "'");
    }
    return new JsonSource(sourceName, filepattern, columns, pointer, maxRecordBytes);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(columns);
    return FileSourceFn.readWholeFiles(
        input,
        filepattern,
        "ParseDocuments",
        new DocumentFn(sourceName, schema, recordsAt, maxRecordBytes));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("filepattern", filepattern));
    builder.add(DisplayData.item("recordsAt", recordsAt.isEmpty() ? "/" : recordsAt));
  }

  private static final class DocumentFn extends FileSourceFn {
    private final String recordsAt;
    private final int maxRecordBytes;
    private transient ObjectMapper mapper;

    DocumentFn(String sourceName, Schema schema, String recordsAt, int maxRecordBytes) {
      super(sourceName, schema);
      this.recordsAt = recordsAt;
      this.maxRecordBytes = maxRecordBytes;
    }

    @Setup
    public void setup() {
      // Elements are read from a parser that goes on past them; the document's end is checked here.
      mapper = StrictJson.mapper().disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
      mapper
          .getFactory()
          .setStreamReadConstraints(
              StreamReadConstraints.builder().maxStringLength(maxRecordBytes).build());
    }

    @Override
    void readRange(LineRange range, Emitter emit) throws Exception {
      String name = range.name();
      long index = 0;
      try (InputStream in = range.open();
          JsonParser parser = mapper.getFactory().createParser(in)) {
        try {
          JsonToken token = parser.nextToken();
          if (token == null) {
            return;
          }
          token = descend(parser, token, name);
          if (token == null) {
            emit.deadLetter(JsonLinesSource.INVALID_JSON, "no array at " + recordsAt, name, "");
            return;
          }
          if (token == JsonToken.START_ARRAY) {
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
              if (token == null) {
                throw new JsonProcessingException(
                    "the array is not closed", parser.currentLocation()) {};
              }
              record(parser, name + "[" + index + "]", emit);
              index++;
            }
          } else {
            record(parser, name + "[" + index + "]", emit);
            index++;
          }
          if (recordsAt.isEmpty() && parser.nextToken() != null) {
            throw new JsonProcessingException(
                "content after the document", parser.currentLocation()) {};
          }
        } catch (JsonProcessingException e) {
          JsonLocation at = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
          emit.deadLetter(
              JsonLinesSource.INVALID_JSON,
              e.getOriginalMessage()
                  + " at line "
                  + at.getLineNr()
                  + ", column "
                  + at.getColumnNr()
                  + "; the rest of the file from record "
                  + index
                  + " on was not read",
              name + "[" + index + "]",
              "");
        }
      }
    }

    /** Moves to the array at {@code recordsAt}; null when there is none. */
    private JsonToken descend(JsonParser parser, JsonToken token, String name) throws Exception {
      if (recordsAt.isEmpty()) {
        return token;
      }
      for (String key : recordsAt.substring(1).split("/", -1)) {
        String wanted = key.replace("~1", "/").replace("~0", "~");
        if (token != JsonToken.START_OBJECT) {
          return null;
        }
        boolean found = false;
        while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
          String field = parser.currentName();
          token = parser.nextToken();
          if (field.equals(wanted)) {
            found = true;
            break;
          }
          parser.skipChildren();
        }
        if (!found) {
          return null;
        }
      }
      return token == JsonToken.START_ARRAY ? token : null;
    }

    /**
     * Reads one record into a token buffer, watching its size in the file's bytes: a record larger
     * than the limit is skipped and becomes a dead letter with its first bytes.
     */
    private void record(JsonParser parser, String position, Emitter emit) throws Exception {
      long start = parser.currentTokenLocation().getByteOffset();
      TokenBuffer buffer = new TokenBuffer(parser);
      int depth = 0;
      JsonToken token = parser.currentToken();
      while (true) {
        buffer.copyCurrentEvent(parser);
        if (token.isStructStart()) {
          depth++;
        } else if (token.isStructEnd()) {
          depth--;
        }
        if (depth == 0) {
          break;
        }
        if (parser.currentLocation().getByteOffset() - start > maxRecordBytes) {
          String excerpt = excerpt(buffer);
          while (depth > 0) {
            token = parser.nextToken();
            if (token == null) {
              throw new JsonProcessingException(
                  "the record is not closed", parser.currentLocation()) {};
            }
            if (token.isStructStart()) {
              parser.skipChildren();
            } else if (token.isStructEnd()) {
              depth--;
            }
          }
          emit.deadLetter(
              CsvSource.TOO_LARGE,
              "the record has "
                  + (parser.currentLocation().getByteOffset() - start)
                  + " bytes, more than "
                  + maxRecordBytes
                  + " (max_record_bytes)",
              position,
              excerpt + "...");
          return;
        }
        token = parser.nextToken();
        if (token == null) {
          throw new JsonProcessingException(
              "the record is not closed", parser.currentLocation()) {};
        }
      }
      JsonNode node;
      try (JsonParser buffered = buffer.asParser(mapper)) {
        buffered.nextToken();
        node = mapper.readTree(buffered);
      }
      String payload = node.toString();
      if (!node.isObject()) {
        emit.deadLetter(
            JsonLinesSource.INVALID_JSON, "the record is not a JSON object", position, payload);
        return;
      }
      emit.row(JsonLinesSource.rawRow(schema, sourceName, node, position, payload));
    }

    /** The start of a record too large to keep, as JSON text (about the first kilobyte). */
    private String excerpt(TokenBuffer buffer) throws IOException {
      StringBuilder text = new StringBuilder();
      try (JsonParser read = buffer.asParser(mapper)) {
        JsonToken token;
        while ((token = read.nextToken()) != null && text.length() < 1024) {
          if (token == JsonToken.FIELD_NAME) {
            text.append('"').append(read.currentName()).append("\":");
          } else if (token.isScalarValue()) {
            String value = read.getText();
            text.append(token == JsonToken.VALUE_STRING ? "\"" + value + "\"" : value).append(',');
          } else {
            text.append(token.asString());
          }
        }
      }
      return text.length() > 1024 ? text.substring(0, 1024) : text.toString();
    }
  }
}
