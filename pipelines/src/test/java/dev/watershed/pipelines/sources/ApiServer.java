package dev.watershed.pipelines.sources;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A local web API in two SaaS styles, served by the JDK's HTTP server over real sockets, for the
 * API-source tests: a payments API ({@code /v1/customers}: bearer key, {@code limit} + {@code
 * starting_after} + {@code has_more}, {@code updated_since}) and a CRM ({@code /crm/...}: OAuth 2.0
 * client credentials with expiring tokens, offset/limit with a total, {@code Link} headers, page
 * numbers, next URLs). Data from {@code test-data/api/}. Faults are switched on per test: a burst
 * of 429s, 500s, tokens that expire after a number of uses.
 */
final class ApiServer implements AutoCloseable {
  static final String PAYMENTS_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
  static final String CLIENT_ID = "watershed";
  static final String CLIENT_SECRET = "cs_9f8e7d6c5b4a";
  static final String QUERY_KEY = "qk-7Yh2-secret";
  static final String BASIC_PASSWORD = "pw-3c1e-basic";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path DATA = Path.of("..", "test-data", "api");

  private final HttpServer server;
  private final List<JsonNode> customers;
  private final List<JsonNode> contacts;

  /** Every request: method, path and query, as received. */
  final List<String> requests = new CopyOnWriteArrayList<>();

  /** When each request arrived (System.nanoTime), in order. */
  final List<Long> arrivals = new CopyOnWriteArrayList<>();

  /** Requests answered (any status), by the second of the wall clock they arrived in. */
  final Map<Long, AtomicInteger> perSecond = new ConcurrentHashMap<>();

  /** Faults: answer this many next requests with 429 (Retry-After: 1). */
  final AtomicInteger tooManyRequests = new AtomicInteger();

  /** Faults: answer this many next requests with 500. */
  final AtomicInteger serverErrors = new AtomicInteger();

  /**
   * How a 429 says when to come back: {@code seconds} ({@code Retry-After: 1}), {@code date}
   * ({@code Retry-After} as an HTTP date one second ahead) or {@code reset} ({@code
   * RateLimit-Reset: 1}, no Retry-After).
   */
  volatile String retryAfterStyle = "seconds";

  /** When the last 429 was answered (System.nanoTime), and when the next request came after it. */
  volatile long lastRefusal;

  volatile long firstAfterRefusal;

  /** Every answer waits this long (an API's latency), so that parallel requests overlap. */
  volatile long latencyMillis;

  /** Requests being answered now, and the most there ever were at once. */
  private static final ThreadLocal<Runnable> ANSWERED = new ThreadLocal<>();

  final AtomicInteger inFlight = new AtomicInteger();

  final AtomicInteger peakInFlight = new AtomicInteger();

  /** Faults: this many next requests are answered only after {@link #slowMillis}. */
  final AtomicInteger slowAnswers = new AtomicInteger();

  volatile long slowMillis;

  /** A token stops working after this many uses (an expiry mid-run); 0: never. */
  volatile int tokenUses;

  private final Map<String, AtomicInteger> tokens = new ConcurrentHashMap<>();
  private final AtomicInteger issued = new AtomicInteger();

  ApiServer() throws IOException {
    customers = load("payments_customers.json");
    contacts = load("crm_contacts.json");
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(4));
    server.createContext("/", this::handle);
    server.start();
  }

  private static List<JsonNode> load(String file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    JSON.readTree(Files.readString(DATA.resolve(file))).forEach(out::add);
    return Collections.unmodifiableList(out);
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Tokens the OAuth endpoint issued. */
  int tokensIssued() {
    return issued.get();
  }

  /** The most requests that arrived in one second of the wall clock. */
  int busiestSecond() {
    return perSecond.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
  }

  /** The customers an {@code updated_since} of {@code since} selects (null: all), objects only. */
  List<JsonNode> customersSince(String since) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode customer : customers) {
      if (customer.isObject()
          && (since == null
              || !Instant.parse(customer.get("updated_at").asText())
                  .isBefore(Instant.parse(since)))) {
        out.add(customer);
      }
    }
    return out;
  }

  List<JsonNode> contacts() {
    return contacts;
  }

  /** Changes a customer's e-mail and moves its updated_at to {@code at}. */
  void update(String id, String email, String at) {
    for (JsonNode customer : customers) {
      if (customer.isObject() && customer.get("id").asText().equals(id)) {
        ((ObjectNode) customer).put("email", email).put("updated_at", at);
      }
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String query = exchange.getRequestURI().getRawQuery();
    arrivals.add(System.nanoTime());
    requests.add(exchange.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
    perSecond
        .computeIfAbsent(System.currentTimeMillis() / 1000, s -> new AtomicInteger())
        .incrementAndGet();
    Map<String, String> params = params(query);
    peakInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
    java.util.concurrent.atomic.AtomicBoolean counted =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    // The thread that handles the request answers it (send), so the hook is the thread's.
    ANSWERED.set(
        () -> {
          if (counted.getAndSet(false)) {
            inFlight.decrementAndGet();
          }
        });
    try {
      if (latencyMillis > 0) {
        try {
          Thread.sleep(latencyMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (lastRefusal != 0 && firstAfterRefusal == 0 && !path.equals("/oauth/token")) {
        firstAfterRefusal = System.nanoTime();
      }
      if (path.equals("/oauth/token")) {
        token(exchange);
      } else if (tooManyRequests.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        switch (retryAfterStyle) {
          case "date" ->
              exchange
                  .getResponseHeaders()
                  .add(
                      "Retry-After",
                      java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
                          java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(2)));
          case "reset" -> exchange.getResponseHeaders().add("RateLimit-Reset", "1");
          default -> exchange.getResponseHeaders().add("Retry-After", "1");
        }
        firstAfterRefusal = 0;
        lastRefusal = System.nanoTime();
        send(exchange, 429, "{\"error\":\"rate limited\"}");
      } else if (slowAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        try {
          Thread.sleep(slowMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        send(exchange, 200, "[]");
      } else if (path.equals("/crm/search")) {
        search(exchange);
      } else if (serverErrors.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        send(exchange, 500, "{\"error\":\"internal\"}");
      } else if (path.equals("/v1/customers")) {
        payments(exchange, params);
      } else if (path.matches("/v1/customers/[^/]+/invoices")) {
        invoices(exchange, path.split("/")[3]);
      } else if (path.equals("/graphql")) {
        graphql(exchange);
      } else if (path.startsWith("/crm/")) {
        crm(exchange, path, params);
      } else {
        send(exchange, 404, "{\"error\":\"no such resource\"}");
      }
    } catch (RuntimeException e) {
      send(exchange, 500, "{\"error\":\"" + e.getClass().getSimpleName() + "\"}");
    } finally {
      ANSWERED.remove();
      if (counted.getAndSet(false)) {
        inFlight.decrementAndGet();
      }
    }
  }

  /**
   * A POST search endpoint with HTTP basic auth: the JSON body's {@code company} selects the
   * contacts, answered under {@code results}.
   */
  private void search(HttpExchange exchange) throws IOException {
    String expected =
        "Basic "
            + java.util.Base64.getEncoder()
                .encodeToString(
                    ("etl:" + BASIC_PASSWORD).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      send(exchange, 401, "{\"error\":\"bad credentials\"}");
      return;
    }
    if (!exchange.getRequestMethod().equals("POST")
        || !"application/json".equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
      send(exchange, 400, "{\"error\":\"POST a JSON body\"}");
      return;
    }
    JsonNode body = JSON.readTree(exchange.getRequestBody());
    String company = body.path("company").asText();
    com.fasterxml.jackson.databind.node.ArrayNode results = JSON.createArrayNode();
    for (JsonNode contact : contacts) {
      if (contact.path("company").asText().equals(company)) {
        results.add(contact);
      }
    }
    send(exchange, 200, JSON.createObjectNode().set("results", results).toString());
  }

  /**
   * Payments style: bearer key; limit, starting_after, has_more; updated_since (ISO), and
   * updated_gte / updated_lt (seconds since the epoch) for time slices.
   */
  private void payments(HttpExchange exchange, Map<String, String> params) throws IOException {
    String auth = exchange.getRequestHeaders().getFirst("Authorization");
    if (!("Bearer " + PAYMENTS_KEY).equals(auth)) {
      send(exchange, 401, "{\"error\":\"invalid api key\"}");
      return;
    }
    String since = params.get("updated_since");
    long gte = Long.parseLong(params.getOrDefault("updated_gte", "" + Long.MIN_VALUE));
    long lt = Long.parseLong(params.getOrDefault("updated_lt", "" + Long.MAX_VALUE));
    boolean filtered = since != null || params.containsKey("updated_gte");
    List<JsonNode> all = new ArrayList<>();
    for (JsonNode customer : customers) {
      // The malformed record travels with the full listing only.
      if (!customer.isObject()) {
        if (!filtered) {
          all.add(customer);
        }
        continue;
      }
      Instant updated = Instant.parse(customer.get("updated_at").asText());
      if ((since == null || !updated.isBefore(Instant.parse(since)))
          && updated.getEpochSecond() >= gte
          && updated.getEpochSecond() < lt) {
        all.add(customer);
      }
    }
    int limit = Integer.parseInt(params.getOrDefault("limit", "10"));
    int from = 0;
    String after = params.get("starting_after");
    if (after != null) {
      for (int i = 0; i < all.size(); i++) {
        if (all.get(i).isObject() && all.get(i).get("id").asText().equals(after)) {
          from = i + 1;
        }
      }
    }
    ObjectNode page = JSON.createObjectNode();
    page.put("object", "list");
    ArrayNode data = page.putArray("data");
    all.subList(from, Math.min(all.size(), from + limit)).forEach(data::add);
    page.put("has_more", from + limit < all.size());
    send(exchange, 200, page.toString());
  }

  /** The invoices of a customer: two for every third customer, none for the others. */
  static List<JsonNode> invoicesOf(String customerId) {
    List<JsonNode> out = new ArrayList<>();
    int n = Integer.parseInt(customerId.substring(4));
    if (n % 3 == 0) {
      for (int i = 1; i <= 2; i++) {
        out.add(
            JSON.createObjectNode()
                .put("id", "in_" + n + "_" + i)
                .put("amount_due", n * 100 + i)
                .put("currency", i == 1 ? "eur" : "EUR"));
      }
    }
    return out;
  }

  private void invoices(HttpExchange exchange, String customerId) throws IOException {
    if (!("Bearer " + PAYMENTS_KEY)
        .equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      send(exchange, 401, "{\"error\":\"invalid api key\"}");
      return;
    }
    ObjectNode page = JSON.createObjectNode();
    ArrayNode data = page.putArray("data");
    invoicesOf(customerId).forEach(data::add);
    page.put("has_more", false);
    send(exchange, 200, page.toString());
  }

  /** GraphQL: customers(first, after) with nodes and pageInfo; the cursor is the last index. */
  private void graphql(HttpExchange exchange) throws IOException {
    if (!exchange.getRequestMethod().equals("POST")
        || !("Bearer " + PAYMENTS_KEY)
            .equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      send(exchange, 401, "{\"errors\":[{\"message\":\"unauthorized\"}]}");
      return;
    }
    String raw = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    graphqlBodies.add(raw);
    JsonNode request = JSON.readTree(raw);
    if (!request.path("query").asText().contains("customers")) {
      send(exchange, 200, "{\"errors\":[{\"message\":\"unknown field\"}]}");
      return;
    }
    JsonNode variables = request.path("variables");
    int first = variables.path("first").asInt(10);
    int from =
        variables.hasNonNull("after") ? Integer.parseInt(variables.get("after").asText()) : 0;
    List<JsonNode> all = customersSince(null);
    ObjectNode answer = JSON.createObjectNode();
    ObjectNode customers = answer.putObject("data").putObject("customers");
    ArrayNode nodes = customers.putArray("nodes");
    for (JsonNode customer :
        all.subList(Math.min(all.size(), from), Math.min(all.size(), from + first))) {
      nodes.add(
          JSON.createObjectNode()
              .put("id", customer.get("id").asText())
              .put("email", customer.get("email").asText()));
    }
    int end = Math.min(all.size(), from + first);
    customers
        .putObject("pageInfo")
        .put("hasNextPage", end < all.size())
        .put("endCursor", String.valueOf(end));
    send(exchange, 200, answer.toString());
  }

  private final Map<Long, AtomicInteger> windows = new ConcurrentHashMap<>();

  /** Requests /crm/windowed refused because its window was spent. */
  final AtomicInteger refusedForWindow = new AtomicInteger();

  /** GraphQL request bodies, as received. */
  final List<String> graphqlBodies = new CopyOnWriteArrayList<>();

  /** CRM style: OAuth 2.0 tokens; offset/limit with a total, Link headers, pages, next URLs. */
  private void crm(HttpExchange exchange, String path, Map<String, String> params)
      throws IOException {
    if (!List.of(
            "/crm/contacts",
            "/crm/linked",
            "/crm/keyed",
            "/crm/pages",
            "/crm/feed",
            "/crm/windowed")
        .contains(path)) {
      send(exchange, 404, "{\"error\":\"no such resource\"}");
      return;
    }
    if (path.equals("/crm/windowed")) {
      // 3 requests per second of the clock, announced on every answer; a 4th is refused.
      long second = System.currentTimeMillis() / 1000;
      int used = windows.computeIfAbsent(second, s -> new AtomicInteger()).incrementAndGet();
      exchange.getResponseHeaders().add("X-RateLimit-Limit", "3");
      exchange
          .getResponseHeaders()
          .add("X-RateLimit-Remaining", String.valueOf(Math.max(0, 3 - used)));
      exchange.getResponseHeaders().add("X-RateLimit-Reset", String.valueOf(second + 1));
      if (used > 3) {
        refusedForWindow.incrementAndGet();
        send(exchange, 429, "{\"error\":\"rate limited\"}");
        return;
      }
    } else if (path.equals("/crm/keyed")) {
      if (!QUERY_KEY.equals(params.get("api_key"))) {
        send(exchange, 403, "{\"error\":\"bad key\"}");
        return;
      }
    } else if (!validToken(exchange.getRequestHeaders().getFirst("Authorization"))) {
      send(exchange, 401, "{\"error\":\"invalid or expired token\"}");
      return;
    }
    int total = contacts.size();
    // /crm/windowed serves what /crm/linked does, its links its own.
    switch (path.equals("/crm/windowed") ? "/crm/linked" : path) {
      case "/crm/contacts": // offset and limit, with a total
        {
          int offset = Integer.parseInt(params.getOrDefault("offset", "0"));
          int limit = Integer.parseInt(params.getOrDefault("limit", "10"));
          ObjectNode page = JSON.createObjectNode();
          page.put("total", total);
          ArrayNode results = page.putArray("results");
          contacts
              .subList(Math.min(total, offset), Math.min(total, offset + limit))
              .forEach(results::add);
          send(exchange, 200, page.toString());
          return;
        }
      case "/crm/linked": // Link: <...>; rel="next"
      case "/crm/keyed":
        {
          int pageNo = Integer.parseInt(params.getOrDefault("page", "1"));
          int size = 8;
          ArrayNode results = JSON.createArrayNode();
          contacts
              .subList(Math.min(total, (pageNo - 1) * size), Math.min(total, pageNo * size))
              .forEach(results::add);
          if (pageNo * size < total) {
            String next = url() + path + "?page=" + (pageNo + 1);
            exchange
                .getResponseHeaders()
                .add(
                    "Link",
                    "<" + url() + path + "?page=1>; rel=\"first\", <" + next + ">; rel=\"next\"");
          }
          send(exchange, 200, results.toString());
          return;
        }
      case "/crm/pages": // page numbers with per_page and a total
        {
          int pageNo = Integer.parseInt(params.getOrDefault("page", "1"));
          int size = Integer.parseInt(params.getOrDefault("per_page", "10"));
          ObjectNode page = JSON.createObjectNode();
          page.putObject("meta").put("total", total);
          ArrayNode items = page.putArray("items");
          contacts
              .subList(Math.min(total, (pageNo - 1) * size), Math.min(total, pageNo * size))
              .forEach(items::add);
          send(exchange, 200, page.toString());
          return;
        }
      case "/crm/feed": // the next page's URL in the body
        {
          int from = Integer.parseInt(params.getOrDefault("cursor", "0"));
          ObjectNode page = JSON.createObjectNode();
          ArrayNode results = page.putArray("results");
          contacts.subList(Math.min(total, from), Math.min(total, from + 15)).forEach(results::add);
          page.put("next", from + 15 < total ? "/crm/feed?cursor=" + (from + 15) : null);
          send(exchange, 200, page.toString());
          return;
        }
      default:
        send(exchange, 404, "{\"error\":\"no such resource\"}");
    }
  }

  private void token(HttpExchange exchange) throws IOException {
    Map<String, String> form =
        params(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
    if (!"client_credentials".equals(form.get("grant_type"))
        || !CLIENT_ID.equals(form.get("client_id"))
        || !CLIENT_SECRET.equals(form.get("client_secret"))) {
      send(exchange, 401, "{\"error\":\"invalid_client\"}");
      return;
    }
    String token = "tok-" + issued.incrementAndGet();
    tokens.put(token, new AtomicInteger());
    send(
        exchange,
        200,
        "{\"access_token\":\"" + token + "\",\"token_type\":\"bearer\",\"expires_in\":3600}");
  }

  private boolean validToken(String header) {
    if (header == null || !header.startsWith("Bearer ")) {
      return false;
    }
    AtomicInteger uses = tokens.get(header.substring(7));
    return uses != null && (tokenUses == 0 || uses.incrementAndGet() <= tokenUses);
  }

  private static Map<String, String> params(String query) {
    Map<String, String> out = new LinkedHashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      out.put(key, value);
    }
    return out;
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    // In flight until the answer goes out: once the client has it, it may send the next request
    // before this thread gets back to handle()'s finally.
    Runnable answered = ANSWERED.get();
    if (answered != null) {
      ANSWERED.remove();
      answered.run();
    }
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
