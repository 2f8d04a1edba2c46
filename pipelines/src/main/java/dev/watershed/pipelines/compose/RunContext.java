package dev.watershed.pipelines.compose;

import dev.watershed.io.files.ReplaySource;
import dev.watershed.pipelines.config.ReadRange;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a run knows besides its spec: its clock (for freshness rules), the rows each model loaded in
 * the last successful run (for row-count ratios), the newest record each model's table held after
 * the last run (for freshness when a run reads nothing newer), and, for a replay, the dead letters
 * to read instead of the sources and where the dead letters of the replay go.
 */
public record RunContext(
    Instant now,
    Map<String, Long> lastRunRows,
    Map<String, List<ReplaySource.Record>> replay,
    String deadLetterFile,
    Map<String, String> quarantine,
    Map<String, Set<String>> missingColumns,
    Map<String, ReadRange> ranges,
    Map<String, Instant> heldNewest) {

  /** The same run reading each source in {@code sourceRanges} (by source name) in that range. */
  public RunContext withRanges(Map<String, ReadRange> sourceRanges) {
    return new RunContext(
        now,
        lastRunRows,
        replay,
        deadLetterFile,
        quarantine,
        missingColumns,
        sourceRanges,
        heldNewest);
  }

  /**
   * The same run knowing the newest record each model's table held after the last run ({@link
   * RunHistory#heldNewest}), for freshness rules when a run reads nothing newer.
   */
  public RunContext withHeldNewest(Map<String, Instant> newest) {
    return new RunContext(
        now, lastRunRows, replay, deadLetterFile, quarantine, missingColumns, ranges, newest);
  }

  /** A run at {@code now} with no earlier run. */
  public static RunContext at(Instant now) {
    return new RunContext(
        now.truncatedTo(ChronoUnit.MICROS),
        Map.of(),
        null,
        null,
        Map.of(),
        Map.of(),
        Map.of(),
        Map.of());
  }

  /** A run that reads its sources, at {@code now}. */
  public static RunContext run(Instant now, Map<String, Long> lastRunRows) {
    return new RunContext(now, lastRunRows, null, null, Map.of(), Map.of(), Map.of(), Map.of());
  }

  /**
   * A replay: each source yields the raw records of its dead letters; the replay's own dead letters
   * (records that fail again) go to {@code deadLetterFile}.
   */
  public static RunContext replay(
      Instant now, Map<String, List<ReplaySource.Record>> records, String deadLetterFile) {
    return new RunContext(
        now, Map.of(), records, deadLetterFile, Map.of(), Map.of(), Map.of(), Map.of());
  }

  /**
   * The same run after schema drift checks: the records of {@code quarantined} sources go to the
   * dead letters (source name to the reason), and columns a JDBC source lost are read as null.
   */
  public RunContext withDrift(Map<String, String> quarantined, Map<String, Set<String>> missing) {
    return new RunContext(
        now, lastRunRows, replay, deadLetterFile, quarantined, missing, ranges, heldNewest);
  }

  public boolean isReplay() {
    return replay != null;
  }
}
