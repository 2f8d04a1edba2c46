package dev.watershed.transforms.deadletter;

import dev.watershed.transforms.records.RawRecords;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * One record that a stage could not process, with everything needed to find and fix it.
 *
 * <p>Every stage in Watershed has a main output and a dead-letter output of this one schema, so a
 * bad record never crashes a run and never vanishes:
 *
 * <ul>
 *   <li>{@code stage}: which stage rejected it ({@code extract}, {@code conform}, ...);
 *   <li>{@code reason}: a short, stable category such as {@code unparsable date}, used to count and
 *       group failures;
 *   <li>{@code detail}: the specific message, naming the field and the bad value;
 *   <li>{@code source}, {@code position}: where the record came from (file and line, or table and
 *       key);
 *   <li>{@code payload}: the raw record as it was read;
 *   <li>{@code time}: when the record failed, as an ISO-8601 instant.
 * </ul>
 */
public final class DeadLetter {
  public static final String STAGE = "stage";
  public static final String REASON = "reason";
  public static final String RULE = "rule";
  public static final String DETAIL = "detail";
  public static final String SOURCE = "source";
  public static final String POSITION = "position";
  public static final String PAYLOAD = "payload";
  public static final String TIME = "time";

  /** The schema of every dead-letter output. */
  public static final Schema SCHEMA =
      Schema.builder()
          .addStringField(STAGE)
          .addStringField(REASON)
          .addNullableField(RULE, Schema.FieldType.STRING)
          .addStringField(DETAIL)
          .addNullableField(SOURCE, Schema.FieldType.STRING)
          .addNullableField(POSITION, Schema.FieldType.STRING)
          .addNullableField(PAYLOAD, Schema.FieldType.STRING)
          .addStringField(TIME)
          .build();

  private DeadLetter() {}

  /** A dead letter for a record whose origin is known from its own metadata fields. */
  public static Row of(String stage, String reason, String detail, Row record) {
    Schema schema = record.getSchema();
    return of(
        stage,
        reason,
        detail,
        schema.hasField(RawRecords.SOURCE) ? record.getString(RawRecords.SOURCE) : null,
        schema.hasField(RawRecords.POSITION) ? record.getString(RawRecords.POSITION) : null,
        schema.hasField(RawRecords.RAW) ? RawRecords.payload(record) : record.toString());
  }

  /** A dead letter with every field given. */
  public static Row of(
      String stage, String reason, String detail, String source, String position, String payload) {
    return forRule(stage, reason, null, detail, source, position, payload);
  }

  /** A dead letter from a named rule, such as a quality rule. */
  public static Row forRule(
      String stage,
      String reason,
      String rule,
      String detail,
      String source,
      String position,
      String payload) {
    return Row.withSchema(SCHEMA)
        .addValues(
            stage,
            reason,
            rule,
            detail,
            source,
            position,
            payload,
            Instant.now().truncatedTo(ChronoUnit.MICROS).toString())
        .build();
  }
}
