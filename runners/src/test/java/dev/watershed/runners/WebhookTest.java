package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import dev.watershed.io.webhook.WebhookSignature;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks into a warehouse through the command line: streaming runs receive signed events from
 * several concurrent senders (with retries of the same event, forged and malformed ones). Every
 * accepted event lands exactly once, no forged one ever, the malformed ones as dead letters; also
 * when the process is killed (-9) mid-stream and started again while the senders retry.
 */
class WebhookTest {
  private static final String SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("webhook-test-key-webhook-test-k!".getBytes());
  private static final String FORGED =
      "whsec_" + Base64.getEncoder().encodeToString("forged-forged-forged-forged-1234".getBytes());
  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  @TempDir Path folder;

  @BeforeAll
  static void quietBroker() {
    java.util.logging.LogManager.getLogManager().reset();
  }

  /** A free port whose next two are free too (an own broker and its controller take them). */
  private static int freePort() throws Exception {
    for (int attempt = 0; ; attempt++) {
      int port;
      try (ServerSocket socket = new ServerSocket(0)) {
        port = socket.getLocalPort();
      }
      if (port > 65000) {
        continue;
      }
      try (ServerSocket next = new ServerSocket(port + 1);
          ServerSocket after = new ServerSocket(port + 2)) {
        return port;
      } catch (IOException taken) {
        if (attempt > 50) {
          throw taken;
        }
      }
    }
  }

  private Path spec(String name, int port, String bootstrapServers, String sink) throws Exception {
    Files.writeString(folder.resolve("hook-secret"), SECRET);
    String spec =
        String.join(
            "\n",
            "name: " + name,
            "mode: streaming",
            "streaming: { checkpoint_every: 1s, state_ttl: 1h }",
            "sources:",
            "  payments:",
            "    type: webhook",
            "    port: " + port,
            "    path: /hooks/payments",
            "    signature: { scheme: standard, secret: \"${file:"
                + folder.resolve("hook-secret")
                + "}\" }",
            bootstrapServers != null
                ? "    bootstrap_servers: " + bootstrapServers
                : "    broker_dir: " + folder.resolve("broker"),
            "    topic: hooks." + name,
            "models:",
            "  payment:",
            "    key: [event_id]",
            "    fields: { event_id: string, kind: string, amount: long }",
            "conform:",
            "  - from: payments",
            "    to: payment",
            "    fields: { event_id: webhook_id, kind: type, amount: amount }",
            "sinks:",
            "  warehouse: " + sink,
            "dead_letter: { type: jsonl, path: " + folder.resolve("dead-letters") + " }",
            "");
    Path file = folder.resolve(name + ".yaml");
    Files.writeString(file, spec);
    return file;
  }

  @Test
  void concurrentSignedEventsLandOnceAndForgedOnesNever() throws Exception {
    int port = freePort();
    try (LocalKafka kafka = LocalKafka.start()) {
      Path warehouse = folder.resolve("hooks.duckdb");
      Path spec =
          spec(
              "payment_hooks",
              port,
              kafka.bootstrapServers(),
              "{ type: duckdb, path: " + warehouse + ", write: merge }");
      Cli cli = new Cli(folder);
      ExecutorService threads = Executors.newSingleThreadExecutor();
      Future<Integer> run =
          threads.submit(
              () -> cli.run("run", spec.toString(), "--runner=direct", "--stop-when-idle=3s"));
      waitForPort(port, () -> run.isDone());
      Senders senders = new Senders(port, 3, 200);
      senders.sendAll(Duration.ofMinutes(3));
      assertEquals(Watershed.OK, (int) run.get(5, TimeUnit.MINUTES), cli.output());
      threads.shutdownNow();
      senders.assertAnswered(cli.output());

      assertEquals(senders.valid, ids("jdbc:duckdb:" + warehouse, "payment"));
      assertEquals(senders.valid.size(), count("jdbc:duckdb:" + warehouse, "payment"));
      Set<String> deadLetters = deadLetterIds();
      assertEquals(senders.malformed, deadLetters);
      String output = cli.output();
      assertTrue(
          output.contains(
              "webhook payments: "
                  + (senders.valid.size() + senders.malformed.size())
                  + " accepted"),
          output);
      assertTrue(output.contains(senders.forged.size() + " refused"), output);
      assertFalse(output.contains(SECRET), output);
    }
  }

  /**
   * {@code watershed intake} receives alone (as for a job on a cluster that reads the topic); a
   * later batch run loads what it kept.
   */
  @Test
  void theIntakeCommandKeepsEventsForARunThatReadsThemLater() throws Exception {
    int port = freePort();
    try (LocalKafka kafka = LocalKafka.start()) {
      Path warehouse = folder.resolve("later.duckdb");
      Path spec =
          spec(
              "payment_hooks_later",
              port,
              kafka.bootstrapServers(),
              "{ type: duckdb, path: " + warehouse + ", write: merge }");
      Cli intake = new Cli(folder);
      ExecutorService threads = Executors.newSingleThreadExecutor();
      Future<Integer> receiving =
          threads.submit(() -> intake.run("intake", spec.toString(), "--stop-when-idle=2s"));
      waitForPort(port, receiving::isDone);
      Senders senders = new Senders(port, 2, 60);
      senders.sendAll(Duration.ofMinutes(2));
      assertEquals(Watershed.OK, (int) receiving.get(2, TimeUnit.MINUTES), intake.output());
      threads.shutdownNow();
      senders.assertAnswered(intake.output());
      assertTrue(
          intake
              .output()
              .contains(
                  "webhook payments: "
                      + (senders.valid.size() + senders.malformed.size())
                      + " accepted"),
          intake.output());

      Cli run = new Cli(folder);
      assertEquals(
          Watershed.OK,
          run.run("run", spec.toString(), "--mode=batch", "--runner=direct"),
          run.output());
      assertEquals(senders.valid, ids("jdbc:duckdb:" + warehouse, "payment"));
      assertEquals(senders.malformed, deadLetterIds());
    }
  }

  /**
   * A webhook path whose events are Debezium change events (format: debezium-json): received by
   * {@code watershed intake}, applied by a batch run with hard deletes; the table ends as the
   * source history does (late and duplicated changes among them; poison ones are dead letters).
   */
  @Test
  void debeziumChangeEventsPostedToAWebhookApplyAsAChangeStream() throws Exception {
    int port = freePort();
    Files.writeString(folder.resolve("hook-secret"), SECRET);
    Path warehouse = folder.resolve("changes.duckdb");
    String yaml =
        StreamingDemo.spec(
                "unused:9092",
                warehouse.toString(),
                "hard",
                folder.resolve("dead-letters").toString())
            .replace("mode: streaming", "mode: batch")
            .replaceAll(
                "(?s)  crm_customers:\n.*?\nmodels:",
                java.util.regex.Matcher.quoteReplacement(
                    String.join(
                        "\n",
                        "  crm_customers:",
                        "    type: webhook",
                        "    port: " + port,
                        "    path: /hooks/crm",
                        "    signature: { scheme: github, secret: \"${file:"
                            + folder.resolve("hook-secret")
                            + "}\" }",
                        "    broker_dir: " + folder.resolve("broker"),
                        "    format: debezium-json",
                        "models:")));
    Path spec = folder.resolve("changes.yaml");
    Files.writeString(spec, yaml);
    Cli intake = new Cli(folder);
    ExecutorService threads = Executors.newSingleThreadExecutor();
    Future<Integer> receiving =
        threads.submit(() -> intake.run("intake", spec.toString(), "--stop-when-idle=2s"));
    waitForPort(port, receiving::isDone);
    ChangeEvents events = ChangeEvents.generate(20261203L, 40);
    HttpClient client = HttpClient.newHttpClient();
    int n = 0;
    for (ChangeEvents.Event event : events.delivery()) {
      if (event.value() == null) {
        continue; // a tombstone has no body to post; the delete before it carries the change
      }
      byte[] body = event.value().getBytes(StandardCharsets.UTF_8);
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/crm"))
              .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      WebhookSignature.GITHUB
          .sign("change-" + n++, Instant.now(), body, SECRET)
          .forEach(request::header);
      assertEquals(
          200, client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
    }
    assertEquals(Watershed.OK, (int) receiving.get(2, TimeUnit.MINUTES), intake.output());
    threads.shutdownNow();

    Cli run = new Cli(folder);
    assertEquals(Watershed.OK, run.run("run", spec.toString(), "--runner=direct"), run.output());
    String result =
        StreamingDemo.compare(
            JdbcEndpoint.of("jdbc:duckdb:" + warehouse),
            "customer",
            events.finalRows(),
            events.deleted().keySet(),
            false);
    assertTrue(result.startsWith("matches"), result);
  }

  /**
   * The issue's test: 10,000 signed events from four senders; the process (receiver and pipeline,
   * embedded Flink) is killed with SIGKILL mid-stream and started again while the senders retry
   * what was not acknowledged. Every signed event ends in PostgreSQL exactly once, no forged one.
   */
  @Test
  void aProcessKilledMidStreamLosesNoAcceptedEventAndLandsNoneTwice() throws Exception {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS webhook_kill CASCADE");
      s.execute("CREATE SCHEMA webhook_kill");
    }
    int port = freePort();
    {
      // No bootstrap_servers: the events are kept by a broker in the killed process itself.
      Path spec =
          spec(
              "payment_hooks_kill",
              port,
              null,
              "{ type: postgres, url: \"" + PG + "\", user: postgres, schema: webhook_kill }");
      String[] args = {"run", spec.toString(), "--mode=streaming", "--runner=flink"};
      Process first = Cli.start(folder, folder.resolve("run-1.log"), args);
      waitForPort(port, () -> !first.isAlive());
      Senders senders = new Senders(port, 4, 2500);
      ExecutorService sending = Executors.newSingleThreadExecutor();
      Future<?> sent = sending.submit(() -> senders.sendAll(Duration.ofMinutes(3)));
      // SIGKILL once a quarter of the events were acknowledged: no shutdown hook, no last commit.
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
      while (senders.acknowledged.get() < 2500 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      first.destroyForcibly();
      assertTrue(first.waitFor(30, TimeUnit.SECONDS));
      int atKill = senders.acknowledged.get();
      assertTrue(atKill >= 2500 && atKill < 9000, "killed mid-stream at " + atKill);

      Process second =
          Cli.start(
              folder,
              folder.resolve("run-2.log"),
              "run",
              spec.toString(),
              "--mode=streaming",
              "--runner=flink",
              "--stop-when-idle=6s");
      sent.get(7, TimeUnit.MINUTES);
      sending.shutdownNow();
      senders.assertAnswered(log("run-1.log") + "\n---\n" + log("run-2.log"));
      assertTrue(second.waitFor(5, TimeUnit.MINUTES), log("run-2.log"));
      assertEquals(0, second.exitValue(), log("run-2.log"));
      assertEquals(10_000, senders.valid.size() + senders.malformed.size() + senders.forged.size());

      Set<String> loaded = ids(PG, "webhook_kill.payment");
      Set<String> missing = new TreeSet<>(senders.valid);
      missing.removeAll(loaded);
      assertTrue(missing.isEmpty(), missing.size() + " accepted events lost: " + missing);
      assertEquals(senders.valid, loaded);
      assertEquals(senders.valid.size(), count(PG, "webhook_kill.payment"), "each event once");
      // Dead letters are at least once: a re-read after the kill may write one again.
      assertTrue(deadLetterIds().containsAll(senders.malformed));
      assertTrue(log("run-2.log").contains("accepted ids read back"), log("run-2.log"));
    }
  }

  /**
   * Senders of signed events, as a payment service retries them: each event until it is answered
   * 2xx or refused (4xx); 5xx, 429 and connection failures are retried with backoff. Every tenth
   * event is sent a second time, every twentieth is forged, every fiftieth is signed but not JSON.
   */
  private static final class Senders {
    final Set<String> valid = new TreeSet<>();
    final Set<String> malformed = new TreeSet<>();
    final Set<String> forged = new TreeSet<>();
    final AtomicInteger acknowledged = new AtomicInteger();
    final AtomicInteger unexpected = new AtomicInteger();
    private final Set<String> validIds = ConcurrentHashMap.newKeySet();
    private final Set<String> malformedIds = ConcurrentHashMap.newKeySet();
    private final Set<String> forgedIds = ConcurrentHashMap.newKeySet();
    private final int port;
    private final int senders;
    private final int each;

    Senders(int port, int senders, int each) {
      this.port = port;
      this.senders = senders;
      this.each = each;
    }

    Void sendAll(Duration patience) throws Exception {
      ExecutorService threads = Executors.newFixedThreadPool(senders);
      long deadline = System.nanoTime() + patience.toNanos();
      List<Future<?>> running = new ArrayList<>();
      for (int s = 0; s < senders; s++) {
        int sender = s;
        running.add(threads.submit(() -> send(sender, deadline)));
      }
      for (Future<?> one : running) {
        one.get();
      }
      threads.shutdown();
      valid.addAll(validIds);
      malformed.addAll(malformedIds);
      forged.addAll(forgedIds);
      return null;
    }

    private Void send(int sender, long deadline) throws Exception {
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      for (int i = 0; i < each; i++) {
        String id = "evt_" + sender + "_" + i;
        boolean notJson = i % 50 == 7;
        boolean forge = i % 20 == 3;
        String body =
            notJson
                ? "amount=" + i + "&event=" + id
                : "{\"type\":\"payment.succeeded\",\"amount\":" + (100 + i) + "}";
        int status = deliver(client, id, body, forge ? FORGED : SECRET, deadline);
        if (forge) {
          if (status == 401) {
            forgedIds.add(id);
          } else {
            unexpected.incrementAndGet();
          }
          continue;
        }
        if (status != 200) {
          unexpected.incrementAndGet();
          continue;
        }
        acknowledged.incrementAndGet();
        (notJson ? malformedIds : validIds).add(id);
        if (i % 10 == 0 && deliver(client, id, body, SECRET, deadline) != 200) {
          unexpected.incrementAndGet();
        }
      }
      return null;
    }

    private int deliver(HttpClient client, String id, String body, String secret, long deadline)
        throws Exception {
      for (int attempt = 1; ; attempt++) {
        Map<String, String> headers =
            WebhookSignature.STANDARD.sign(
                id, Instant.now(), body.getBytes(StandardCharsets.UTF_8), secret);
        HttpRequest.Builder request =
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/payments"))
                .timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        try {
          int status =
              client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
          if ((status < 500 && status != 429) || System.nanoTime() > deadline) {
            return status;
          }
        } catch (IOException e) {
          if (System.nanoTime() > deadline) {
            return -1;
          }
        }
        Thread.sleep(Math.min(1000, 50L * attempt));
      }
    }

    void assertAnswered(String log) {
      assertEquals(
          0, unexpected.get(), "every signed event was accepted, every forged refused\n" + log);
      // i % 20 == 3 for i in [0, each)
      assertEquals(senders * ((each + 16) / 20), forged.size(), "forged events refused");
    }
  }

  private Set<String> deadLetterIds() throws IOException {
    Set<String> ids = new TreeSet<>();
    for (String line :
        Files.readAllLines(folder.resolve("dead-letters").resolve("dead-letter.jsonl"))) {
      java.util.regex.Matcher key = java.util.regex.Pattern.compile("evt_\\d+_\\d+").matcher(line);
      if (key.find()) {
        ids.add(key.group());
      }
    }
    return ids;
  }

  private static Set<String> ids(String url, String table) throws Exception {
    Set<String> ids = new TreeSet<>();
    try (Connection connection = endpoint(url).connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT event_id FROM " + table)) {
      while (result.next()) {
        ids.add(result.getString(1));
      }
    }
    return ids;
  }

  private static long count(String url, String table) throws Exception {
    try (Connection connection = endpoint(url).connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery("SELECT count(*) FROM " + table)) {
      result.next();
      return result.getLong(1);
    }
  }

  private static JdbcEndpoint endpoint(String url) {
    return url.startsWith("jdbc:duckdb:")
        ? JdbcEndpoint.of(url)
        : JdbcEndpoint.of(url).withUser("postgres");
  }

  private String log(String name) {
    try {
      return Files.readString(folder.resolve(name));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static void waitForPort(int port, java.util.function.BooleanSupplier ended)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (System.nanoTime() < deadline && !ended.getAsBoolean()) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError("the webhook receiver did not listen on port " + port);
  }
}
