package dev.watershed.transforms.dedupe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class DedupeTest {
  private static final Schema SCHEMA =
      Schema.builder()
          .addStringField("id")
          .addNullableField("version", Schema.FieldType.INT64)
          .addStringField("email")
          .addStringField("_source")
          .addStringField("_position")
          .build();

  private static Row row(String id, Long version, String email, String position) {
    return Row.withSchema(SCHEMA).addValues(id, version, email, "crm", position).build();
  }

  private PCollection<Row> input(TestPipeline pipeline, Row... rows) {
    return pipeline.apply(Create.of(List.of(rows)).withRowSchema(SCHEMA));
  }

  @Test
  void keepsTheLatestVersionPerKeyWhateverTheOrder(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", 2L, "a2", "f:2"),
                row("a", 3L, "a3", "f:1"),
                row("a", 1L, "a1", "f:3"),
                row("b", 1L, "b1", "f:4"),
                row("a", null, "a-null", "f:5"))
            .apply(Dedupe.byKey("id").keepLatest("version"));
    PAssert.that(out).containsInAnyOrder(row("a", 3L, "a3", "f:1"), row("b", 1L, "b1", "f:4"));
    pipeline.run().waitUntilFinish();
  }

  /**
   * However many buckets the keys are hashed into (one holding every key, or more buckets than
   * keys), each key keeps exactly its latest row.
   */
  @Test
  void keepsOneRowPerKeyWhateverTheBucketCount(TestPipeline pipeline) {
    List<Row> rows = new ArrayList<>();
    List<Row> latest = new ArrayList<>();
    for (int key = 0; key < 500; key++) {
      int versions = 1 + key % 4;
      // The newest version arrives first, then the older ones.
      rows.add(row("k" + key, (long) versions, "e" + key, "f:" + key + ".0"));
      latest.add(rows.get(rows.size() - 1));
      for (long version = 1; version < versions; version++) {
        rows.add(row("k" + key, version, "e" + key, "f:" + key + "." + version));
      }
    }
    for (int buckets : new int[] {1, 7, 4096}) {
      PCollection<Row> out =
          pipeline
              .apply("rows " + buckets, Create.of(rows).withRowSchema(SCHEMA))
              .apply(
                  "dedupe " + buckets,
                  Dedupe.byKey("id").keepLatest("version").withBuckets(buckets));
      PAssert.that("latest with " + buckets + " buckets", out).containsInAnyOrder(latest);
    }
    pipeline.run().waitUntilFinish();
  }

  @Test
  void keepsTheFirstVersionPerKey(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", 2L, "a2", "f:1"),
                row("a", 1L, "a1", "f:2"),
                row("a", null, "a0", "f:3"))
            .apply(Dedupe.byKey("id").keepFirst("version"));
    PAssert.that(out).containsInAnyOrder(row("a", 1L, "a1", "f:2"));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void breaksTiesByTheTieBreakColumnsThenByPosition(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", 5L, "zed@example.com", "f:1"),
                row("a", 5L, "amy@example.com", "f:2"),
                row("b", 5L, "same@example.com", "f:9"),
                row("b", 5L, "same@example.com", "f:10"))
            .apply(Dedupe.byKey("id").keepLatest("version").withTieBreak("email"));
    // Equal order and tie-break values: the row read last (line 10, after line 9) is the latest.
    PAssert.that(out)
        .containsInAnyOrder(
            row("a", 5L, "amy@example.com", "f:2"), row("b", 5L, "same@example.com", "f:10"));
    pipeline.run().waitUntilFinish();
  }

  /** Without an order column, latest means the record read last: by line, offset or table order. */
  @Test
  void keepsTheRecordReadLastWithoutAnOrderColumn(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", null, "a-line-9", "f:9"),
                row("a", null, "a-line-10", "f:10"),
                row("a", null, "a-line-2", "f:2"),
                row("b", null, "b-offset-100", "t/0@100"),
                row("b", null, "b-offset-99", "t/0@99"),
                row("c", null, "c-id-10", "public.c id=10"),
                row("c", null, "c-id-9", "public.c id=9"))
            .apply(Dedupe.byKey("id"));
    PAssert.that(out)
        .containsInAnyOrder(
            row("a", null, "a-line-10", "f:10"),
            row("b", null, "b-offset-100", "t/0@100"),
            row("c", null, "c-id-10", "public.c id=10"));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void keepsTheRecordReadFirstWhenAsked(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", null, "a-line-10", "f:10"),
                row("a", null, "a-line-9", "f:9"),
                row("a", null, "a-line-11", "f:11"))
            .apply(Dedupe.byKey("id").keepFirst());
    PAssert.that(out).containsInAnyOrder(row("a", null, "a-line-9", "f:9"));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void dedupesByACompositeKey(TestPipeline pipeline) {
    PCollection<Row> out =
        input(
                pipeline,
                row("a", 1L, "x", "f:1"),
                row("a", 2L, "y", "f:2"),
                row("a", 3L, "x", "f:3"))
            .apply(Dedupe.byKey("id", "email").keepLatest("version"));
    PAssert.that(out).containsInAnyOrder(row("a", 2L, "y", "f:2"), row("a", 3L, "x", "f:3"));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void chooserIsCommutative() {
    Dedupe.Chooser chooser =
        new Dedupe.Chooser(Dedupe.Keep.LATEST, "version", List.of("email", "_source", "_position"));
    Row x = row("a", 5L, "b@example.com", "f:1");
    Row y = row("a", 5L, "a@example.com", "f:2");
    assertEquals(chooser.apply(x, y), chooser.apply(y, x));
    assertEquals(y, chooser.apply(x, y));
    Dedupe.Chooser byPosition = new Dedupe.Chooser(Dedupe.Keep.LATEST, null, List.of());
    Row line9 = row("a", 1L, "x", "f:9");
    Row line10 = row("a", 1L, "x", "f:10");
    assertEquals(line10, byPosition.apply(line9, line10));
    assertEquals(line10, byPosition.apply(line10, line9));
  }
}
