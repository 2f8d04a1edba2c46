package dev.watershed.pipelines.config;

import java.time.Duration;

/**
 * Where a run's OpenLineage events go ({@code lineage:}): always to a JSON lines file ({@code
 * path}, by default {@code lineage.jsonl} beside the run report), and to an HTTP endpoint when
 * {@code url} is set (OpenLineage's HTTP API, as Marquez serves it: {@code POST url + endpoint},
 * with {@code apiKey} as a bearer token), and to a Kafka topic when {@code topic} is set (on the
 * broker at {@code bootstrapServers}, keyed by the job so a run's events keep their order). A
 * streaming run says it is RUNNING every {@code runningEvery}.
 */
public record LineageSpec(
    String path,
    String url,
    String endpoint,
    String apiKey,
    Duration timeout,
    String bootstrapServers,
    String topic,
    Duration runningEvery) {
  public static final String DEFAULT_ENDPOINT = "/api/v1/lineage";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_RUNNING_EVERY = Duration.ofMinutes(1);

  /** Events to the default file only. */
  public static final LineageSpec DEFAULT =
      new LineageSpec(
          null, null, DEFAULT_ENDPOINT, null, DEFAULT_TIMEOUT, null, null, DEFAULT_RUNNING_EVERY);

  /** Never shows the key. */
  @Override
  public String toString() {
    return "lineage to "
        + (path == null ? "the report folder" : path)
        + (url == null ? "" : " and " + url);
  }
}
