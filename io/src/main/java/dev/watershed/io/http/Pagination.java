package dev.watershed.io.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.Serializable;
import java.net.http.HttpHeaders;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How an API hands out its records page by page. Each style answers, from the page just read, what
 * the next request is, or that there is none. Every style also stops at an empty page.
 */
public sealed interface Pagination extends Serializable
    permits Pagination.Single,
        Pagination.PageNumber,
        Pagination.Offset,
        Pagination.Cursor,
        Pagination.NextUrl,
        Pagination.LinkHeader,
        Pagination.GraphQlCursor {

  /** A page just read: its records, its whole body, its headers, and the request it answered. */
  record Page(List<JsonNode> records, JsonNode body, HttpHeaders headers, Request request) {}

  /**
   * A request: the query parameters it adds to the resource's, or a whole URL to follow, and the
   * GraphQL variables it adds to the resource's.
   */
  record Request(Map<String, String> params, String url, Map<String, String> variables) {
    public Request(Map<String, String> params, String url) {
      this(params, url, Map.of());
    }

    /** The first request, its parameters in the order given (so its URL is the same each run). */
    static Request first(Map<String, String> params) {
      return new Request(Collections.unmodifiableMap(new LinkedHashMap<>(params)), null);
    }

    Request with(String name, String value) {
      Map<String, String> next = new LinkedHashMap<>(params);
      next.put(name, value);
      return new Request(next, null, variables);
    }

    Request withVariable(String name, String value) {
      Map<String, String> next = new LinkedHashMap<>(variables);
      next.put(name, value);
      return new Request(params, null, next);
    }
  }

  /** The parameters of the first request. */
  Map<String, String> first();

  /** The next request after {@code page}, or null when the resource is read. */
  Request next(Page page);

  /** One request; no pages. */
  record Single() implements Pagination {
    @Override
    public Map<String, String> first() {
      return Map.of();
    }

    @Override
    public Request next(Page page) {
      return null;
    }
  }

  /**
   * Pages numbered from {@code start} in parameter {@code param}, {@code size} records each in
   * {@code sizeParam} (null: the API's own size); stops at an empty page, a short page, or when the
   * total at {@code totalAt} (a JSON pointer, null for none) is reached.
   */
  record PageNumber(String param, int start, String sizeParam, int size, String totalAt)
      implements Pagination {
    @Override
    public Map<String, String> first() {
      Map<String, String> params = new LinkedHashMap<>();
      params.put(param, String.valueOf(start));
      if (sizeParam != null) {
        params.put(sizeParam, String.valueOf(size));
      }
      return params;
    }

    @Override
    public Request next(Page page) {
      if (page.records().isEmpty() || (sizeParam != null && page.records().size() < size)) {
        return null;
      }
      int current = Integer.parseInt(page.request().params().get(param));
      if (totalAt != null && page.body().at(totalAt).isNumber()) {
        int pageSize = sizeParam != null ? size : page.records().size();
        if ((long) (current - start + 1) * pageSize >= page.body().at(totalAt).asLong()) {
          return null;
        }
      }
      return page.request().with(param, String.valueOf(current + 1));
    }
  }

  /**
   * Offset and limit: {@code limit} records from {@code offset} on; stops at an empty or short page
   * or at the total at {@code totalAt}.
   */
  record Offset(String offsetParam, String limitParam, int limit, String totalAt)
      implements Pagination {
    @Override
    public Map<String, String> first() {
      return Map.of(offsetParam, "0", limitParam, String.valueOf(limit));
    }

    @Override
    public Request next(Page page) {
      if (page.records().size() < limit) {
        return null;
      }
      long next = Long.parseLong(page.request().params().get(offsetParam)) + page.records().size();
      if (totalAt != null
          && page.body().at(totalAt).isNumber()
          && next >= page.body().at(totalAt).asLong()) {
        return null;
      }
      return page.request().with(offsetParam, String.valueOf(next));
    }
  }

  /**
   * A cursor sent back in {@code param}: taken from the body at {@code cursorAt} (a JSON pointer:
   * {@code /next_cursor}, {@code /meta/next}), or, when {@code fromRecord} is set, the field of the
   * page's last record ({@code starting_after} = the last id). With {@code hasMoreAt}, a false flag
   * there stops; otherwise a missing or empty cursor does.
   */
  record Cursor(String param, String cursorAt, String fromRecord, String hasMoreAt)
      implements Pagination {
    @Override
    public Map<String, String> first() {
      return Map.of();
    }

    @Override
    public Request next(Page page) {
      if (page.records().isEmpty()) {
        return null;
      }
      if (hasMoreAt != null && !page.body().at(hasMoreAt).asBoolean(false)) {
        return null;
      }
      JsonNode cursor =
          fromRecord != null
              ? page.records().get(page.records().size() - 1).get(fromRecord)
              : page.body().at(cursorAt);
      if (cursor == null
          || cursor.isNull()
          || cursor.isMissingNode()
          || cursor.asText().isEmpty()) {
        return null;
      }
      return page.request().with(param, cursor.asText());
    }
  }

  /** The next page's whole URL in the body at {@code nextAt} (a JSON pointer). */
  record NextUrl(String nextAt) implements Pagination {
    @Override
    public Map<String, String> first() {
      return Map.of();
    }

    @Override
    public Request next(Page page) {
      JsonNode next = page.body().at(nextAt);
      if (page.records().isEmpty() || !next.isTextual() || next.asText().isEmpty()) {
        return null;
      }
      return new Request(Map.of(), next.asText());
    }
  }

  /** The next page's URL in the {@code Link} header with {@code rel="next"} (RFC 8288). */
  record LinkHeader() implements Pagination {
    private static final Pattern LINK =
        Pattern.compile("<([^>]*)>\\s*((?:;\\s*[^;,]+)*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern NEXT =
        Pattern.compile(";\\s*rel\\s*=\\s*\"?([^\";]*)\"?", Pattern.CASE_INSENSITIVE);

    @Override
    public Map<String, String> first() {
      return Map.of();
    }

    @Override
    public Request next(Page page) {
      if (page.records().isEmpty()) {
        return null;
      }
      for (String header : page.headers().allValues("Link")) {
        String next = nextLink(header);
        if (next != null) {
          return new Request(Map.of(), next);
        }
      }
      return null;
    }

    /** The target of the link whose relation types include {@code next}, or null. */
    static String nextLink(String header) {
      Matcher link = LINK.matcher(header);
      while (link.find()) {
        Matcher rel = NEXT.matcher(link.group(2));
        while (rel.find()) {
          for (String type : rel.group(1).trim().split("\\s+")) {
            if (type.equalsIgnoreCase("next")) {
              return link.group(1);
            }
          }
        }
      }
      return null;
    }
  }

  /**
   * GraphQL cursor pagination: while {@code pageInfo.hasNextPage} (at {@code pageInfoAt}, a JSON
   * pointer such as {@code /data/customers/pageInfo}) is true, the next request sets the variable
   * {@code cursorVariable} to {@code pageInfo.endCursor}.
   */
  record GraphQlCursor(String pageInfoAt, String cursorVariable) implements Pagination {
    @Override
    public Map<String, String> first() {
      return Map.of();
    }

    @Override
    public Request next(Page page) {
      JsonNode info = page.body().at(pageInfoAt);
      if (page.records().isEmpty() || !info.path("hasNextPage").asBoolean(false)) {
        return null;
      }
      JsonNode cursor = info.path("endCursor");
      if (!cursor.isTextual() || cursor.asText().isEmpty()) {
        return null;
      }
      return page.request().withVariable(cursorVariable, cursor.asText());
    }
  }
}
