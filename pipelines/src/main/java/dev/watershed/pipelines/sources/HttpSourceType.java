package dev.watershed.pipelines.sources;

import dev.watershed.io.http.HttpEndpoint;
import dev.watershed.io.http.HttpResource;
import dev.watershed.io.http.HttpSource;
import dev.watershed.io.http.Pagination;
import dev.watershed.io.http.TimeSlices;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * {@code type: http}: the records of a web API (a CRM, a payments service, a help desk), page by
 * page, authenticated, within a request budget, with retries; incremental through a query parameter
 * that asks for records changed since the last run.
 *
 * <pre>{@code
 * payments:
 *   type: http
 *   base_url: https://api.example.com/v1
 *   path: /customers
 *   records_at: /data
 *   auth: { type: bearer, token: "${env:PAYMENTS_KEY}" }
 *   paginate: { type: cursor, param: starting_after, from_record: id, has_more_at: /has_more }
 *   max_requests_per_second: 20
 *   incremental: { param: updated_since, cursor_field: updated_at, lookback: 10m }
 * }</pre>
 */
public final class HttpSourceType implements SourceType {
  /**
   * An incremental API read: the next run sends its mark, less {@code lookback} for late updates,
   * in {@code param}. The mark is the highest {@code cursorField} value the run read (the API's own
   * clock), or, without a cursor field, the time the run started (this machine's clock, which a
   * look-back must then cover the difference to). {@code initial} is where the first run starts
   * (null: all).
   */
  public record Incremental(String param, String cursorField, Duration lookback, String initial) {}

  /** An API source. */
  public record Config(
      SourceBasics basics,
      HttpEndpoint endpoint,
      List<HttpResource> resources,
      Pagination pagination,
      String onError,
      Incremental incremental,
      TimeSlices slices)
      implements SourceConfig {

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return HttpSource.read(
          new HttpSource.Settings(
              endpoint,
              resources,
              pagination,
              onError,
              incremental == null ? null : incremental.param(),
              since(context.range()),
              slices,
              context.columns()));
    }

    /** Where this run reads from: the last run's mark less the look-back, or the initial one. */
    String since(ReadRange range) {
      if (incremental == null) {
        return null;
      }
      String from = range == null ? null : range.from();
      if (from == null) {
        return incremental.initial();
      }
      try {
        return Instant.parse(from).minus(incremental.lookback()).toString();
      } catch (DateTimeParseException e) {
        return from;
      }
    }

    @Override
    public boolean readsInPart() {
      return incremental != null;
    }

    @Override
    public String firstMark() {
      return incremental.initial();
    }

    /**
     * Without a cursor field, the run's start: records changed from here on are the next run's.
     * With one, null: the mark is found in the records ({@link #markField}).
     */
    @Override
    public String currentMark() {
      return incremental.cursorField() != null
          ? null
          : Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    @Override
    public String markField() {
      return incremental == null ? null : incremental.cursorField();
    }

    /** An API cannot say beforehand how many records changed. */
    @Override
    public long pending(ReadRange range) {
      return -1;
    }

    @Override
    public void checkReachable(Spec spec, String where) {
      HttpKeys.checkReachable(endpoint, where);
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return "source " + name() + " (http)";
    }
  }

  @Override
  public String name() {
    return "http";
  }

  @Override
  public String description() {
    return "a web API (REST or JSON over HTTP): pages, auth, rate limits, retries, incremental";
  }

  private static final List<Key> RESOURCE_KEYS =
      List.of(
          Key.string("path", "the path below base_url, such as /customers"),
          Key.oneOf("method", "the HTTP method (default GET)", "GET", "POST"),
          Key.map("params", "query parameters sent with every request"),
          Key.string("body", "a JSON body, for POST-style search endpoints"),
          Key.string("query", "a GraphQL query (sent as POST with its variables)"),
          Key.map("variables", "the GraphQL query's variables"),
          Key.string(
              "records_at",
              "JSON pointer to the records in a response, such as /data (default: the response"
                  + " is the array)"));

  private static final Key PAGINATE =
      Key.object(
          "paginate",
          "how the API pages its records (default: one request)",
          Key.oneOf(
              "type",
              "the style",
              "none",
              "page_number",
              "offset",
              "cursor",
              "next_url",
              "link_header",
              "graphql"),
          Key.string("param", "page_number, cursor: the query parameter"),
          Key.integer("start", "page_number: the first page (default 1)"),
          Key.string("size_param", "page_number: the page size parameter"),
          Key.integer("size", "page_number: the page size"),
          Key.string("offset_param", "offset: the offset parameter (default offset)"),
          Key.string("limit_param", "offset: the limit parameter (default limit)"),
          Key.integer("limit", "offset: records per page (default 100)"),
          Key.string("total_at", "page_number, offset: JSON pointer to the total of records"),
          Key.string("cursor_at", "cursor: JSON pointer to the next cursor in the body"),
          Key.string("from_record", "cursor: the field of the last record that is the cursor"),
          Key.string("has_more_at", "cursor: JSON pointer to a has-more flag"),
          Key.string("next_at", "next_url: JSON pointer to the next page's URL"),
          Key.string("page_info_at", "graphql: JSON pointer to pageInfo"),
          Key.string(
              "cursor_variable", "graphql: the variable the cursor goes in (default after)"));

  /** A resource of a resources: list: its keys, its own pagination and a parent resource. */
  private static List<Key> resourceItemKeys() {
    List<Key> keys = new ArrayList<>(RESOURCE_KEYS);
    keys.add(PAGINATE);
    List<Key> parent = new ArrayList<>(RESOURCE_KEYS);
    parent.add(PAGINATE);
    keys.add(
        new Key(
            "parent",
            Key.Kind.OBJECT,
            "the resource whose records open this one: each record's fields fill {field} in this"
                + " path and are the child records' parent.<field>",
            List.of(),
            List.copyOf(parent)));
    return keys;
  }

  @Override
  public List<Key> keys() {
    List<Key> keys = new ArrayList<>();
    keys.addAll(HttpKeys.keys());
    keys.addAll(RESOURCE_KEYS);
    keys.add(
        Key.objects(
            "resources",
            "several endpoints of the same record shape, read in parallel",
            resourceItemKeys()));
    keys.add(PAGINATE);
    keys.add(
        Key.oneOf(
            "on_error",
            "a request that still fails: fail the run (default) or dead_letter and go on",
            "fail",
            "dead_letter"));
    keys.add(
        Key.object(
            "incremental",
            "read only what changed since the last run",
            Key.string("param", "the query parameter that takes the time, such as updated_since"),
            Key.string(
                "cursor_field",
                "the record field whose highest value read is the next run's mark, such as"
                    + " updated_at (default: the run's start by this machine's clock)"),
            Key.duration("lookback", "read this much before the last run's mark (default 0s)"),
            Key.string("initial", "where the first run starts (default: everything)")));
    keys.add(
        Key.object(
            "slices",
            "read each resource as consecutive time slices, in parallel within the budget",
            Key.string(
                "start_param", "the query parameter of a slice's start, such as created_gte"),
            Key.string("end_param", "the query parameter of a slice's end, such as created_lt"),
            Key.string("from", "where the first slice starts: an ISO instant or date"),
            Key.string("to", "where the last slice ends (default: the run's start)"),
            Key.duration("every", "how long a slice is, such as 7d"),
            Key.oneOf(
                "format",
                "how the bounds are written (default iso)",
                "iso",
                "date",
                "epoch_seconds")));
    return keys;
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    List<HttpResource> resources = new ArrayList<>();
    String defaultRecordsAt = block.string("records_at", "");
    if (block.has("resources")) {
      if (block.has("path")) {
        block.error("path", "give path or resources, not both");
      }
      for (YamlObject item : block.list("resources")) {
        item.rejectUnknown(RESOURCE);
        resources.add(resource(item, defaultRecordsAt, true));
      }
    } else if (block.has("path")) {
      resources.add(resource(block, defaultRecordsAt, false));
    } else {
      block.error(null, "give the endpoint to read: path (or resources)");
    }
    String onError = block.string("on_error", "fail");
    if (!onError.equals("fail") && !onError.equals("dead_letter")) {
      block.error("on_error", "unknown value '" + onError + "'; allowed: fail, dead_letter");
    }
    Incremental incremental = null;
    if (block.has("incremental")) {
      YamlObject inc = block.object("incremental", true);
      inc.rejectUnknown(Set.of("param", "cursor_field", "lookback", "initial"));
      String param = inc.string("param", true);
      String cursorField = inc.string("cursor_field", null);
      String initial = inc.string("initial", null);
      if (initial != null) {
        try {
          Instant.parse(initial);
        } catch (DateTimeParseException e) {
          inc.error("initial", "expected an ISO instant such as 2024-01-01T00:00:00Z");
        }
      }
      incremental =
          new Incremental(param, cursorField, inc.duration("lookback", Duration.ZERO), initial);
    }
    return new Config(
        basics,
        HttpKeys.endpoint(basics.name(), block),
        resources,
        pagination(block),
        onError,
        incremental,
        block.has("slices") ? slices(block.object("slices", true)) : null);
  }

  private static TimeSlices slices(YamlObject block) {
    block.rejectUnknown(Set.of("start_param", "end_param", "from", "to", "every", "format"));
    String startParam = block.string("start_param", true);
    String endParam = block.string("end_param", null);
    Instant from = instant(block, "from", block.string("from", true));
    String toText = block.string("to", "now");
    Instant to = toText.equals("now") ? null : instant(block, "to", toText);
    Duration every = block.duration("every", null);
    if (every == null) {
      if (!block.has("every")) {
        block.error("every", "give how long a slice is, such as every: 7d");
      }
      every = Duration.ofDays(1);
    } else if (every.isZero() || every.isNegative()) {
      block.error("every", "expected a duration longer than zero");
      every = Duration.ofDays(1);
    }
    String formatText = block.string("format", "iso");
    TimeSlices.Format format =
        switch (formatText) {
          case "iso" -> TimeSlices.Format.ISO;
          case "date" -> TimeSlices.Format.DATE;
          case "epoch_seconds" -> TimeSlices.Format.EPOCH_SECONDS;
          default -> {
            block.error(
                "format", "unknown value '" + formatText + "'; allowed: iso, date, epoch_seconds");
            yield TimeSlices.Format.ISO;
          }
        };
    if (format == TimeSlices.Format.DATE && every.toSeconds() % 86_400 != 0) {
      block.error("every", "slices written as dates must last whole days, such as 1d or 7d");
    }
    if (from != null && to != null && !to.isAfter(from)) {
      block.error("to", "the slices must end after they start (from " + from + ")");
    }
    TimeSlices slices = new TimeSlices(startParam, endParam, from, to, every, format);
    if (from != null && slices.count(Instant.now()) > TimeSlices.MAX_SLICES) {
      block.error(
          "every",
          "more than "
              + TimeSlices.MAX_SLICES
              + " slices of "
              + every
              + " from "
              + from
              + "; give a longer slice");
    }
    return slices;
  }

  /** An ISO instant, or a date taken as its midnight in UTC; null (and an error) otherwise. */
  private static Instant instant(YamlObject block, String key, String text) {
    if (text == null) {
      return null;
    }
    try {
      return text.length() == 10
          ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant()
          : Instant.parse(text);
    } catch (DateTimeParseException e) {
      block.error(
          key,
          "expected an ISO instant such as 2024-01-01T00:00:00Z or a date, got '" + text + "'");
      return null;
    }
  }

  private static final Set<String> RESOURCE =
      Set.of(
          "path",
          "method",
          "params",
          "body",
          "records_at",
          "query",
          "variables",
          "paginate",
          "parent");

  private static HttpResource resource(YamlObject item, String defaultRecordsAt, boolean own) {
    String path = item.string("path", true);
    String method = item.string("method", "GET");
    if (!method.equals("GET") && !method.equals("POST")) {
      item.error("method", "expected GET or POST, got '" + method + "'");
    }
    String recordsAt = item.string("records_at", defaultRecordsAt);
    if (!recordsAt.isEmpty() && !recordsAt.startsWith("/")) {
      item.error(
          "records_at",
          "expected a JSON pointer to the records, such as /data; got '" + recordsAt + "'");
    }
    String query = item.string("query", null);
    if (query != null && item.has("body")) {
      item.error("body", "a GraphQL resource's body is its query and variables; drop body");
    }
    HttpResource parent = null;
    if (item.has("parent")) {
      YamlObject declared = item.object("parent", true);
      declared.rejectUnknown(RESOURCE);
      parent = resource(declared, "", true);
      if (path != null && !path.contains("{")) {
        item.error(
            "path",
            "a child resource's path names the parent's fields it needs, such as"
                + " /customers/{id}/invoices");
      }
    }
    return new HttpResource(
        path == null ? "/" : path,
        method,
        strings(item, "params"),
        item.string("body", null),
        recordsAt,
        query,
        strings(item, "variables"),
        own && item.has("paginate") ? pagination(item) : null,
        parent);
  }

  private static Map<String, String> strings(YamlObject item, String key) {
    Map<String, String> out = new LinkedHashMap<>();
    YamlObject declared = item.object(key, false);
    for (String name : declared.keys()) {
      String value = declared.string(name, true);
      if (value != null) {
        out.put(name, value);
      }
    }
    return out;
  }

  private static Pagination pagination(YamlObject block) {
    if (!block.has("paginate")) {
      return new Pagination.Single();
    }
    YamlObject pages = block.object("paginate", true);
    String type = pages.string("type", true);
    if (type == null) {
      return new Pagination.Single();
    }
    switch (type) {
      case "none":
        pages.rejectUnknown(Set.of("type"));
        return new Pagination.Single();
      case "page_number":
        pages.rejectUnknown(Set.of("type", "param", "start", "size_param", "size", "total_at"));
        return new Pagination.PageNumber(
            pages.string("param", "page"),
            pages.integer("start", 1),
            pages.string("size_param", null),
            pages.integer("size", 100),
            pages.string("total_at", null));
      case "offset":
        pages.rejectUnknown(Set.of("type", "offset_param", "limit_param", "limit", "total_at"));
        return new Pagination.Offset(
            pages.string("offset_param", "offset"),
            pages.string("limit_param", "limit"),
            pages.integer("limit", 100),
            pages.string("total_at", null));
      case "cursor":
        pages.rejectUnknown(Set.of("type", "param", "cursor_at", "from_record", "has_more_at"));
        String cursorAt = pages.string("cursor_at", null);
        String fromRecord = pages.string("from_record", null);
        if ((cursorAt == null) == (fromRecord == null)) {
          pages.error(null, "give exactly one of cursor_at (in the body) and from_record");
        }
        return new Pagination.Cursor(
            pages.string("param", true), cursorAt, fromRecord, pages.string("has_more_at", null));
      case "next_url":
        pages.rejectUnknown(Set.of("type", "next_at"));
        return new Pagination.NextUrl(pages.string("next_at", true));
      case "link_header":
        pages.rejectUnknown(Set.of("type"));
        return new Pagination.LinkHeader();
      case "graphql":
        pages.rejectUnknown(Set.of("type", "page_info_at", "cursor_variable"));
        return new Pagination.GraphQlCursor(
            pages.string("page_info_at", true), pages.string("cursor_variable", "after"));
      default:
        pages.error(
            "type",
            "unknown pagination '"
                + type
                + "'; allowed: none, page_number, offset, cursor, next_url, link_header,"
                + " graphql");
        return new Pagination.Single();
    }
  }
}
