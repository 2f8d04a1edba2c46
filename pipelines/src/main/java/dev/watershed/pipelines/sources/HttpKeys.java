package dev.watershed.pipelines.sources;

import dev.watershed.io.http.HttpAuth;
import dev.watershed.io.http.HttpEndpoint;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.YamlObject;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The keys every block that calls an API has, whether it reads ({@code type: http} sources) or
 * writes ({@code type: http} sinks): {@code base_url}, {@code auth}, the request budget and the
 * retry limits, parsed into an {@link HttpEndpoint}.
 */
public final class HttpKeys {
  private HttpKeys() {}

  /** The keys, for the types' {@code keys()}. */
  public static List<Key> keys() {
    return List.of(
        Key.string("base_url", "the API's base URL, such as https://api.example.com/v1"),
        Key.object(
            "auth",
            "how requests authenticate; secrets as ${env:NAME} or ${file:PATH}",
            Key.oneOf("type", "the scheme", "bearer", "api_key", "basic", "oauth2"),
            Key.string("token", "bearer: the token"),
            Key.string("name", "api_key: the header or query parameter"),
            Key.string("value", "api_key: the key"),
            Key.oneOf("in", "api_key: where it goes (default header)", "header", "query"),
            Key.string("user", "basic: the user"),
            Key.string("password", "basic: the password"),
            Key.string("token_url", "oauth2: the token endpoint"),
            Key.string("client_id", "oauth2: the client id"),
            Key.string("client_secret", "oauth2: the client secret"),
            Key.string("scope", "oauth2: the scope asked for")),
        Key.string("max_requests_per_second", "the request budget (default: none)"),
        Key.integer(
            "max_requests_per_minute",
            "the request budget per minute, for APIs that count by the minute (sends spaced"
                + " evenly)"),
        Key.integer(
            "max_concurrent_requests",
            "the most requests in flight at once in each worker JVM (default: one per worker"
                + " thread)"),
        Key.integer("max_attempts", "how often one request is tried (default 5)"),
        Key.duration("max_retry_time", "how long one request may retry (default 2m)"),
        Key.duration("timeout", "how long one request may take (default 30s)"));
  }

  /** The endpoint {@code block} declares for the source or sink {@code name}. */
  public static HttpEndpoint endpoint(String name, YamlObject block) {
    String baseUrl = block.string("base_url", true);
    if (baseUrl != null && !baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
      block.error("base_url", "expected an http:// or https:// URL, got '" + baseUrl + "'");
    }
    double rate = 0;
    String budget = block.string("max_requests_per_second", null);
    if (budget != null) {
      try {
        rate = Double.parseDouble(budget);
        if (rate <= 0) {
          block.error("max_requests_per_second", "expected a positive number");
        }
      } catch (NumberFormatException e) {
        block.error("max_requests_per_second", "expected a number, got '" + budget + "'");
      }
    }
    if (block.has("max_requests_per_minute")) {
      if (budget != null) {
        block.error(
            "max_requests_per_minute", "give max_requests_per_second or per_minute, not both");
      }
      int perMinute = block.integer("max_requests_per_minute", 0);
      if (perMinute < 1) {
        block.error("max_requests_per_minute", "expected a positive whole number");
      } else {
        rate = perMinute / 60.0;
      }
    }
    int concurrent = block.integer("max_concurrent_requests", 0);
    if (block.has("max_concurrent_requests") && concurrent < 1) {
      block.error("max_concurrent_requests", "expected a positive whole number");
    }
    int attempts = block.integer("max_attempts", 5);
    if (attempts < 1) {
      block.error("max_attempts", "expected at least 1");
    }
    return new HttpEndpoint(
        name,
        baseUrl,
        auth(block),
        rate,
        attempts,
        block.duration("max_retry_time", Duration.ofMinutes(2)),
        block.duration("timeout", Duration.ofSeconds(30)),
        concurrent);
  }

  /**
   * Fails with one line naming {@code where} and the fix when nothing listens at the endpoint's
   * host and port.
   */
  public static void checkReachable(HttpEndpoint endpoint, String where) {
    URI uri = URI.create(endpoint.baseUrl());
    int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(uri.getHost(), port), 10_000);
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException(
          where
              + ": cannot reach the API at "
              + uri.getScheme()
              + "://"
              + uri.getHost()
              + ":"
              + port
              + " ("
              + e.getClass().getSimpleName()
              + "); check base_url and the network");
    }
  }

  private static HttpAuth auth(YamlObject block) {
    if (!block.has("auth")) {
      return new HttpAuth.None();
    }
    YamlObject auth = block.object("auth", true);
    String type = auth.string("type", true);
    if (type == null) {
      return new HttpAuth.None();
    }
    switch (type) {
      case "bearer":
        auth.rejectUnknown(Set.of("type", "token"));
        return new HttpAuth.Bearer(auth.string("token", true));
      case "api_key":
        auth.rejectUnknown(Set.of("type", "name", "value", "in"));
        String in = auth.string("in", "header");
        if (!in.equals("header") && !in.equals("query")) {
          auth.error("in", "expected header or query, got '" + in + "'");
        }
        return new HttpAuth.ApiKey(auth.string("name", true), auth.string("value", true), in);
      case "basic":
        auth.rejectUnknown(Set.of("type", "user", "password"));
        return new HttpAuth.Basic(auth.string("user", true), auth.string("password", true));
      case "oauth2":
        auth.rejectUnknown(Set.of("type", "token_url", "client_id", "client_secret", "scope"));
        return new HttpAuth.OAuth2ClientCredentials(
            auth.string("token_url", true),
            auth.string("client_id", true),
            auth.string("client_secret", true),
            auth.string("scope", null));
      default:
        auth.error(
            "type", "unknown auth type '" + type + "'; allowed: bearer, api_key, basic, oauth2");
        return new HttpAuth.None();
    }
  }
}
