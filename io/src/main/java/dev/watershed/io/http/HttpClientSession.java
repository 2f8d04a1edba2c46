package dev.watershed.io.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests to one API from one worker: authentication (an OAuth 2.0 token fetched, cached and
 * renewed before it expires or once after a 401), the source's request budget (shared by every
 * worker thread of the JVM), and retries with exponential backoff and jitter on 5xx, 408, 429
 * (after {@code Retry-After} or the rate-limit reset headers), connection failures and timeouts.
 * Other 4xx answers are not retried. Messages name the request with secrets redacted.
 */
final class HttpClientSession {
  private static final Logger LOG = LoggerFactory.getLogger(HttpClientSession.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * When each source's budget last let a request go (System.nanoTime), shared by every session of
   * the JVM: sends are kept one budget period apart.
   */
  private static final Map<String, AtomicLong> LAST_SEND = new ConcurrentHashMap<>();

  /** Each source's requests in flight, shared by every session of the JVM. */
  private static final Map<String, Semaphore> IN_FLIGHT = new ConcurrentHashMap<>();

  private final HttpEndpoint settings;
  private final HttpClient client;

  /** The source's last send, or null when it has no budget. */
  private final AtomicLong lastSend;

  /** The source's permits to have a request in flight, or null when it has no limit. */
  private final Semaphore inFlight;

  private String token;
  private Instant tokenExpires = Instant.MIN;

  /** No request before this: the API said its window's requests are spent until then. */
  private long notBeforeMillis;

  HttpClientSession(HttpEndpoint settings) {
    this.settings = settings;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(settings.timeout())
            .followRedirects(HttpClient.Redirect.NORMAL)
            .build();
    this.lastSend =
        settings.maxRequestsPerSecond() <= 0
            ? null
            : LAST_SEND.computeIfAbsent(
                settings.name() + "@" + settings.baseUrl(),
                name -> new AtomicLong(System.nanoTime() - Long.MAX_VALUE / 4));
    this.inFlight =
        settings.maxConcurrentRequests() <= 0
            ? null
            : IN_FLIGHT.computeIfAbsent(
                settings.name() + "@" + settings.baseUrl(),
                name -> new Semaphore(settings.maxConcurrentRequests(), true));
  }

  /** An answer: status, headers and body as JSON (null when the body is empty). */
  record Answer(int status, HttpHeaders headers, JsonNode body, String url) {}

  /** Thrown when a request still fails after the retries, or fails in a way not worth retrying. */
  static final class RequestFailed extends IOException {
    final int status;

    RequestFailed(String message, int status, Throwable cause) {
      super(message, cause);
      this.status = status;
    }
  }

  /** The URL of a request: {@code url} when following a link, else the resource's with params. */
  String url(HttpResource resource, Pagination.Request request) {
    if (request.url() != null) {
      String next = request.url();
      if (next.startsWith("/") && !next.startsWith("//")) {
        URI base = URI.create(settings.baseUrl());
        next = base.getScheme() + "://" + base.getRawAuthority() + next;
      }
      return withApiKey(next);
    }
    Map<String, String> params = new LinkedHashMap<>(resource.params());
    params.putAll(request.params());
    return url(resource.path(), params);
  }

  /** The URL of {@code path} below the base URL with the query {@code params}. */
  String url(String path, Map<String, String> params) {
    StringJoiner query = new StringJoiner("&");
    params.forEach((k, v) -> query.add(encode(k) + "=" + encode(v)));
    String base = settings.baseUrl().replaceAll("/+$", "");
    String below = path.startsWith("/") ? path : "/" + path;
    return withApiKey(base + below + (query.length() == 0 ? "" : "?" + query));
  }

  private String withApiKey(String url) {
    if (settings.auth() instanceof HttpAuth.ApiKey key && key.inQuery()) {
      return url + (url.contains("?") ? "&" : "?") + encode(key.name()) + "=" + encode(key.value());
    }
    return url;
  }

  /** {@code url} with the API key and any other secret-looking parameter hidden. */
  String redact(String url) {
    String out = url;
    if (settings.auth() instanceof HttpAuth.ApiKey key && key.inQuery()) {
      out = out.replace(encode(key.value()), "***").replace(key.value(), "***");
    }
    return Pattern.compile("(?i)([?&](?:api_?key|key|token|access_token|secret|password)=)[^&]*")
        .matcher(out)
        .replaceAll("$1***");
  }

  /** Sends {@code method url} with {@code body}, within the budget, retrying what is worth it. */
  Answer send(String method, String url, String body) throws IOException, InterruptedException {
    return send(method, url, body, Map.of(), true);
  }

  /**
   * Sends {@code method url} with {@code body} and {@code headers}; with {@code readBody} false the
   * answer's body is not parsed (an API that is written to may answer anything, or nothing).
   */
  Answer send(String method, String url, String body, Map<String, String> headers, boolean readBody)
      throws IOException, InterruptedException {
    long started = System.nanoTime();
    boolean renewedAfter401 = false;
    for (int attempt = 1; ; attempt++) {
      long spentUntil = notBeforeMillis - System.currentTimeMillis();
      if (spentUntil > 0) {
        Thread.sleep(spentUntil);
      }
      if (lastSend != null) {
        spaceFromLastSend();
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(settings.timeout())
              .header("Accept", "application/json")
              .header("User-Agent", "watershed");
      headers.forEach(request::header);
      authenticate(request);
      if (body != null) {
        request.header("Content-Type", "application/json");
        request.method(method, HttpRequest.BodyPublishers.ofString(body));
      } else {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> response;
      Duration wait;
      String why;
      if (inFlight != null) {
        inFlight.acquire();
      }
      try {
        response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        response = null;
        why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        wait = backoff(attempt);
        if (!retry(attempt, started, wait)) {
          throw new RequestFailed(
              method + " " + redact(url) + " failed after " + attempt + " attempts: " + why, 0, e);
        }
        LOG.warn(
            "{} {}: {}; attempt {} in {} ms",
            method,
            redact(url),
            why,
            attempt + 1,
            wait.toMillis());
        Thread.sleep(wait.toMillis());
        continue;
      } finally {
        if (inFlight != null) {
          inFlight.release();
        }
      }
      int status = response.statusCode();
      if (status == 401
          && settings.auth() instanceof HttpAuth.OAuth2ClientCredentials
          && !renewedAfter401) {
        // The token expired early or was revoked: fetch a new one, once.
        renewedAfter401 = true;
        tokenExpires = Instant.MIN;
        attempt--;
        continue;
      }
      if (status >= 200 && status < 300) {
        spentWindow(response);
        return new Answer(
            status, response.headers(), readBody ? parse(response.body(), url) : null, url);
      }
      boolean retryable = status == 408 || status == 429 || status >= 500;
      why = "HTTP " + status;
      wait = status == 429 || status == 503 ? retryAfter(response, attempt) : backoff(attempt);
      if (!retryable || !retry(attempt, started, wait)) {
        throw new RequestFailed(
            method
                + " "
                + redact(url)
                + " answered "
                + why
                + (retryable ? " after " + attempt + " attempts" : "")
                + ": "
                + snippet(response.body())
                + fix(status),
            status,
            null);
      }
      LOG.warn(
          "{} {}: {}; attempt {} in {} ms", method, redact(url), why, attempt + 1, wait.toMillis());
      Thread.sleep(wait.toMillis());
    }
  }

  /**
   * Keeps the source's sends in this JVM at least one budget period apart, whoever sends: no second
   * of the server's clock holds more than the budget (a permit-per-period limiter let a late permit
   * and an on-time one go together: one 429 per benchmark run).
   */
  private void spaceFromLastSend() throws InterruptedException {
    long period = (long) (1_000_000_000L / settings.maxRequestsPerSecond());
    while (true) {
      long now = System.nanoTime();
      long previous = lastSend.get();
      long earliest = previous + period;
      if (now >= earliest) {
        if (lastSend.compareAndSet(previous, now)) {
          return;
        }
      } else {
        Thread.sleep((earliest - now) / 1_000_000, (int) ((earliest - now) % 1_000_000));
      }
    }
  }

  /**
   * When an answer says the rate-limit window has no requests left ({@code RateLimit-Remaining} or
   * {@code X-RateLimit-Remaining} of 0), the next request waits for the window's reset instead of
   * spending a request on a 429.
   */
  private void spentWindow(HttpResponse<?> response) {
    for (String name : new String[] {"RateLimit-Remaining", "X-RateLimit-Remaining"}) {
      String remaining = response.headers().firstValue(name).orElse(null);
      if (remaining != null && remaining.trim().equals("0")) {
        Duration wait = resetWait(response);
        if (wait != null) {
          notBeforeMillis = System.currentTimeMillis() + wait.toMillis();
        }
        return;
      }
    }
  }

  /** The wait the reset headers give (seconds, or an epoch time), or null when there are none. */
  private static Duration resetWait(HttpResponse<?> response) {
    for (String name : new String[] {"RateLimit-Reset", "X-RateLimit-Reset"}) {
      String reset = response.headers().firstValue(name).orElse(null);
      if (reset != null) {
        try {
          long value = Long.parseLong(reset.trim());
          // An epoch time (in seconds) or a number of seconds from now.
          return value > 1_000_000_000L
              ? Duration.ofMillis(Math.max(0, value * 1000 - System.currentTimeMillis()))
              : Duration.ofSeconds(Math.max(0, value));
        } catch (NumberFormatException ignored) {
          // Not a number: no wait known.
        }
      }
    }
    return null;
  }

  private boolean retry(int attempt, long started, Duration wait) {
    long elapsed = System.nanoTime() - started;
    return attempt < settings.maxAttempts()
        && elapsed + wait.toNanos() <= settings.maxRetryTime().toNanos();
  }

  /** Exponential backoff with full jitter: up to 0.5 s, 1 s, 2 s, ... capped at 30 s. */
  private static Duration backoff(int attempt) {
    long cap = Math.min(30_000L, 500L << Math.min(attempt - 1, 10));
    return Duration.ofMillis(cap / 2 + ThreadLocalRandom.current().nextLong(cap / 2 + 1));
  }

  /**
   * How long a 429 or 503 asks to wait: {@code Retry-After} in seconds or as an HTTP date, else the
   * rate-limit reset headers ({@code RateLimit-Reset}, {@code X-RateLimit-Reset}: seconds, or an
   * epoch time), else the backoff.
   */
  static Duration retryAfter(HttpResponse<?> response, int attempt) {
    String after = response.headers().firstValue("Retry-After").orElse(null);
    if (after != null) {
      try {
        return Duration.ofSeconds(Math.max(0, Long.parseLong(after.trim())));
      } catch (NumberFormatException e) {
        try {
          ZonedDateTime at =
              ZonedDateTime.parse(after.trim(), DateTimeFormatter.RFC_1123_DATE_TIME);
          return Duration.ofMillis(
              Math.max(0, at.toInstant().toEpochMilli() - System.currentTimeMillis()));
        } catch (DateTimeParseException ignored) {
          // Neither form: fall through to the other headers.
        }
      }
    }
    Duration reset = resetWait(response);
    return reset != null ? reset : backoff(attempt);
  }

  private void authenticate(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpAuth auth = settings.auth();
    if (auth instanceof HttpAuth.Bearer bearer) {
      request.header("Authorization", "Bearer " + bearer.token());
    } else if (auth instanceof HttpAuth.ApiKey key && !key.inQuery()) {
      request.header(key.name(), key.value());
    } else if (auth instanceof HttpAuth.Basic basic) {
      request.header("Authorization", basic.header());
    } else if (auth instanceof HttpAuth.OAuth2ClientCredentials oauth) {
      request.header("Authorization", "Bearer " + oauthToken(oauth));
    }
  }

  /** The cached token, fetched again when it expires within 30 seconds. */
  private String oauthToken(HttpAuth.OAuth2ClientCredentials oauth)
      throws IOException, InterruptedException {
    if (token != null && Instant.now().plusSeconds(30).isBefore(tokenExpires)) {
      return token;
    }
    StringJoiner form = new StringJoiner("&");
    form.add("grant_type=client_credentials");
    form.add("client_id=" + encode(oauth.clientId()));
    form.add("client_secret=" + encode(oauth.clientSecret()));
    if (oauth.scope() != null) {
      form.add("scope=" + encode(oauth.scope()));
    }
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create(oauth.tokenUrl()))
                .timeout(settings.timeout())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Accept", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(form.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new RequestFailed(
          "the OAuth 2.0 token request to "
              + redact(oauth.tokenUrl())
              + " answered HTTP "
              + response.statusCode()
              + "; check client_id and client_secret",
          response.statusCode(),
          null);
    }
    JsonNode answer = parse(response.body(), oauth.tokenUrl());
    token = answer.path("access_token").asText(null);
    if (token == null) {
      throw new RequestFailed(
          "the OAuth 2.0 token answer of " + redact(oauth.tokenUrl()) + " has no access_token",
          200,
          null);
    }
    tokenExpires = Instant.now().plusSeconds(answer.path("expires_in").asLong(3600));
    return token;
  }

  private JsonNode parse(String body, String url) throws RequestFailed {
    try {
      return body == null || body.isBlank() ? JSON.nullNode() : JSON.readTree(body);
    } catch (IOException e) {
      throw new RequestFailed(redact(url) + " did not answer JSON: " + snippet(body), 200, e);
    }
  }

  private static String snippet(String body) {
    if (body == null) {
      return "";
    }
    String one = body.replaceAll("\\s+", " ").trim();
    return one.length() > 200 ? one.substring(0, 200) + "..." : one;
  }

  private static String fix(int status) {
    if (status == 401 || status == 403) {
      return " (check auth: the credentials were refused)";
    }
    if (status == 404) {
      return " (check base_url and the resource's path)";
    }
    if (status == 429) {
      return " (the API kept refusing for its rate limit: lower max_requests_per_second)";
    }
    return status >= 500 ? " (the API failed; try again later)" : "";
  }

  static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
