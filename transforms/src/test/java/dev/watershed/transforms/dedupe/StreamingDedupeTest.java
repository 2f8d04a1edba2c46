package dev.watershed.transforms.dedupe;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class StreamingDedupeTest {
  private static final Schema SCHEMA =
      Schema.builder()
          .addStringField("id")
          .addNullableField("_version", Schema.FieldType.INT64)
          .addStringField("email")
          .addStringField("_source")
          .addStringField("_position")
          .build();

  private static Row row(String id, long version, String email, String position) {
    return Row.withSchema(SCHEMA).addValues(id, version, email, "crm", position).build();
  }

  @Test
  void passesOnlyNewerVersionsAndForgetsAKeyAfterItsTimeToLive(TestPipeline pipeline) {
    TestStream<Row> stream =
        TestStream.create(RowCoder.of(SCHEMA))
            .addElements(row("a", 1, "a1", "t/0@1"), row("b", 5, "b5", "t/0@2"))
            // a newer version, a late older one, a duplicate, and a newer one for b
            .addElements(
                row("a", 3, "a3", "t/0@3"),
                row("a", 2, "a2", "t/0@4"),
                row("a", 3, "a3", "t/0@3"),
                row("b", 6, "b6", "t/0@5"))
            // ten minutes pass without a change to either key: both are forgotten
            .advanceProcessingTime(Duration.standardMinutes(10))
            .addElements(row("a", 3, "a3", "t/0@3"))
            .advanceWatermarkToInfinity();
    PCollection<Row> out =
        pipeline
            .apply(stream)
            .setRowSchema(SCHEMA)
            .apply(
                StreamingDedupe.byKey(
                    List.of("id"), "_version", List.of(), Duration.standardMinutes(5)));
    PAssert.that(out)
        .containsInAnyOrder(
            row("a", 1, "a1", "t/0@1"),
            row("b", 5, "b5", "t/0@2"),
            row("a", 3, "a3", "t/0@3"),
            row("b", 6, "b6", "t/0@5"),
            // after the time to live, a replayed change passes again (the load's guard stops it)
            row("a", 3, "a3", "t/0@3"));
    pipeline.run().waitUntilFinish();
  }

  /**
   * A plain JSON stream has no order column: per key, each later offset is the newer event, so
   * every in-order update passes, while re-delivered and late (smaller offset) events are dropped.
   */
  @Test
  void keepsLaterOffsetsWithoutAnOrderColumn(TestPipeline pipeline) {
    TestStream.Builder<Row> stream = TestStream.create(RowCoder.of(SCHEMA));
    List<Row> expected = new ArrayList<>();
    for (int key = 0; key < 20; key++) {
      List<Row> events = new ArrayList<>();
      for (int update = 0; update < 12; update++) {
        // offsets 9, 10, 11 ... cross a digit boundary, which text order gets wrong
        Row event = row("k" + key, 0, "k" + key + "-v" + update, "t/0@" + (9 + update * 20 + key));
        events.add(event);
        expected.add(event);
      }
      stream =
          stream.addElements(events.get(0), events.subList(1, events.size()).toArray(Row[]::new));
      // the same events again (a re-delivery), then a late one older than the key's newest
      stream =
          stream.addElements(events.get(0), events.subList(1, events.size()).toArray(Row[]::new));
      stream = stream.addElements(row("k" + key, 0, "k" + key + "-late", "t/0@" + (8 + key)));
    }
    PCollection<Row> out =
        pipeline
            .apply(stream.advanceWatermarkToInfinity())
            .setRowSchema(SCHEMA)
            .apply(
                StreamingDedupe.byKey(List.of("id"), null, List.of(), Duration.standardHours(1)));
    PAssert.that(out).containsInAnyOrder(expected);
    pipeline.run().waitUntilFinish();
  }
}
