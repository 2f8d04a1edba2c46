package dev.watershed.io.http;

import java.io.Serializable;
import java.time.Duration;

/**
 * An API as Watershed calls it, whether it reads from it ({@link HttpSource}) or writes to it
 * ({@link HttpSink}): where it is, how requests authenticate, the request budget and how long a
 * request may retry.
 *
 * <pre>{@code
 * new HttpEndpoint("crm", "https://api.example.com/v1", new HttpAuth.Bearer(token),
 *     10, 5, Duration.ofMinutes(2), Duration.ofSeconds(30));
 * }</pre>
 *
 * @param name the source or sink in the spec, named in counters and messages
 * @param maxRequestsPerSecond the budget of requests to {@code baseUrl} under this name in one JVM
 *     (0: none)
 * @param maxAttempts how often one request is tried
 * @param maxRetryTime how long one request may take with its retries
 * @param timeout how long one attempt may take
 * @param maxConcurrentRequests the most requests to {@code baseUrl} under this name in flight at
 *     once in one JVM (0: no limit beyond the workers')
 */
public record HttpEndpoint(
    String name,
    String baseUrl,
    HttpAuth auth,
    double maxRequestsPerSecond,
    int maxAttempts,
    Duration maxRetryTime,
    Duration timeout,
    int maxConcurrentRequests)
    implements Serializable {

  /** An endpoint without a concurrency limit. */
  public HttpEndpoint(
      String name,
      String baseUrl,
      HttpAuth auth,
      double maxRequestsPerSecond,
      int maxAttempts,
      Duration maxRetryTime,
      Duration timeout) {
    this(name, baseUrl, auth, maxRequestsPerSecond, maxAttempts, maxRetryTime, timeout, 0);
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return name + " at " + baseUrl;
  }
}
