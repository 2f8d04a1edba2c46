package dev.watershed.io.http;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * How requests to an API authenticate. Secrets are held as given (the spec resolved them from
 * {@code ${env:...}} or {@code ${file:...}}) and never appear in messages: {@link
 * HttpClientSession#redact} removes query-parameter keys from every URL it prints.
 */
public sealed interface HttpAuth extends Serializable
    permits HttpAuth.None,
        HttpAuth.Bearer,
        HttpAuth.ApiKey,
        HttpAuth.Basic,
        HttpAuth.OAuth2ClientCredentials {

  /** No authentication. */
  record None() implements HttpAuth {}

  /** {@code Authorization: Bearer <token>}. */
  record Bearer(String token) implements HttpAuth {
    @Override
    public String toString() {
      return "bearer token";
    }
  }

  /** An API key in a header ({@code in = header}) or a query parameter ({@code in = query}). */
  record ApiKey(String name, String value, String in) implements HttpAuth {
    public boolean inQuery() {
      return in.equals("query");
    }

    @Override
    public String toString() {
      return "API key in " + in + " " + name;
    }
  }

  /** HTTP basic authentication. */
  record Basic(String user, String password) implements HttpAuth {
    String header() {
      return "Basic "
          + Base64.getEncoder()
              .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "basic as " + user;
    }
  }

  /**
   * OAuth 2.0 client credentials: a token fetched from {@code tokenUrl}, cached, fetched again
   * before it expires (or once after a 401).
   */
  record OAuth2ClientCredentials(
      String tokenUrl, String clientId, String clientSecret, String scope) implements HttpAuth {
    @Override
    public String toString() {
      return "OAuth 2.0 client credentials from " + tokenUrl;
    }
  }
}
