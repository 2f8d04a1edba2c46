package dev.watershed.pipelines.compose;

import java.time.Instant;
import java.util.Map;

/**
 * What a run knows besides its spec: its clock (for freshness rules) and the rows each model loaded
 * in the last successful run (for row-count ratios), read from that run's report.
 */
public record RunContext(Instant now, Map<String, Long> lastRunRows) {
  /** A run at {@code now} with no earlier run. */
  public static RunContext at(Instant now) {
    return new RunContext(now, Map.of());
  }
}
