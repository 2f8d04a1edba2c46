package dev.watershed.transforms.dedupe;

import dev.watershed.transforms.records.RawRecords;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * Gives a change stream's delete the values its key last had, so that a soft-deleted row keeps them
 * however the changes were batched: a delete image often holds the key alone (Debezium's {@code
 * before} under PostgreSQL's default replica identity), and when the key's insert and its delete
 * arrive together, the insert never reaches the table to leave its values there.
 */
public final class LastKnownValues {
  private LastKnownValues() {}

  /** True for a row of a change stream that deletes its key. */
  public static boolean isDelete(Row row) {
    Schema schema = row.getSchema();
    return schema.hasField(RawRecords.DELETED)
        && Boolean.TRUE.equals(row.getValue(RawRecords.DELETED));
  }

  /**
   * {@code delete} with every data field (not a metadata field such as {@code _version}) taken from
   * {@code previous}, the key's last row before it; {@code delete} itself when it is not a delete
   * or there is no previous row.
   */
  public static Row carriedInto(Row delete, Row previous) {
    if (previous == null || !isDelete(delete)) {
      return delete;
    }
    Schema schema = delete.getSchema();
    Row.FieldValueBuilder carried = null;
    for (Schema.Field field : schema.getFields()) {
      if (RawRecords.isMetadata(field.getName())) {
        continue;
      }
      Object value = previous.getValue(field.getName());
      carried =
          carried == null
              ? Row.fromRow(delete).withFieldValue(field.getName(), value)
              : carried.withFieldValue(field.getName(), value);
    }
    return carried == null ? delete : carried.build();
  }
}
