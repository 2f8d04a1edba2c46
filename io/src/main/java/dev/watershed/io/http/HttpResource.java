package dev.watershed.io.http;

import java.io.Serializable;
import java.util.Map;

/**
 * One endpoint an API source reads: its path below the base URL, the HTTP method, query parameters,
 * a JSON body for POST-style search endpoints (null for none), and where the records are in a
 * response ({@code recordsAt}: a JSON pointer such as {@code /data}; empty when the response is the
 * array).
 */
public record HttpResource(
    String path, String method, Map<String, String> params, String body, String recordsAt)
    implements Serializable {
  public HttpResource {
    params = Map.copyOf(params);
  }

  @Override
  public String toString() {
    return method + " " + path;
  }
}
