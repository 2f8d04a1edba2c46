package dev.watershed.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.watershed.io.http.HttpAuth;
import dev.watershed.io.http.HttpEndpoint;
import dev.watershed.io.http.HttpResource;
import dev.watershed.io.http.HttpSource;
import dev.watershed.io.http.Pagination;
import dev.watershed.runners.RunnerProfile;
import dev.watershed.transforms.metrics.RunCounters;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.transforms.Count;

/**
 * API sources against a local server: (1) the request budget: pages read through {@code type: http}
 * with {@code max_requests_per_second} set to the rate the server announces and enforces (429
 * beyond it), the achieved request rate and the 429s counted at the server; (2) throughput on an
 * unthrottled server: records/s of a whole Watershed run (API to Parquet, embedded Flink) with one
 * resource and with four resources read in parallel, and of the source transform alone ({@link
 * HttpSource} into a count, embedded Flink, in this JVM), against a plain single-threaded
 * HttpClient loop that only fetches and parses the same pages. Medians of RUNS runs.
 *
 * <p>Usage: {@code ApiBenchmark PAGES RECORDS_PER_PAGE RUNS WATERSHED_JAR OUT.csv OUT.md}
 */
public final class ApiBenchmark {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final int pages;
  private final int perPage;
  private final int runs;
  private final Path jar;
  private final Path work;
  private HttpServer server;
  private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Long> arrivals = new ConcurrentLinkedQueue<>();
  private final AtomicInteger tooMany = new AtomicInteger();
  private final Map<Long, AtomicInteger> perSecond = new ConcurrentHashMap<>();
  private volatile int limit;

  private ApiBenchmark(int pages, int perPage, int runs, Path jar) throws IOException {
    this.pages = pages;
    this.perPage = perPage;
    this.runs = runs;
    this.jar = jar;
    this.work = Files.createTempDirectory("api-bench");
  }

  public static void main(String[] args) throws Exception {
    ApiBenchmark bench =
        new ApiBenchmark(
            Integer.parseInt(args[0]),
            Integer.parseInt(args[1]),
            Integer.parseInt(args[2]),
            Path.of(args[3]));
    bench.start();
    try {
      List<String[]> rows = bench.runAll();
      bench.write(rows, Path.of(args[4]), Path.of(args[5]));
    } finally {
      bench.server.stop(0);
    }
  }

  private void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.setExecutor(
        Executors.newFixedThreadPool(
            8,
            task -> {
              Thread thread = new Thread(task, "api-bench-server");
              thread.setDaemon(true); // the benchmark's JVM ends when its work does
              return thread;
            }));
    server.createContext("/items", this::items);
    server.start();
  }

  private String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Page {@code page} of the items; with a limit, 429 beyond it in any second of the clock. */
  private void items(HttpExchange exchange) throws IOException {
    long now = System.currentTimeMillis();
    arrivals.add(now);
    String query = exchange.getRequestURI().getQuery();
    if (limit > 0) {
      int inSecond =
          perSecond.computeIfAbsent(now / 1000, s -> new AtomicInteger()).incrementAndGet();
      exchange.getResponseHeaders().add("RateLimit-Limit", String.valueOf(limit));
      if (inSecond > limit) {
        tooMany.incrementAndGet();
        exchange.getResponseHeaders().add("Retry-After", "1");
        send(exchange, 429, "{\"error\":\"rate limited\"}".getBytes(StandardCharsets.UTF_8));
        return;
      }
    }
    Map<String, Integer> params = new java.util.HashMap<>();
    if (query != null) {
      for (String pair : query.split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          params.put(pair.substring(0, eq), Integer.parseInt(pair.substring(eq + 1)));
        }
      }
    }
    int page = params.getOrDefault("page", 1);
    int part = params.getOrDefault("part", 0);
    int size = params.getOrDefault("size", perPage);
    int count = params.getOrDefault("pages", pages);
    String key = part + "/" + page + "/" + size + "/" + count;
    send(exchange, 200, bodies.computeIfAbsent(key, k -> body(part, page, size, count)));
  }

  /** Page {@code page} of part {@code part}: {@code size} customer-like records and the total. */
  private byte[] body(int part, int page, int size, int count) {
    StringBuilder out =
        new StringBuilder("{\"total\":").append((long) count * size).append(",\"data\":[");
    for (int i = 0; i < size && page <= count; i++) {
      long id = ((long) part * count + page - 1) * size + i;
      out.append(i == 0 ? "" : ",")
          .append("{\"id\":\"cus_")
          .append(id)
          .append("\",\"email\":\"person")
          .append(id)
          .append("@example.com\",\"name\":\"Person ")
          .append(id)
          .append("\",\"balance\":")
          .append(id % 10_000)
          .append(",\"address\":{\"country\":\"DE\",\"city\":\"Berlin\"},\"updated_at\":\"2026-11-")
          .append(String.format(Locale.ROOT, "%02d", 1 + page % 28))
          .append("T10:00:00Z\"}");
    }
    return out.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  private List<String[]> runAll() throws Exception {
    List<String[]> rows = new ArrayList<>();
    // (1) The budget: 20 requests/s announced and enforced by the server, 100 small pages.
    List<Double> rate = new ArrayList<>();
    int refused = 0;
    for (int run = 0; run < runs; run++) {
      reset(20);
      int code = watershed(spec("budget", 1, "    max_requests_per_second: 20", 100, 20));
      check(code, "budget run");
      rate.add(requestRate());
      refused += tooMany.get();
    }
    double budgetRate = LoadBenchmark.median(rate);
    rows.add(
        new String[] {
          "budget 20 req/s (watershed)",
          fmt(budgetRate),
          fmt(budgetRate / 20),
          "",
          "",
          String.valueOf(refused)
        });
    System.out.printf(
        Locale.ROOT,
        "budget: %.1f requests/s of 20 (%.0f%%), %d 429s%n",
        budgetRate,
        budgetRate / 20 * 100,
        refused);

    // (2) Throughput, unthrottled: a plain loop, then Watershed with 1 and with 4 resources.
    int records = pages * perPage;
    List<Double> plain = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      reset(0);
      plain.add(records / plainLoop());
    }
    double base = LoadBenchmark.median(plain);
    rows.add(
        new String[] {"plain HttpClient loop (fetch + parse)", "", "", fmt(base), "1.00", "0"});
    for (int parts : new int[] {1, 4}) {
      List<Double> alone = new ArrayList<>();
      for (int run = 0; run < runs; run++) {
        reset(0);
        sourceAlone(parts);
        alone.add(records / readSpan());
      }
      rows.add(
          new String[] {
            "watershed source alone, "
                + parts
                + " resource"
                + (parts > 1 ? "s" : "")
                + " (read span)",
            "",
            "",
            fmt(LoadBenchmark.median(alone)),
            fmt(LoadBenchmark.median(alone) / base),
            "0"
          });
      System.out.printf(
          Locale.ROOT,
          "%d resource(s), source alone: %.0f records/s (%.2fx plain)%n",
          parts,
          LoadBenchmark.median(alone),
          LoadBenchmark.median(alone) / base);
    }
    for (int parts : new int[] {1, 4}) {
      List<Double> wall = new ArrayList<>();
      List<Double> read = new ArrayList<>();
      for (int run = 0; run < runs; run++) {
        reset(0);
        long started = System.nanoTime();
        check(watershed(spec("load" + parts, parts, "", pages / parts, perPage)), "load run");
        double seconds = (System.nanoTime() - started) / 1e9;
        wall.add(records / seconds);
        read.add(records / readSpan());
      }
      rows.add(
          new String[] {
            "watershed, " + parts + " resource" + (parts > 1 ? "s" : "") + " (read span)",
            "",
            "",
            fmt(LoadBenchmark.median(read)),
            fmt(LoadBenchmark.median(read) / base),
            "0"
          });
      rows.add(
          new String[] {
            "watershed, "
                + parts
                + " resource"
                + (parts > 1 ? "s" : "")
                + " (whole run, start-up"
                + " and load included)",
            "",
            "",
            fmt(LoadBenchmark.median(wall)),
            fmt(LoadBenchmark.median(wall) / base),
            "0"
          });
      System.out.printf(
          Locale.ROOT,
          "%d resource(s): read %.0f records/s (%.2fx plain), whole run %.0f records/s%n",
          parts,
          LoadBenchmark.median(read),
          LoadBenchmark.median(read) / base,
          LoadBenchmark.median(wall));
    }
    return rows;
  }

  private void reset(int requestsPerSecond) {
    limit = requestsPerSecond;
    arrivals.clear();
    perSecond.clear();
    tooMany.set(0);
  }

  /** Requests per second between the first and the last request the server saw. */
  private double requestRate() {
    List<Long> times = new ArrayList<>(arrivals);
    times.sort(Long::compare);
    return (times.size() - 1) * 1000.0 / Math.max(1, times.get(times.size() - 1) - times.get(0));
  }

  /** Seconds between the first and the last request the server saw. */
  private double readSpan() {
    List<Long> times = new ArrayList<>(arrivals);
    times.sort(Long::compare);
    return Math.max(1, times.get(times.size() - 1) - times.get(0)) / 1000.0;
  }

  /** Seconds a single-threaded loop takes to fetch and parse every page. */
  private double plainLoop() throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long started = System.nanoTime();
    long seen = 0;
    for (int page = 1; page <= pages; page++) {
      HttpResponse<byte[]> response =
          client.send(
              HttpRequest.newBuilder(
                      URI.create(
                          url()
                              + "/items?part=0&pages="
                              + pages
                              + "&size="
                              + perPage
                              + "&page="
                              + page))
                  .build(),
              HttpResponse.BodyHandlers.ofByteArray());
      JsonNode body = JSON.readTree(response.body());
      for (JsonNode record : body.get("data")) {
        seen += record.get("id").asText().length() > 0 ? 1 : 0;
      }
    }
    if (seen != (long) pages * perPage) {
      throw new IllegalStateException("the plain loop saw " + seen + " records");
    }
    return (System.nanoTime() - started) / 1e9;
  }

  /**
   * Reads every page through {@link HttpSource} alone on embedded Flink (parallelism 2) into a
   * count of the records: what the extractor costs without conform or a sink behind it.
   */
  private void sourceAlone(int parts) {
    List<HttpResource> resources = new ArrayList<>();
    for (int part = 0; part < parts; part++) {
      resources.add(
          new HttpResource(
              "/items",
              "GET",
              Map.of(
                  "part", String.valueOf(part),
                  "pages", String.valueOf(pages / parts),
                  "size", String.valueOf(perPage)),
              null,
              "/data"));
    }
    HttpSource.Settings settings =
        new HttpSource.Settings(
            new HttpEndpoint(
                "api",
                url(),
                new HttpAuth.None(),
                0,
                5,
                Duration.ofMinutes(2),
                Duration.ofSeconds(30)),
            resources,
            new Pagination.PageNumber("page", 1, null, perPage, "/total"),
            "fail",
            null,
            null,
            null,
            List.of("id", "email", "name", "balance", "address.country", "updated_at"));
    Pipeline pipeline = Pipeline.create(RunnerProfile.FLINK.options(List.of()));
    pipeline.apply("source", HttpSource.read(settings)).output().apply("count", Count.globally());
    RunCounters.resetTallies();
    pipeline.run().waitUntilFinish();
    long read = RunCounters.tallies().getOrDefault("source.api.read", 0L);
    if (read != (long) pages / parts * parts * perPage) {
      throw new IllegalStateException("the source alone read " + read + " records");
    }
  }

  private Path spec(String name, int parts, String extra, int pagesEach, int size)
      throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("name: api_" + name);
    lines.add("sources:");
    lines.add("  api:");
    lines.add("    type: http");
    lines.add("    base_url: " + url());
    lines.add("    records_at: /data");
    lines.add("    resources:");
    for (int part = 0; part < parts; part++) {
      lines.add(
          "      - { path: /items, params: { part: \""
              + part
              + "\", pages: \""
              + pagesEach
              + "\", size: \""
              + size
              + "\" } }");
    }
    lines.add(
        "    paginate: { type: page_number, param: page, size: " + size + ", total_at: /total }");
    if (!extra.isEmpty()) {
      lines.add(extra);
    }
    lines.add("models:");
    lines.add("  customer:");
    lines.add("    key: [customer_id]");
    lines.add(
        "    fields: { customer_id: string, email: string, name: string, balance: long, country:"
            + " string, updated_at: timestamp }");
    lines.add("conform:");
    lines.add(
        "  - { from: api, to: customer, fields: { customer_id: id, email: email, name: name,"
            + " balance: balance, country: address.country, updated_at: updated_at } }");
    lines.add("sinks:");
    lines.add("  lake: { type: parquet, path: lake-" + name + " }");
    lines.add("dead_letter: { path: dead-" + name + " }");
    lines.add("report: { path: report-" + name + " }");
    Path file = work.resolve(name + ".yaml");
    // Each resource is a part of its own: the server's total says when its pages end.
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private int watershed(Path spec) throws Exception {
    Process process =
        new ProcessBuilder("java", "-Xmx2g", "-jar", jar.toString(), "run", spec.toString())
            .directory(work.toFile())
            .redirectErrorStream(true)
            .redirectOutput(work.resolve(spec.getFileName() + ".log").toFile())
            .start();
    if (!process.waitFor(30, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException("the run did not end; see " + work);
    }
    return process.exitValue();
  }

  private void check(int code, String what) throws IOException {
    if (code != 0) {
      throw new IllegalStateException(what + " exited " + code + "; see the logs in " + work);
    }
  }

  private static String fmt(double value) {
    return String.format(Locale.ROOT, "%.2f", value);
  }

  private void write(List<String[]> rows, Path csv, Path table) throws IOException {
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write("case,requests_per_s,x_budget,records_per_s,x_plain,responses_429\n");
      for (String[] row : rows) {
        // The case names hold commas: quoted, as CSV has it.
        String[] fields = row.clone();
        fields[0] = "\"" + fields[0].replace("\"", "\"\"") + "\"";
        out.write(String.join(",", fields) + "\n");
      }
    }
    try (Writer out = Files.newBufferedWriter(table)) {
      out.write(
          "| case | requests/s | of budget | records/s | × plain loop | 429s |\n"
              + "|---|---|---|---|---|---|\n");
      for (String[] row : rows) {
        out.write("| " + String.join(" | ", row) + " |\n");
      }
    }
  }
}
