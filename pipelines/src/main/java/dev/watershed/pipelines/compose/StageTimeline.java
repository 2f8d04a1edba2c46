package dev.watershed.pipelines.compose;

import dev.watershed.transforms.metrics.RunCounters;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * When a run did what: its phases ({@code prepare}: drift check, read ranges, composing the job;
 * {@code job}: from submitting the job to its end, commits included) and, inside the job, each
 * stage's first and last row (extract per source, conform, dedupe, identity and quality per model,
 * load per sink and model), in seconds since the run started.
 *
 * <p>A stage's times are those of its counter ({@link RunCounters#timeline()}), taken in this JVM:
 * the Direct runner and embedded Flink give every stage; a Flink cluster or Dataflow, whose workers
 * are other processes, gives the phases only ({@link #stagesMeasured()} false). Stages of a
 * pipelined runner overlap: embedded Flink loads the first rows while it still extracts.
 *
 * @param phases the run's phases, in order
 * @param stages the job's stages, in the order of the pipeline
 * @param stagesMeasured whether this JVM ran the job's stages, so that {@code stages} can be known
 */
public record StageTimeline(List<Span> phases, List<Span> stages, boolean stagesMeasured) {
  /** Nothing timed (a run that did not run its job). */
  public static final StageTimeline NONE = new StageTimeline(List.of(), List.of(), false);

  /**
   * A phase or stage: {@code name} (for a stage, e.g. {@code extract crm}), its first and last
   * moment in seconds since the run started, and the rows its counter counted (-1 for a phase).
   */
  public record Span(String name, double start, double end, long rows) {}

  /** The stages' order and names: counter prefix and suffix, and the stage it marks. */
  private static final List<String[]> STAGES =
      List.of(
          new String[] {"source.", ".read", "extract"},
          new String[] {"conform.", ".ok", "conform"},
          new String[] {"dedupe.", ".in", "dedupe"},
          new String[] {"identity.", ".records", "identity"},
          new String[] {"model.", ".loaded", "quality"},
          new String[] {"load.", "", "load"});

  /**
   * The timeline of a run that started at {@code origin}, submitted its job at {@code jobStart} and
   * saw it end at {@code jobEnd} (epoch milliseconds of this machine's clock, whatever clock the
   * run reports its times by), from the counters' {@code marks} and final {@code counters}. A job
   * that counted rows that no counter of this JVM saw ran elsewhere.
   */
  public static StageTimeline of(
      long origin,
      long jobStart,
      long jobEnd,
      Map<String, RunCounters.Marks> marks,
      Map<String, Long> counters) {
    boolean local = !marks.isEmpty() || counters.values().stream().allMatch(n -> n == 0);
    List<Span> phases =
        List.of(
            new Span("prepare", 0, seconds(jobStart - origin), -1),
            new Span("job", seconds(jobStart - origin), seconds(jobEnd - origin), -1));
    if (!local) {
      return new StageTimeline(phases, List.of(), false);
    }
    Map<String, Span> stages = new LinkedHashMap<>();
    for (String[] stage : STAGES) {
      for (Map.Entry<String, RunCounters.Marks> mark : marks.entrySet()) {
        String counter = mark.getKey();
        if (!counter.startsWith(stage[0]) || !counter.endsWith(stage[1])) {
          continue;
        }
        String what = counter.substring(stage[0].length(), counter.length() - stage[1].length());
        if (what.isEmpty() || (stage[2].equals("load") && what.indexOf('.') < 0)) {
          continue;
        }
        String name = stage[2] + " " + what;
        RunCounters.Marks m = mark.getValue();
        Span span =
            new Span(
                name,
                seconds(m.first() - origin),
                seconds(m.last() - origin),
                counters.getOrDefault(counter, 0L));
        stages.merge(
            name,
            span,
            (a, b) ->
                new Span(
                    name, Math.min(a.start(), b.start()), Math.max(a.end(), b.end()), a.rows()));
      }
    }
    return new StageTimeline(phases, new ArrayList<>(stages.values()), true);
  }

  private static double seconds(long millis) {
    return Math.max(0, millis) / 1000.0;
  }
}
