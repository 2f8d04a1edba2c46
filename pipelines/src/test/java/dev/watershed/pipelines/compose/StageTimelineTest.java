package dev.watershed.pipelines.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.pipelines.compose.StageTimeline.Span;
import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.metrics.RunCounters.Marks;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The run report's timeline: stages from the counters' marks, phases from the run's steps. */
class StageTimelineTest {
  private static final long ORIGIN = 1_000_000L;

  @Test
  void stagesComeFromTheirCountersInPipelineOrder() {
    Map<String, Marks> marks =
        Map.of(
            "load.w.person", new Marks(ORIGIN + 4_000, ORIGIN + 5_500),
            "source.crm.read", new Marks(ORIGIN + 1_200, ORIGIN + 3_000),
            "conform.person.ok", new Marks(ORIGIN + 1_300, ORIGIN + 3_100),
            "conform.person.field.email.nulled", new Marks(ORIGIN + 1_400, ORIGIN + 1_400),
            "quality.person.not_null(email).failed", new Marks(ORIGIN + 2_000, ORIGIN + 2_000),
            "model.person.loaded", new Marks(ORIGIN + 3_900, ORIGIN + 4_100));
    Map<String, Long> counters =
        Map.of(
            "source.crm.read", 10L,
            "conform.person.ok", 9L,
            "model.person.loaded", 8L,
            "load.w.person", 8L);
    StageTimeline timeline =
        StageTimeline.of(ORIGIN, ORIGIN + 1_000, ORIGIN + 6_000, marks, counters);
    assertTrue(timeline.stagesMeasured());
    assertEquals(
        List.of(new Span("prepare", 0, 1.0, -1), new Span("job", 1.0, 6.0, -1)), timeline.phases());
    assertEquals(
        List.of(
            new Span("extract crm", 1.2, 3.0, 10),
            new Span("conform person", 1.3, 3.1, 9),
            new Span("quality person", 3.9, 4.1, 8),
            new Span("load w.person", 4.0, 5.5, 8)),
        timeline.stages());
  }

  @Test
  void aJobThatCountedElsewhereHasPhasesOnly() {
    StageTimeline timeline =
        StageTimeline.of(
            ORIGIN, ORIGIN + 500, ORIGIN + 9_000, Map.of(), Map.of("source.crm.read", 10L));
    assertFalse(timeline.stagesMeasured());
    assertEquals(2, timeline.phases().size());
    assertEquals(List.of(), timeline.stages());
  }

  @Test
  void countersNoteWhenTheyFirstAndLastCounted() throws Exception {
    RunCounters.startTimeline();
    long before = System.currentTimeMillis();
    var counter = RunCounters.counter("timeline.test.counted");
    counter.inc();
    long firstDone = System.currentTimeMillis();
    while (System.currentTimeMillis() == firstDone) {
      Thread.onSpinWait();
    }
    counter.inc();
    long after = System.currentTimeMillis();
    Marks marks = RunCounters.timeline().get("timeline.test.counted");
    assertTrue(marks.first() >= before && marks.first() <= firstDone, marks.toString());
    assertTrue(marks.last() > firstDone && marks.last() <= after, marks.toString());
    RunCounters.startTimeline();
    assertFalse(RunCounters.timeline().containsKey("timeline.test.counted"), "a new timeline");
  }
}
