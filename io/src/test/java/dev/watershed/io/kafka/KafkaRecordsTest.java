package dev.watershed.io.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.watershed.transforms.records.RawRecords;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;

class KafkaRecordsTest {
  private static final KafkaRecords DEBEZIUM =
      KafkaRecords.of("crm", KafkaRecords.Format.DEBEZIUM_JSON, List.of("id", "balance", "born"));

  private static Row read(KafkaRecords records, String value) throws KafkaRecords.Failure {
    return records.read("t", 0, 42, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anUpdateWithTheSchemaWrapperIsAnUpsertOfAfterWithDecodedValues() throws Exception {
    // balance 12.34 as Debezium's base64 unscaled bytes (1234 = 0x04D2), born as days since 1970.
    String value =
        "{\"schema\": {\"type\": \"struct\", \"fields\": [{\"field\": \"after\", \"fields\": ["
            + "{\"field\": \"balance\", \"name\": \"org.apache.kafka.connect.data.Decimal\","
            + " \"parameters\": {\"scale\": \"2\"}},"
            + "{\"field\": \"born\", \"name\": \"io.debezium.time.Date\"}]}]},"
            + " \"payload\": {\"op\": \"u\", \"before\": {\"id\": 7},"
            + " \"after\": {\"id\": 7, \"balance\": \"BNI=\", \"born\": 19000},"
            + " \"source\": {\"lsn\": 123456, \"ts_ms\": 1767225600000}}}";
    Row row = read(DEBEZIUM, value);
    assertEquals("7", row.getString("id"));
    assertEquals("12.34", row.getString("balance"));
    assertEquals("2022-01-08", row.getString("born"));
    assertEquals(RawRecords.UPSERT, row.getString(RawRecords.CHANGE));
    assertEquals("123456", row.getString(RawRecords.VERSION));
    assertEquals("2026-01-01T00:00:00Z", row.getString(RawRecords.CHANGED_AT));
    assertEquals("t/0@42", row.getString(RawRecords.POSITION));
  }

  @Test
  void aDeleteReadsTheKeyFromBeforeAndATombstoneYieldsNothing() throws Exception {
    Row row =
        read(
            DEBEZIUM,
            "{\"op\": \"d\", \"before\": {\"id\": 9}, \"after\": null, \"source\": {\"lsn\": 9}}");
    assertEquals("9", row.getString("id"));
    assertEquals(RawRecords.DELETE, row.getString(RawRecords.CHANGE));
    assertNull(read(DEBEZIUM, null));
  }

  @Test
  void aTruncateHasNoImage() throws Exception {
    Row row = read(DEBEZIUM, "{\"op\": \"t\", \"source\": {\"lsn\": 77}}");
    assertEquals(RawRecords.TRUNCATE, row.getString(RawRecords.CHANGE));
    assertEquals("77", row.getString(RawRecords.VERSION));
    assertNull(row.getString("id"));
  }

  @Test
  void binlogPositionsOrderAcrossFilesPositionsAndRows() throws Exception {
    long[] versions = {
      version("mysql-bin.000003", 100, 0),
      version("mysql-bin.000003", 100, 1),
      version("mysql-bin.000003", 4000, 0),
      version("mysql-bin.000004", 4, 0)
    };
    for (int i = 1; i < versions.length; i++) {
      assertTrue(versions[i - 1] < versions[i], "version " + i + " orders after " + (i - 1));
    }
  }

  private static long version(String file, long pos, int row) throws Exception {
    return Long.parseLong(
        read(
                DEBEZIUM,
                "{\"op\": \"c\", \"after\": {\"id\": 1}, \"source\": {\"file\": \""
                    + file
                    + "\", \"pos\": "
                    + pos
                    + ", \"row\": "
                    + row
                    + "}}")
            .getString(RawRecords.VERSION));
  }

  @Test
  void poisonMessagesFailWithAReason() {
    assertEquals(
        KafkaRecords.NOT_JSON,
        assertThrows(KafkaRecords.Failure.class, () -> read(DEBEZIUM, "{nope")).reason());
    assertEquals(
        KafkaRecords.UNKNOWN_OP,
        assertThrows(
                KafkaRecords.Failure.class,
                () -> read(DEBEZIUM, "{\"op\": \"x\", \"source\": {\"lsn\": 1}}"))
            .reason());
    assertEquals(
        KafkaRecords.MISSING_IMAGE,
        assertThrows(
                KafkaRecords.Failure.class,
                () -> read(DEBEZIUM, "{\"op\": \"c\", \"after\": null, \"source\": {\"lsn\": 1}}"))
            .reason());
    assertEquals(
        KafkaRecords.NO_POSITION,
        assertThrows(
                KafkaRecords.Failure.class,
                () -> read(DEBEZIUM, "{\"op\": \"c\", \"after\": {\"id\": 1}, \"source\": {}}"))
            .reason());
    assertEquals(
        "base64:/w==", KafkaRecords.payload(new byte[] {(byte) 0xff}), "bytes that are not text");
  }

  @Test
  void plainJsonValuesAreUpsertsWithDottedPaths() throws Exception {
    KafkaRecords json =
        KafkaRecords.of("events", KafkaRecords.Format.JSON, List.of("id", "customer.email"));
    Row row = read(json, "{\"id\": 3, \"customer\": {\"email\": \"a@b.c\"}}");
    assertEquals("3", row.getString("id"));
    assertEquals("a@b.c", row.getString("customer.email"));
    assertTrue(!row.getSchema().hasField(RawRecords.CHANGE));
  }

  /** The JSON converter with schemas writes a null value as this object: a tombstone too. */
  @Test
  void aWrappedNullIsATombstone() throws Exception {
    assertNull(read(DEBEZIUM, "{\"schema\":null,\"payload\":null}"));
    assertThrows(KafkaRecords.Failure.class, () -> read(DEBEZIUM, "{\"schema\":null}"));
  }

  /** Debezium's semantic types, decoded as its documentation describes them. */
  @Test
  void decodesDebeziumSemanticTypes() throws Exception {
    // 10:15:30.5 is 36,930,500 ms (Time), 36,930,500,000 us (MicroTime), *1000 ns (NanoTime).
    assertEquals("10:15:30.500", decode(36_930_500, "io.debezium.time.Time"));
    assertEquals("10:15:30.500", decode(36_930_500, "org.apache.kafka.connect.data.Time"));
    assertEquals("10:15:30.500001", decode(36_930_500_001L, "io.debezium.time.MicroTime"));
    assertEquals("10:15:30.500000001", decode(36_930_500_000_001L, "io.debezium.time.NanoTime"));
    assertEquals(
        "10:15:30Z",
        KafkaRecords.decode(new TextNode("10:15:30Z"), "io.debezium.time.ZonedTime", "t"));
    // VariableScaleDecimal: a struct of scale and base64 unscaled bytes (-12345 = 0xCFC7).
    ObjectNode decimal = JsonNodeFactory.instance.objectNode();
    decimal.put("scale", 3).put("value", "z8c=");
    assertEquals(
        "-12.345", KafkaRecords.decode(decimal, "io.debezium.data.VariableScaleDecimal", "amount"));
    // BIT(10) b'1000000101' = 0x0205, little-endian bytes 05 02 = "BQI=".
    assertEquals(
        "1000000101",
        KafkaRecords.decode(new TextNode("BQI="), "io.debezium.data.Bits:10", "flags"));
    assertThrows(
        KafkaRecords.Failure.class,
        () -> KafkaRecords.decode(new TextNode("noon"), "io.debezium.time.MicroTime", "t"));
    assertThrows(
        KafkaRecords.Failure.class,
        () -> KafkaRecords.decode(new TextNode("abc"), "io.debezium.time.Date", "born"));
  }

  @Test
  void theSchemaWrapperNamesBitsWithTheirLength() throws Exception {
    KafkaRecords records =
        KafkaRecords.of("crm", KafkaRecords.Format.DEBEZIUM_JSON, List.of("id", "flags"));
    Row row =
        read(
            records,
            "{\"schema\": {\"type\": \"struct\", \"fields\": [{\"field\": \"after\", \"fields\": ["
                + "{\"field\": \"flags\", \"name\": \"io.debezium.data.Bits\","
                + " \"parameters\": {\"length\": \"3\"}}]}]},"
                + " \"payload\": {\"op\": \"c\", \"after\": {\"id\": 1, \"flags\": \"BQ==\"},"
                + " \"source\": {\"lsn\": 5}}}");
    assertEquals("101", row.getString("flags"));
  }

  /** A log position that is not a number would order the change before all others: refused. */
  @Test
  void aPositionThatIsNotANumberIsAFailure() {
    KafkaRecords.Failure failure =
        assertThrows(
            KafkaRecords.Failure.class,
            () ->
                read(
                    DEBEZIUM,
                    "{\"op\": \"c\", \"after\": {\"id\": 1}, \"source\": {\"lsn\": \"x9\"}}"));
    assertTrue(failure.getMessage().contains("source.lsn"), failure.getMessage());
  }

  private static String decode(long value, String type) throws KafkaRecords.Failure {
    return KafkaRecords.decode(new LongNode(value), type, "t");
  }
}
