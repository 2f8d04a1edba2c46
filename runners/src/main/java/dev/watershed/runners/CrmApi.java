package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A small CRM-like contacts API on 127.0.0.1, the receiving end of the {@code http} sink in the
 * demos and tests. It behaves like the APIs a sink meets: a bearer token (when one is set),
 * idempotency keys (a request whose {@code Idempotency-Key} was already applied is answered 200 and
 * not applied again), a version guard (a contact is not replaced by a body whose {@code _version}
 * is not newer; a body with {@code _deleted: true} deletes), validation (422), and failures on
 * purpose ({@link #failEvery}: every n-th request answers 503 first).
 *
 * <pre>
 * PUT|POST|PATCH /contacts/{id}   a contact's JSON body (PATCH merges)
 * DELETE         /contacts/{id}
 * POST           /contacts/batch  {"records": [{"id": ..., ...}, ...]} (or a bare array)
 * GET            /contacts        every contact
 * </pre>
 */
final class CrmApi implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final ExecutorService threads = Executors.newFixedThreadPool(8);
  private final Map<String, ObjectNode> contacts = new ConcurrentHashMap<>();
  private final Map<String, Long> deletedVersions = new ConcurrentHashMap<>();
  private final Set<String> appliedKeys = ConcurrentHashMap.newKeySet();
  private final AtomicLong requests = new AtomicLong();
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final AtomicLong applied = new AtomicLong();
  private final AtomicLong replayed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong unauthorized = new AtomicLong();
  private final AtomicLong largestBatch = new AtomicLong();
  private volatile String token;
  private volatile int failEvery;
  private volatile Predicate<JsonNode> invalid = contact -> false;

  private CrmApi(HttpServer server) {
    this.server = server;
  }

  /** Starts the API on a free port. */
  static CrmApi start() throws IOException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    CrmApi api = new CrmApi(server);
    server.createContext("/contacts", api::handle);
    server.setExecutor(api.threads);
    server.start();
    return api;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Requires {@code Authorization: Bearer <token>} from now on. */
  CrmApi requireToken(String token) {
    this.token = token;
    return this;
  }

  /** Answers every {@code n}-th request 503 (with {@code Retry-After: 0}) without applying it. */
  CrmApi failEvery(int n) {
    this.failEvery = n;
    return this;
  }

  /** Answers 422 to a contact {@code test} holds true for. */
  CrmApi refuse(Predicate<JsonNode> test) {
    this.invalid = test;
    return this;
  }

  /** The contacts held now, by id. */
  Map<String, ObjectNode> contacts() {
    return new TreeMap<>(contacts);
  }

  long requests() {
    return requests.get();
  }

  /** Every request as {@code METHOD /path}, in arrival order. */
  List<String> log() {
    return List.copyOf(log);
  }

  /** Forgets the requests logged so far. */
  void clearLog() {
    log.clear();
  }

  /** Contacts written or deleted. */
  long applied() {
    return applied.get();
  }

  /** Requests answered from their idempotency key, not applied again. */
  long replayed() {
    return replayed.get();
  }

  /** Requests failed on purpose ({@link #failEvery}). */
  long failed() {
    return failed.get();
  }

  long refused() {
    return refused.get();
  }

  long unauthorized() {
    return unauthorized.get();
  }

  /** The most contacts one batch request carried. */
  long largestBatch() {
    return largestBatch.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      long number = requests.incrementAndGet();
      log.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
      String expected = token;
      if (expected != null
          && !("Bearer " + expected)
              .equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        unauthorized.incrementAndGet();
        answer(exchange, 401, "{\"error\":\"invalid token\"}");
        return;
      }
      int every = failEvery;
      if (every > 0 && number % every == 0) {
        failed.incrementAndGet();
        exchange.getResponseHeaders().set("Retry-After", "0");
        answer(exchange, 503, "{\"error\":\"try again\"}");
        return;
      }
      String method = exchange.getRequestMethod();
      String path = exchange.getRequestURI().getPath();
      String id = path.startsWith("/contacts/") ? path.substring("/contacts/".length()) : "";
      if (method.equals("GET")) {
        answer(exchange, 200, JSON.writeValueAsString(contacts()));
        return;
      }
      String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
      if (key != null && appliedKeys.contains(key)) {
        replayed.incrementAndGet();
        answer(exchange, 200, "{\"replayed\":true}");
        return;
      }
      JsonNode body;
      try {
        body = read(exchange.getRequestBody());
      } catch (IOException e) {
        refused.incrementAndGet();
        answer(exchange, 400, "{\"error\":\"not JSON\"}");
        return;
      }
      if (method.equals("POST") && id.equals("batch")) {
        JsonNode records = body.has("records") ? body.get("records") : body;
        largestBatch.accumulateAndGet(records.size(), Math::max);
        for (JsonNode record : records) {
          if (invalid.test(record)) {
            refused.incrementAndGet();
            answer(exchange, 422, "{\"error\":\"invalid contact " + record.path("id") + "\"}");
            return;
          }
        }
        records.forEach(record -> apply("PUT", record.path("id").asText(), record));
      } else if (method.equals("DELETE")) {
        synchronized (this) {
          if (contacts.remove(id) != null) {
            applied.incrementAndGet();
          }
        }
      } else if (List.of("PUT", "POST", "PATCH").contains(method) && !id.isEmpty()) {
        if (!body.isObject() || invalid.test(body)) {
          refused.incrementAndGet();
          answer(exchange, 422, "{\"error\":\"invalid contact\"}");
          return;
        }
        apply(method, id, body);
      } else {
        answer(exchange, 404, "{\"error\":\"no such resource\"}");
        return;
      }
      if (key != null) {
        appliedKeys.add(key);
      }
      answer(exchange, 200, "{\"ok\":true}");
    }
  }

  /** Writes or deletes one contact, unless what it holds is newer. */
  private synchronized void apply(String method, String id, JsonNode body) {
    long version = body.path("_version").asLong(Long.MIN_VALUE);
    ObjectNode held = contacts.get(id);
    long heldVersion =
        held != null
            ? held.path("_version").asLong(Long.MIN_VALUE)
            : deletedVersions.getOrDefault(id, Long.MIN_VALUE);
    if (version != Long.MIN_VALUE && version <= heldVersion) {
      return;
    }
    applied.incrementAndGet();
    if (body.path("_deleted").asBoolean(false)) {
      contacts.remove(id);
      deletedVersions.put(id, version);
      return;
    }
    ObjectNode contact =
        method.equals("PATCH") && held != null ? held.deepCopy() : JSON.createObjectNode();
    contact.setAll((ObjectNode) body);
    contacts.put(id, contact);
  }

  private static JsonNode read(InputStream in) throws IOException {
    byte[] bytes = in.readAllBytes();
    return bytes.length == 0 ? JSON.nullNode() : JSON.readTree(bytes);
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
    threads.shutdownNow();
  }
}
