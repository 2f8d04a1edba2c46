package dev.watershed.io.http;

import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resource read as consecutive time slices, each a unit of work of its own, so that the workers
 * read the slices in parallel within the source's shared request budget: {@code [from, from +
 * every)}, {@code [from + every, from + 2 every)}, ... up to {@code to} (null: the run's start).
 * Each slice's first request carries its start in {@code startParam} and its end in {@code
 * endParam} (an API's {@code created_gte}/{@code created_lt}); an API that filters inclusively at
 * both ends may answer a record on a boundary in two slices, which a merge sink absorbs.
 *
 * <pre>{@code
 * new TimeSlices("created_gte", "created_lt", Instant.parse("2024-01-01T00:00:00Z"), null,
 *     Duration.ofDays(30), TimeSlices.Format.EPOCH_SECONDS)
 * }</pre>
 *
 * @param format how a slice's bounds are written in the query
 */
public record TimeSlices(
    String startParam, String endParam, Instant from, Instant to, Duration every, Format format)
    implements Serializable {

  /** The most slices one read may have: a step far too small for its range is a mistake. */
  public static final int MAX_SLICES = 10_000;

  /** How a bound is written: an ISO-8601 instant, a date, or seconds since the epoch. */
  public enum Format {
    ISO,
    DATE,
    EPOCH_SECONDS;

    String write(Instant instant) {
      return switch (this) {
        case ISO -> instant.toString();
        case DATE -> DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneOffset.UTC).format(instant);
        case EPOCH_SECONDS -> Long.toString(instant.getEpochSecond());
      };
    }
  }

  public TimeSlices {
    if (every.isZero() || every.isNegative()) {
      throw new IllegalArgumentException("a slice must last longer than zero");
    }
  }

  /** How many slices {@code [from, end)} holds, counted without building them. */
  public long count(Instant now) {
    Instant end = to != null ? to : now;
    if (!end.isAfter(from)) {
      return 0;
    }
    Duration span = Duration.between(from, end);
    long whole = span.toMillis() / Math.max(1, every.toMillis());
    return span.toMillis() % Math.max(1, every.toMillis()) == 0 ? whole : whole + 1;
  }

  /** The query parameters of every slice, in time order; the last ends at {@code to} or now. */
  public List<Map<String, String>> params(Instant now) {
    Instant end = to != null ? to : now;
    List<Map<String, String>> slices = new ArrayList<>();
    for (Instant start = from; start.isBefore(end); start = start.plus(every)) {
      Instant stop = start.plus(every).isAfter(end) ? end : start.plus(every);
      Map<String, String> params = new LinkedHashMap<>();
      params.put(startParam, format.write(start));
      if (endParam != null) {
        params.put(endParam, format.write(stop));
      }
      slices.add(params);
      if (slices.size() > MAX_SLICES) {
        throw new IllegalArgumentException(
            "more than " + MAX_SLICES + " slices of " + every + " from " + from + " to " + end);
      }
    }
    return slices;
  }
}
