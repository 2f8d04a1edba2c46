package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code watershed demo api}: the customer-360 job with its support tickets read from a help-desk
 * API instead of a file. The API runs in this process (the JDK's HTTP server, on a free port of
 * 127.0.0.1): a bearer key, offset/limit pages with a total, a rate limit it announces in {@code
 * X-RateLimit-*} headers and enforces with 429s, one unannounced 429, and the export's broken lines
 * served as records that are not JSON objects. The tables must come out as the file-based run's.
 */
final class ApiDemo implements AutoCloseable {
  /** The demo API's key: a demo value, not a secret (real specs read keys from ${env:...}). */
  static final String KEY = "demo-help-desk-key";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PER_SECOND = 40;

  private final HttpServer server;
  private final List<JsonNode> tickets = new ArrayList<>();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final Map<Long, AtomicInteger> windows = new ConcurrentHashMap<>();

  /** Serves the tickets of {@code export} (JSON lines) as a help-desk API. */
  ApiDemo(Path export) throws IOException {
    for (String line : Files.readAllLines(export, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      try {
        JsonNode ticket = JSON.readTree(line);
        tickets.add(ticket.isObject() ? ticket : JSON.getNodeFactory().textNode(line));
      } catch (IOException e) {
        // A line the export broke: the API serves it as it is, a record that is not an object.
        tickets.add(JSON.getNodeFactory().textNode(line));
      }
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(2));
    server.createContext("/v2/tickets", this::handle);
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v2";
  }

  int requests() {
    return requests.get();
  }

  int refused() {
    return refused.get();
  }

  int records() {
    return tickets.size();
  }

  /**
   * {@code integration} (the customer-360 spec's text) with its support source read from this API
   * and its outputs under {@code output} instead of target/customer360.
   */
  String spec(String integration, String output) {
    String file = "    type: jsonl\n    path: test-data/customer360/support_tickets.jsonl\n";
    int at = integration.indexOf(file);
    if (at < 0) {
      throw new IllegalStateException("the customer-360 spec's support source is not as expected");
    }
    String api =
        String.join(
            "\n",
            "    type: http                         # the help desk's API, not its export",
            "    base_url: " + baseUrl(),
            "    path: /tickets",
            "    records_at: /tickets",
            "    auth: { type: bearer, token: " + KEY + " }",
            "    paginate: { type: offset, limit: 250, total_at: /total }",
            "");
    return (integration.substring(0, at) + api + integration.substring(at + file.length()))
        .replace("target/customer360", output);
  }

  private void handle(HttpExchange exchange) throws IOException {
    requests.incrementAndGet();
    if (!("Bearer " + KEY).equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
      send(exchange, 401, "{\"error\":\"invalid key\"}");
      return;
    }
    long second = System.currentTimeMillis() / 1000;
    int used = windows.computeIfAbsent(second, s -> new AtomicInteger()).incrementAndGet();
    exchange.getResponseHeaders().add("X-RateLimit-Limit", String.valueOf(PER_SECOND));
    exchange
        .getResponseHeaders()
        .add("X-RateLimit-Remaining", String.valueOf(Math.max(0, PER_SECOND - used)));
    exchange.getResponseHeaders().add("X-RateLimit-Reset", String.valueOf(second + 1));
    // The third request meets a 429 whatever its window: a burst the API did not announce.
    if (used > PER_SECOND || requests.get() == 3) {
      refused.incrementAndGet();
      exchange.getResponseHeaders().add("Retry-After", "1");
      send(exchange, 429, "{\"error\":\"slow down\"}");
      return;
    }
    int offset = 0;
    int limit = 100;
    String query = exchange.getRequestURI().getQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (pair.startsWith("offset=")) {
          offset = Integer.parseInt(pair.substring(7));
        } else if (pair.startsWith("limit=")) {
          limit = Math.min(1000, Integer.parseInt(pair.substring(6)));
        }
      }
    }
    ObjectNode page = JSON.createObjectNode();
    page.put("total", tickets.size());
    ArrayNode out = page.putArray("tickets");
    tickets
        .subList(Math.min(offset, tickets.size()), Math.min(offset + limit, tickets.size()))
        .forEach(out::add);
    send(exchange, 200, page.toString());
  }

  private static void send(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
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

  /** Runs the demo: the customer-360 spec from the working folder, tickets from the API. */
  static int run(Watershed cli, Path workingDir, List<String> runArgs) throws Exception {
    Path integration = workingDir.resolve("test-data/customer360/integration.yaml");
    if (!Files.isRegularFile(integration)) {
      cli.err()
          .println(
              "error: the API demo reads test-data/customer360/ from the repository; run it from"
                  + " the repository's root");
      return Watershed.SPEC_ERROR;
    }
    try (ApiDemo api =
        new ApiDemo(workingDir.resolve("test-data/customer360/support_tickets.jsonl"))) {
      Path spec = workingDir.resolve("target/customer360-api/integration-api.yaml");
      Files.createDirectories(spec.getParent());
      Files.writeString(spec, api.spec(Files.readString(integration), "target/customer360-api"));
      cli.err()
          .println(
              "help-desk API at "
                  + api.baseUrl()
                  + " serving "
                  + api.records()
                  + " tickets ("
                  + PER_SECOND
                  + " requests/s announced); spec: "
                  + workingDir.relativize(spec));
      List<String> args = new ArrayList<>(List.of("run", spec.toString()));
      args.addAll(runArgs);
      int code = cli.execute(args.toArray(String[]::new));
      cli.err()
          .println(
              "the API answered "
                  + api.requests()
                  + " requests, "
                  + api.refused()
                  + " of them 429 (waited out as Retry-After said)");
      return code;
    }
  }
}
