package dev.watershed.transforms.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.watershed.transforms.model.CanonicalModel;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class CompactRowCoderTest {
  private static final CanonicalModel MODEL =
      CanonicalModel.builder("all")
          .field("s", "string")
          .field("i", "int")
          .field("l", "long")
          .field("d", "decimal(38,10)")
          .field("b", "boolean")
          .field("day", "date")
          .field("at", "timestamp")
          .key("s")
          .build();

  private static final Schema WITH_DOUBLES =
      Schema.builder()
          .addNullableField("x", Schema.FieldType.DOUBLE)
          .addNullableField("f", Schema.FieldType.FLOAT)
          .addNullableField("h", Schema.FieldType.INT16)
          .addNullableField("y", Schema.FieldType.BYTE)
          .build();

  private static List<Row> rows() {
    Random random = new Random(3);
    List<Row> rows = new ArrayList<>();
    String[] texts = {"", "plain", "ünïcödé", "日本語 😀", "tab\tnew\nline", "x".repeat(5000)};
    for (int n = 0; n < 2000; n++) {
      boolean nulls = n % 7 == 0;
      BigDecimal decimal =
          switch (n % 4) {
            case 0 -> BigDecimal.valueOf(random.nextLong(), random.nextInt(12));
            case 1 -> new BigDecimal("-9999999999999999999999999999.9999999999");
            case 2 -> new BigDecimal("1E+5");
            default -> new BigDecimal(new java.math.BigInteger(200, random), 3).negate();
          };
      rows.add(
          Row.withSchema(MODEL.schema())
              .addValues(
                  texts[n % texts.length],
                  nulls ? null : random.nextInt(),
                  nulls ? null : n % 2 == 0 ? Long.MIN_VALUE + n : random.nextLong(),
                  nulls ? null : decimal,
                  nulls ? null : random.nextBoolean(),
                  nulls ? null : LocalDate.ofEpochDay(random.nextInt(2_000_000) - 1_000_000),
                  nulls
                      ? null
                      : Instant.ofEpochSecond(
                          random.nextLong(-60_000_000_000L, 250_000_000_000L),
                          random.nextInt(1_000_000) * 1000),
                  "crm",
                  "crm.csv:" + n)
              .build());
    }
    return rows;
  }

  @Test
  void decodesWhatItEncodesForEveryModelType() throws Exception {
    CompactRowCoder coder = CompactRowCoder.of(MODEL.schema());
    assertNotNull(coder);
    for (Row row : rows()) {
      CoderProperties.coderDecodeEncodeEqual(coder, row);
      CoderProperties.coderDeterministic(coder, row, row);
      assertEquals(row, CoderUtils.clone(coder, row));
    }
  }

  @Test
  void decodesDoublesFloatsShortsAndBytes() throws Exception {
    CompactRowCoder coder = CompactRowCoder.of(WITH_DOUBLES);
    for (Row row :
        List.of(
            Row.withSchema(WITH_DOUBLES).addValues(1.5, 2.25f, (short) -3, (byte) 7).build(),
            Row.withSchema(WITH_DOUBLES)
                .addValues(Double.NaN, Float.NEGATIVE_INFINITY, Short.MIN_VALUE, Byte.MIN_VALUE)
                .build(),
            Row.withSchema(WITH_DOUBLES).addValues(null, null, null, null).build())) {
      CoderProperties.coderDecodeEncodeEqual(coder, row);
    }
  }

  @Test
  void isSmallerThanBeamsRowCoder() throws Exception {
    CompactRowCoder compact = CompactRowCoder.of(MODEL.schema());
    RowCoder beam = RowCoder.of(MODEL.schema());
    long compactBytes = 0;
    long beamBytes = 0;
    for (Row row : rows()) {
      compactBytes += CoderUtils.encodeToByteArray(compact, row).length;
      beamBytes += CoderUtils.encodeToByteArray(beam, row).length;
    }
    assertEquals(true, compactBytes < beamBytes, compactBytes + " vs " + beamBytes);
  }

  @Test
  void hasNoCoderForNestedOrListFields() {
    Schema nested =
        Schema.builder()
            .addStringField("id")
            .addArrayField("tags", Schema.FieldType.STRING)
            .build();
    assertNull(CompactRowCoder.of(nested));
  }
}
