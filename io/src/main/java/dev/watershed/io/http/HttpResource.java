package dev.watershed.io.http;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One endpoint an API source reads: its path below the base URL (with {@code {field}} placeholders
 * filled from each parent record when it has a {@code parent}), the HTTP method, query parameters,
 * a JSON body for POST-style search endpoints (null for none), where the records are in a response
 * ({@code recordsAt}: a JSON pointer such as {@code /data}; empty when the response is the array),
 * a GraphQL {@code query} with its {@code variables} (null for none), and how it pages ({@code
 * pagination}; null: the source's).
 */
public record HttpResource(
    String path,
    String method,
    Map<String, String> params,
    String body,
    String recordsAt,
    String query,
    Map<String, String> variables,
    Pagination pagination,
    HttpResource parent)
    implements Serializable {
  public HttpResource {
    // In the order the spec gives them, so a request's URL is the same on every run.
    params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    variables =
        variables == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(variables));
  }

  /** A plain endpoint: no GraphQL, the source's pagination, no parent. */
  public HttpResource(
      String path, String method, Map<String, String> params, String body, String recordsAt) {
    this(path, method, params, body, recordsAt, null, null, null, null);
  }

  /** This endpoint for one parent record: its path with the record's values filled in. */
  HttpResource forParent(String filledPath) {
    return new HttpResource(
        filledPath, method, params, body, recordsAt, query, variables, pagination, null);
  }

  @Override
  public String toString() {
    return query != null ? "POST " + path + " (GraphQL)" : method + " " + path;
  }
}
