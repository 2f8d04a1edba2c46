package dev.watershed.transforms.records;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * The shape of a record as it leaves a source, before it is conformed to a canonical model.
 *
 * <p>Every source (CSV, JSON lines, Parquet, JDBC) emits rows of this shape: one nullable string
 * field per source column, plus three metadata fields that let any later stage say exactly where a
 * bad record came from:
 *
 * <ul>
 *   <li>{@value #SOURCE}: the source's name in the spec, e.g. {@code crm};
 *   <li>{@value #POSITION}: where in the source, e.g. {@code crm_contacts.csv:17} or {@code
 *       public.accounts id=42};
 *   <li>{@value #RAW}: the raw payload as read (the CSV line, the JSON object); null when the
 *       record's columns are its payload (a database row), which {@link #payload} then writes as a
 *       JSON object only when a record fails.
 * </ul>
 *
 * <p>Landing every value as text and typing it in {@code Conform} keeps one parsing path for all
 * sources, so a date in a CSV and a date in a JDBC text column fail the same way with the same
 * reason.
 */
public final class RawRecords {
  /** Metadata field: the source's name in the spec. */
  public static final String SOURCE = "_source";

  /** Metadata field: the record's position in its source (file and line, or table and key). */
  public static final String POSITION = "_position";

  /** Metadata field: the raw payload as read, kept for dead letters. */
  public static final String RAW = "_raw";

  /**
   * Change metadata field, only on records of a change stream: {@value #UPSERT} or {@value
   * #DELETE}.
   */
  public static final String CHANGE = "_change";

  /**
   * Change metadata field: the change's position in its source's log (a PostgreSQL LSN, a MySQL
   * binlog file and position packed into one number), as text; later changes have larger versions.
   */
  public static final String VERSION = "_version";

  /** Change metadata field: when the change happened in the source, as an ISO-8601 instant. */
  public static final String CHANGED_AT = "_changed_at";

  /**
   * Field of a model fed by a change stream (not of raw records): true when the row is a delete.
   */
  public static final String DELETED = "_deleted";

  /** {@value #CHANGE} of a create, update or snapshot read: the record is the new image. */
  public static final String UPSERT = "upsert";

  /** {@value #CHANGE} of a delete: the record is the old image, of which only the key matters. */
  public static final String DELETE = "delete";

  /** {@value #CHANGE} of a truncate: every row of the table older than the change is deleted. */
  public static final String TRUNCATE = "truncate";

  private RawRecords() {}

  /** True when {@code row} carries {@value #DELETED} and it is true: the row deletes its key. */
  public static boolean isDeleted(Row row) {
    return row.getSchema().hasField(DELETED) && Boolean.TRUE.equals(row.getBoolean(DELETED));
  }

  /** As {@link #schema}, followed by the change metadata fields of a change stream. */
  public static Schema changeSchema(List<String> columns) {
    Schema.Builder builder = Schema.builder();
    for (Schema.Field field : schema(columns).getFields()) {
      builder.addField(field);
    }
    return builder
        .addNullableField(CHANGE, Schema.FieldType.STRING)
        .addNullableField(VERSION, Schema.FieldType.STRING)
        .addNullableField(CHANGED_AT, Schema.FieldType.STRING)
        .build();
  }

  /** A raw schema with one nullable string field per column, followed by the metadata fields. */
  public static Schema schema(List<String> columns) {
    Schema.Builder builder = Schema.builder();
    for (String column : columns) {
      if (isMetadata(column)) {
        throw new IllegalArgumentException(
            "a source column cannot be named " + column + ": the name is reserved for lineage");
      }
      builder.addNullableField(column, Schema.FieldType.STRING);
    }
    return builder
        .addStringField(SOURCE)
        .addStringField(POSITION)
        .addNullableField(RAW, Schema.FieldType.STRING)
        .build();
  }

  /**
   * The raw payload of a record: {@value #RAW} when the source kept it, else the record's columns
   * as a JSON object of strings ({@code {"id":"42","email":null}}), in column order.
   */
  public static String payload(Row record) {
    Schema schema = record.getSchema();
    if (schema.hasField(RAW) && record.getString(RAW) != null) {
      return record.getString(RAW);
    }
    StringBuilder json = new StringBuilder(256).append('{');
    boolean first = true;
    for (int i = 0; i < schema.getFieldCount(); i++) {
      String name = schema.getField(i).getName();
      if (isMetadata(name)) {
        continue;
      }
      Object value = record.getValue(i);
      appendJsonField(json, first, name, value == null ? null : value.toString());
      first = false;
    }
    return json.append('}').toString();
  }

  /** Appends {@code "name":"value"} (or {@code null}) to a JSON object being written. */
  public static void appendJsonField(StringBuilder json, boolean first, String name, String value) {
    JsonStringEncoder quote = JsonStringEncoder.getInstance();
    json.append(first ? "\"" : ",\"");
    quote.quoteAsString(name, json);
    json.append("\":");
    if (value == null) {
      json.append("null");
    } else {
      json.append('"');
      quote.quoteAsString(value, json);
      json.append('"');
    }
  }

  /** True when {@code name} is one of the metadata fields rather than a data column. */
  public static boolean isMetadata(String name) {
    return name.equals(SOURCE)
        || name.equals(POSITION)
        || name.equals(RAW)
        || name.equals(CHANGE)
        || name.equals(VERSION)
        || name.equals(CHANGED_AT)
        || name.equals(DELETED);
  }
}
