package dev.watershed.io.kafka;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.files.JsonLinesSource;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.records.RawRecords;
import dev.watershed.transforms.records.StrictJson;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Turns one Kafka record into a raw row ({@link RawRecords}) of a source, or explains why it
 * cannot.
 *
 * <p>Two value formats:
 *
 * <ul>
 *   <li>{@link Format#JSON}: the value is a JSON object whose fields (or dotted paths) are the
 *       columns; every record is an upsert.
 *   <li>{@link Format#DEBEZIUM_JSON}: the value is a Debezium change event, with or without the
 *       {@code schema}/{@code payload} wrapper of the JSON converter. {@code op} {@code c}, {@code
 *       r} and {@code u} become upserts of {@code after}; {@code d} a delete of {@code before}. The
 *       change's version is its position in the source log: {@code source.lsn} (PostgreSQL), or
 *       {@code source.file} + {@code pos} + {@code row} (MySQL, MariaDB) packed into one number
 *       that grows with the log; events without either fall back to {@code source.ts_ms}. With the
 *       schema wrapper, Debezium's encodings of dates (days since 1970), timestamps (epoch milli-,
 *       micro- or nanoseconds) and decimals (base64 unscaled bytes) are turned back into text that
 *       conform reads.
 * </ul>
 *
 * <p>A record with a null value (a tombstone, which Debezium writes after each delete for log
 * compaction), or with {@code {"schema":null,"payload":null}} (the same through the JSON converter
 * with schemas), carries no change and yields nothing; the source counts it. Everything else that
 * cannot be read, such as a value that is not JSON, an unknown {@code op} or a missing image, is a
 * {@link Failure} with the topic, partition and offset as its position and the raw value as its
 * payload.
 */
public final class KafkaRecords implements Serializable {
  /** Dead-letter reasons. */
  public static final String NOT_JSON = "invalid JSON";

  public static final String UNKNOWN_OP = "unknown change operation";
  public static final String MISSING_IMAGE = "missing change image";
  public static final String NO_POSITION = "missing source position";

  /** The format of record values. */
  public enum Format {
    JSON("json"),
    DEBEZIUM_JSON("debezium-json");

    private final String specName;

    Format(String specName) {
      this.specName = specName;
    }

    public String specName() {
      return specName;
    }

    /** The format named in a spec, or null. */
    public static Format named(String name) {
      for (Format format : values()) {
        if (format.specName.equals(name)) {
          return format;
        }
      }
      return null;
    }
  }

  /** Why a record could not be read. */
  public static final class Failure extends Exception {
    private final String reason;

    Failure(String reason, String detail) {
      super(detail);
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  private static final Pattern BINLOG_FILE = Pattern.compile(".*?(\\d+)$");

  private final String sourceName;
  private final Format format;
  private final Schema schema;
  private transient ObjectMapper mapper;

  private KafkaRecords(String sourceName, Format format, List<String> columns) {
    this.sourceName = sourceName;
    this.format = format;
    this.schema =
        format == Format.DEBEZIUM_JSON
            ? RawRecords.changeSchema(columns)
            : RawRecords.schema(columns);
  }

  /** Reads records of source {@code sourceName} into rows with {@code columns}. */
  public static KafkaRecords of(String sourceName, Format format, List<String> columns) {
    return new KafkaRecords(sourceName, format, columns);
  }

  /** The schema of the rows {@link #read} returns. */
  public Schema schema() {
    return schema;
  }

  /**
   * A tombstone as the JSON converter with schemas writes it when a null value is serialized:
   * {@code {"schema":null,"payload":null}}.
   */
  private static boolean isWrappedTombstone(JsonNode node) {
    return node.size() == 2
        && node.has("schema")
        && node.get("schema").isNull()
        && node.has("payload")
        && node.get("payload").isNull();
  }

  /** The position written into rows and dead letters: topic, partition and offset. */
  public static String position(String topic, int partition, long offset) {
    return topic + "/" + partition + "@" + offset;
  }

  /** The record's value as text for dead letters: UTF-8, or base64 when it is not text. */
  public static String payload(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(value)).toString();
    } catch (CharacterCodingException e) {
      return "base64:" + Base64.getEncoder().encodeToString(value);
    }
  }

  /** A dead letter (stage {@code extract}) for a record that {@link #read} refused. */
  public Row deadLetter(Failure failure, String topic, int partition, long offset, byte[] value) {
    return DeadLetter.of(
        "extract",
        failure.reason(),
        failure.getMessage(),
        sourceName,
        position(topic, partition, offset),
        payload(value));
  }

  /**
   * The raw row of one record, or null for a tombstone.
   *
   * @throws Failure when the value cannot be read as the source's format
   */
  public Row read(String topic, int partition, long offset, byte[] value) throws Failure {
    if (value == null) {
      return null;
    }
    if (mapper == null) {
      mapper = StrictJson.mapper();
    }
    String text = payload(value);
    JsonNode node;
    try {
      node = mapper.readTree(text);
    } catch (JsonProcessingException e) {
      throw new Failure(NOT_JSON, e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new Failure(NOT_JSON, "the value is not a JSON object");
    }
    if (format == Format.DEBEZIUM_JSON && isWrappedTombstone(node)) {
      return null;
    }
    String position = position(topic, partition, offset);
    int dataColumns = schema.getFieldCount() - (format == Format.DEBEZIUM_JSON ? 6 : 3);
    List<Object> values = new ArrayList<>(schema.getFieldCount());
    if (format == Format.JSON) {
      for (int c = 0; c < dataColumns; c++) {
        values.add(JsonLinesSource.text(JsonLinesSource.at(node, schema.getField(c).getName())));
      }
      values.add(sourceName);
      values.add(position);
      values.add(text);
      // Every value is text or null, as the schema says: attached without Beam's per-row check
      // (8% of a streaming job's CPU samples).
      return Row.withSchema(schema).attachValues(values);
    }
    JsonNode event = node.has("payload") && node.has("schema") ? node.get("payload") : node;
    Map<String, String> types =
        node.has("schema") ? fieldTypes(node.get("schema")) : Map.<String, String>of();
    if (event == null || !event.isObject()) {
      throw new Failure(MISSING_IMAGE, "the change event has no payload object");
    }
    String op = event.path("op").asText("");
    String change;
    JsonNode image;
    switch (op) {
      case "c":
      case "r":
      case "u":
        change = RawRecords.UPSERT;
        image = event.get("after");
        break;
      case "d":
        change = RawRecords.DELETE;
        image = event.get("before");
        break;
      case "t":
        change = RawRecords.TRUNCATE;
        image = mapper.createObjectNode();
        break;
      default:
        throw new Failure(UNKNOWN_OP, "op '" + op + "' is not one of c, r, u, d, t");
    }
    if (image == null || !image.isObject()) {
      throw new Failure(
          MISSING_IMAGE,
          "op '"
              + op
              + "' needs a '"
              + (change.equals(RawRecords.DELETE) ? "before" : "after")
              + "' object");
    }
    JsonNode source = event.path("source");
    for (int c = 0; c < dataColumns; c++) {
      String column = schema.getField(c).getName();
      values.add(decode(JsonLinesSource.at(image, column), types.get(column), column));
    }
    values.add(sourceName);
    values.add(position);
    values.add(text);
    values.add(change);
    values.add(Long.toString(version(source)));
    JsonNode ts = source.hasNonNull("ts_ms") ? source.get("ts_ms") : event.path("ts_ms");
    long tsMs = ts.isMissingNode() || ts.isNull() ? 0 : wholeNumber(ts, "ts_ms");
    values.add(tsMs > 0 ? Instant.ofEpochMilli(tsMs).toString() : null);
    return Row.withSchema(schema).attachValues(values);
  }

  /**
   * The change's position in its source log as one number that grows with the log: the LSN for
   * PostgreSQL; for MySQL and MariaDB the binlog file's sequence number (19 bits), the position in
   * it (32 bits) and the row within the event (12 bits).
   */
  static long version(JsonNode source) throws Failure {
    if (source.hasNonNull("lsn")) {
      return wholeNumber(source.get("lsn"), "source.lsn");
    }
    if (source.hasNonNull("file") && source.hasNonNull("pos")) {
      Matcher file = BINLOG_FILE.matcher(source.get("file").asText());
      if (!file.matches()) {
        throw new Failure(NO_POSITION, "binlog file '" + source.get("file").asText() + "'");
      }
      long sequence = Long.parseLong(file.group(1));
      long pos = wholeNumber(source.get("pos"), "source.pos");
      long row = source.hasNonNull("row") ? wholeNumber(source.get("row"), "source.row") : 0;
      return (sequence << 44) | (pos << 12) | Math.min(row, 4095);
    }
    if (source.hasNonNull("ts_ms")) {
      return wholeNumber(source.get("ts_ms"), "source.ts_ms");
    }
    throw new Failure(
        NO_POSITION, "the event's source has none of lsn, file and pos, ts_ms to order it by");
  }

  /**
   * A non-negative whole number (or its text), else a failure: Jackson's {@code asLong} reads any
   * other value as 0, which would order the change before every other.
   */
  private static long wholeNumber(JsonNode value, String name) throws Failure {
    if (value.isIntegralNumber() && value.canConvertToLong() && value.asLong() >= 0) {
      return value.asLong();
    }
    if (value.isTextual() && value.asText().matches("[0-9]{1,18}")) {
      return Long.parseLong(value.asText());
    }
    throw new Failure(
        NO_POSITION, name + " is " + value + ", not a whole number to order the change by");
  }

  /** Debezium's semantic type names of the {@code after} fields, from the schema wrapper. */
  private static Map<String, String> fieldTypes(JsonNode schema) {
    Map<String, String> types = new HashMap<>();
    for (JsonNode part : schema.path("fields")) {
      if (!part.path("field").asText().equals("after")
          && !part.path("field").asText().equals("before")) {
        continue;
      }
      for (JsonNode field : part.path("fields")) {
        String name = field.path("name").asText(null);
        if (name == null) {
          continue;
        }
        if (name.equals("org.apache.kafka.connect.data.Decimal")) {
          name = name + ":" + field.path("parameters").path("scale").asText("0");
        } else if (name.equals("io.debezium.data.Bits")) {
          name = name + ":" + field.path("parameters").path("length").asText("0");
        }
        types.put(field.path("field").asText(), name);
      }
    }
    return types;
  }

  /**
   * The text of a value, undoing Debezium's encodings named by {@code type} (its semantic types, as
   * Debezium documents them): dates as ISO dates, times as ISO times of day, timestamps as ISO
   * instants, decimals (fixed or variable scale) in plain notation, bits as a string of 0 and 1
   * (most significant first). Types already sent as text (ZonedTime, ZonedTimestamp, Json, Uuid)
   * and plain values are kept as they are.
   */
  static String decode(JsonNode value, String type, String column) throws Failure {
    String text = JsonLinesSource.text(value);
    if (text == null || type == null) {
      return text;
    }
    if (type.equals("io.debezium.data.VariableScaleDecimal") && value.isObject()) {
      try {
        byte[] unscaled = Base64.getDecoder().decode(value.path("value").asText());
        return new BigDecimal(new BigInteger(unscaled), value.path("scale").asInt())
            .toPlainString();
      } catch (IllegalArgumentException | ArithmeticException e) {
        throw new Failure("unreadable encoded value", column + ": '" + text + "' as " + type);
      }
    }
    if (!value.isValueNode()) {
      return text;
    }
    try {
      switch (type) {
        case "io.debezium.time.Time":
        case "org.apache.kafka.connect.data.Time":
          return LocalTime.ofNanoOfDay(epochNumber(value) * 1_000_000L).toString();
        case "io.debezium.time.MicroTime":
          return LocalTime.ofNanoOfDay(epochNumber(value) * 1_000L).toString();
        case "io.debezium.time.NanoTime":
          return LocalTime.ofNanoOfDay(epochNumber(value)).toString();
        case "io.debezium.time.Date":
        case "org.apache.kafka.connect.data.Date":
          return LocalDate.ofEpochDay(epochNumber(value)).toString();
        case "io.debezium.time.Timestamp":
        case "org.apache.kafka.connect.data.Timestamp":
          return Instant.ofEpochMilli(epochNumber(value)).toString();
        case "io.debezium.time.MicroTimestamp":
          return Instant.EPOCH.plusNanos(Math.multiplyExact(epochNumber(value), 1000L)).toString();
        case "io.debezium.time.NanoTimestamp":
          return Instant.EPOCH.plusNanos(epochNumber(value)).toString();
        default:
          if (type.startsWith("io.debezium.data.Bits:") && value.isTextual()) {
            return bits(
                Base64.getDecoder().decode(value.asText()),
                Integer.parseInt(type.substring(type.indexOf(':') + 1)));
          }
          if (type.startsWith("org.apache.kafka.connect.data.Decimal:") && value.isTextual()) {
            int scale = Integer.parseInt(type.substring(type.indexOf(':') + 1));
            byte[] unscaled = Base64.getDecoder().decode(value.asText());
            return new BigDecimal(new BigInteger(unscaled), scale).toPlainString();
          }
          return text;
      }
    } catch (IllegalArgumentException | ArithmeticException | DateTimeException e) {
      throw new Failure("unreadable encoded value", column + ": '" + text + "' as " + type);
    }
  }

  /** A whole number as Debezium encodes times; anything else is unreadable. */
  private static long epochNumber(JsonNode value) {
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw new IllegalArgumentException("not a whole number");
    }
    return value.asLong();
  }

  /**
   * The bits of a BIT(n) value, which Debezium sends as little-endian bytes, as {@code n} digits
   * most significant first ({@code b'101'} is {@code 101}); without a length, every bit of the
   * bytes.
   */
  private static String bits(byte[] littleEndian, int length) {
    int n = length > 0 ? length : littleEndian.length * 8;
    StringBuilder out = new StringBuilder(n);
    for (int bit = n - 1; bit >= 0; bit--) {
      int index = bit / 8;
      boolean set = index < littleEndian.length && (littleEndian[index] >> (bit % 8) & 1) == 1;
      out.append(set ? '1' : '0');
    }
    return out.toString();
  }
}
