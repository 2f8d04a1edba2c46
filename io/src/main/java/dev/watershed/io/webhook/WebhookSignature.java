package dev.watershed.io.webhook;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a webhook sender signs its requests: HMAC-SHA256 with a shared secret, in one of three
 * schemes. {@link #verify} answers who the event is (its id) or why it is refused; signatures are
 * compared in constant time, and a timestamp outside the tolerance is refused (a captured request
 * cannot be replayed later).
 *
 * <ul>
 *   <li>{@code standard} (Standard Webhooks, Svix): headers {@code webhook-id}, {@code
 *       webhook-timestamp} (seconds), {@code webhook-signature} ({@code v1,<base64>}, several
 *       separated by spaces); signed content {@code id.timestamp.body}; the secret is {@code
 *       whsec_<base64 key>}.
 *   <li>{@code stripe}: header {@code Stripe-Signature: t=<seconds>,v1=<hex>[,v1=...]}; signed
 *       content {@code t.body}; the id is the body's {@code id}.
 *   <li>{@code github}: header {@code X-Hub-Signature-256: sha256=<hex>} over the body; the id is
 *       {@code X-GitHub-Delivery}. GitHub sends no timestamp: replays are refused by id only.
 * </ul>
 */
public enum WebhookSignature {
  STANDARD,
  STRIPE,
  GITHUB;

  /** The scheme as the spec names it. */
  public String specName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scheme a spec names, or null. */
  public static WebhookSignature named(String name) {
    for (WebhookSignature scheme : values()) {
      if (scheme.specName().equals(name)) {
        return scheme;
      }
    }
    return null;
  }

  /** A verified event: its id and when it was signed (null where the scheme has no time). */
  public record Verified(String id, Instant signedAt) implements Serializable {}

  /** Thrown when a request is not accepted; the message is the reason, safe to log. */
  public static final class Refused extends Exception {
    Refused(String reason) {
      super(reason);
    }
  }

  /**
   * Verifies a request: {@code headers} gives a header's value by name (any case), {@code idOfBody}
   * the body's own id where the scheme keeps it there.
   */
  public Verified verify(
      Function<String, String> headers,
      byte[] body,
      String secret,
      Duration tolerance,
      Instant now,
      Function<byte[], String> idOfBody)
      throws Refused {
    switch (this) {
      case STANDARD:
        {
          String id = required(headers, "webhook-id");
          Instant at = seconds(required(headers, "webhook-timestamp"));
          fresh(at, tolerance, now);
          byte[] key =
              Base64.getDecoder()
                  .decode(secret.startsWith("whsec_") ? secret.substring(6) : secret);
          byte[] expected = hmac(key, concat(id + "." + at.getEpochSecond() + ".", body));
          for (String signature : required(headers, "webhook-signature").split(" ")) {
            int comma = signature.indexOf(',');
            if (comma > 0
                && signature.substring(0, comma).equals("v1")
                && equal(expected, base64(signature.substring(comma + 1)))) {
              return new Verified(id, at);
            }
          }
          throw new Refused("bad signature");
        }
      case STRIPE:
        {
          String header = required(headers, "Stripe-Signature");
          String time = null;
          for (String part : header.split(",")) {
            if (part.startsWith("t=")) {
              time = part.substring(2);
            }
          }
          if (time == null) {
            throw new Refused("no timestamp in Stripe-Signature");
          }
          Instant at = seconds(time);
          fresh(at, tolerance, now);
          byte[] expected = hmac(secret.getBytes(StandardCharsets.UTF_8), concat(time + ".", body));
          for (String part : header.split(",")) {
            if (part.startsWith("v1=") && equal(expected, hex(part.substring(3)))) {
              String id = idOfBody.apply(body);
              if (id == null) {
                throw new Refused("the event has no id");
              }
              return new Verified(id, at);
            }
          }
          throw new Refused("bad signature");
        }
      default:
        {
          String id = required(headers, "X-GitHub-Delivery");
          String signature = required(headers, "X-Hub-Signature-256");
          if (!signature.startsWith("sha256=")
              || !equal(
                  hmac(secret.getBytes(StandardCharsets.UTF_8), body),
                  hex(signature.substring(7)))) {
            throw new Refused("bad signature");
          }
          return new Verified(id, null);
        }
    }
  }

  /** The headers a sender of this scheme would send for {@code body} (for tests and demos). */
  public Map<String, String> sign(String id, Instant at, byte[] body, String secret) {
    String seconds = String.valueOf(at.getEpochSecond());
    switch (this) {
      case STANDARD:
        byte[] key =
            Base64.getDecoder().decode(secret.startsWith("whsec_") ? secret.substring(6) : secret);
        return Map.of(
            "webhook-id",
            id,
            "webhook-timestamp",
            seconds,
            "webhook-signature",
            "v1,"
                + Base64.getEncoder()
                    .encodeToString(hmac(key, concat(id + "." + seconds + ".", body))));
      case STRIPE:
        return Map.of(
            "Stripe-Signature",
            "t="
                + seconds
                + ",v1="
                + HexFormat.of()
                    .formatHex(
                        hmac(
                            secret.getBytes(StandardCharsets.UTF_8), concat(seconds + ".", body))));
      default:
        return Map.of(
            "X-GitHub-Delivery",
            id,
            "X-Hub-Signature-256",
            "sha256="
                + HexFormat.of().formatHex(hmac(secret.getBytes(StandardCharsets.UTF_8), body)));
    }
  }

  private static String required(Function<String, String> headers, String name) throws Refused {
    String value = headers.apply(name);
    if (value == null || value.isBlank()) {
      throw new Refused("no " + name + " header");
    }
    return value.trim();
  }

  private static Instant seconds(String text) throws Refused {
    try {
      return Instant.ofEpochSecond(Long.parseLong(text.trim()));
    } catch (NumberFormatException e) {
      throw new Refused("the timestamp is not a number of seconds");
    }
  }

  private static void fresh(Instant at, Duration tolerance, Instant now) throws Refused {
    if (Duration.between(at, now).abs().compareTo(tolerance) > 0) {
      throw new Refused("timestamp outside the tolerance of " + tolerance.toSeconds() + " s");
    }
  }

  private static boolean equal(byte[] expected, byte[] given) {
    return given != null && MessageDigest.isEqual(expected, given);
  }

  private static byte[] base64(String text) {
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] hex(String text) {
    try {
      return HexFormat.of().parseHex(text);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] concat(String prefix, byte[] body) {
    byte[] head = prefix.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + body.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(body, 0, out, head.length, body.length);
    return out;
  }

  private static byte[] hmac(byte[] key, byte[] content) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(content);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }
}
