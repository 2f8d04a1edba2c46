package dev.watershed.pipelines.run;

import dev.watershed.pipelines.config.SinkConfig;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.Spec;

/**
 * Checks, before a run starts, that every database, broker and service the spec names answers, so
 * that an unreachable one fails the run at once with one line naming it and the fix, instead of
 * minutes of a client library's retries part way through.
 */
public final class Reachability {
  private Reachability() {}

  /**
   * Asks every source and sink of the spec to check its service (a database, brokers, BigQuery), so
   * an unreachable one fails fast and clearly.
   */
  public static void check(Spec spec) throws Exception {
    for (SourceConfig source : spec.sources().values()) {
      source.checkReachable(spec, "sources." + source.name());
    }
    for (SinkConfig sink : spec.sinks().values()) {
      sink.checkReachable(spec, "sinks." + sink.name());
    }
  }
}
