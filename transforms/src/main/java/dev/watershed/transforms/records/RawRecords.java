package dev.watershed.transforms.records;

import java.util.List;
import org.apache.beam.sdk.schemas.Schema;

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
 *   <li>{@value #RAW}: the raw payload as read (the CSV line, the JSON object, the row as JSON).
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

  private RawRecords() {}

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

  /** True when {@code name} is one of the metadata fields rather than a data column. */
  public static boolean isMetadata(String name) {
    return name.equals(SOURCE) || name.equals(POSITION) || name.equals(RAW);
  }
}
