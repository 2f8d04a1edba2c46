package dev.watershed.io.files;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.transforms.records.RawRecords;
import dev.watershed.transforms.records.StrictJson;
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

  private JsonSource(
      String sourceName, String filepattern, List<String> columns, String recordsAt) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
    this.recordsAt = recordsAt;
  }

  public static JsonSource read(String sourceName, String filepattern) {
    return new JsonSource(sourceName, filepattern, List.of(), "");
  }

  /** The fields (or dotted paths) to read. */
  public JsonSource withColumns(List<String> columnNames) {
    return new JsonSource(sourceName, filepattern, List.copyOf(columnNames), recordsAt);
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
    return new JsonSource(sourceName, filepattern, columns, pointer);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    Schema schema = RawRecords.schema(columns);
    return FileSourceFn.readWholeFiles(
        input, filepattern, "ParseDocuments", new DocumentFn(sourceName, schema, recordsAt));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(DisplayData.item("filepattern", filepattern));
    builder.add(DisplayData.item("recordsAt", recordsAt.isEmpty() ? "/" : recordsAt));
  }

  private static final class DocumentFn extends FileSourceFn {
    private final String recordsAt;
    private transient ObjectMapper mapper;

    DocumentFn(String sourceName, Schema schema, String recordsAt) {
      super(sourceName, schema);
      this.recordsAt = recordsAt;
    }

    @Setup
    public void setup() {
      // Elements are read from a parser that goes on past them; the document's end is checked here.
      mapper = StrictJson.mapper().disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
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

    private void record(JsonParser parser, String position, Emitter emit) throws Exception {
      JsonNode node = mapper.readTree(parser);
      String payload = node.toString();
      if (!node.isObject()) {
        emit.deadLetter(
            JsonLinesSource.INVALID_JSON, "the record is not a JSON object", position, payload);
        return;
      }
      emit.row(JsonLinesSource.rawRow(schema, sourceName, node, position, payload));
    }
  }
}
