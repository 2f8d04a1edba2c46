package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import dev.watershed.io.webhook.WebhookSignature;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks into the warehouse through the command line: a streaming run receives signed events from
 * several concurrent senders (with retries of the same event, forged and malformed ones), and the
 * warehouse ends with every accepted event exactly once, no forged one, and the malformed ones as
 * dead letters.
 */
class WebhookTest {
  private static final String SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("webhook-test-key-webhook-test-k!".getBytes());

  private static final String FORGED =
      "whsec_" + Base64.getEncoder().encodeToString("forged-forged-forged-forged-1234".getBytes());

  @TempDir Path folder;

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void concurrentSignedEventsLandOnceAndForgedOnesNever() throws Exception {
    java.util.logging.LogManager.getLogManager().reset();
    int port = freePort();
    try (LocalKafka kafka = LocalKafka.start()) {
      Path warehouse = folder.resolve("hooks.duckdb");
      String spec =
          String.join(
              "\n",
              "name: payment_hooks",
              "mode: streaming",
              "streaming: { checkpoint_every: 2s, state_ttl: 1h }",
              "sources:",
              "  payments:",
              "    type: webhook",
              "    port: " + port,
              "    path: /hooks/payments",
              "    signature: { scheme: standard, secret: \"${env:HOOK_SECRET}\" }",
              "    bootstrap_servers: " + kafka.bootstrapServers(),
              "models:",
              "  payment:",
              "    key: [event_id]",
              "    fields: { event_id: string, kind: string, amount: long }",
              "conform:",
              "  - from: payments",
              "    to: payment",
              "    fields: { event_id: webhook_id, kind: type, amount: amount }",
              "sinks:",
              "  warehouse: { type: duckdb, path: " + warehouse + ", write: merge }",
              "dead_letter: { type: jsonl, path: " + folder.resolve("dead-letters") + " }",
              "");
      Path file = folder.resolve("hooks.yaml");
      Files.writeString(file, spec);
      Cli cli = new Cli(folder, Map.of("HOOK_SECRET", SECRET));
      ExecutorService threads = Executors.newFixedThreadPool(5);
      Future<Integer> run =
          threads.submit(
              () -> cli.run("run", file.toString(), "--runner=direct", "--stop-when-idle=5s"));
      waitForPort(port, run);

      // Four senders, 250 events each: every tenth sent twice, every twentieth forged, every
      // fiftieth signed but not JSON. Senders retry 5xx, 429 and connection failures.
      Set<String> accepted = ConcurrentHashMap.newKeySet();
      Set<String> malformed = ConcurrentHashMap.newKeySet();
      Set<String> forged = ConcurrentHashMap.newKeySet();
      AtomicInteger unexpected = new AtomicInteger();
      List<Future<?>> senders = new ArrayList<>();
      for (int s = 0; s < 4; s++) {
        int sender = s;
        senders.add(
            threads.submit(
                () -> {
                  HttpClient client = HttpClient.newHttpClient();
                  for (int i = 0; i < 250; i++) {
                    String id = "evt_" + sender + "_" + i;
                    boolean notJson = i % 50 == 7;
                    String body =
                        notJson
                            ? "amount=" + i
                            : "{\"type\":\"payment.succeeded\",\"amount\":" + (100 + i) + "}";
                    boolean forge = i % 20 == 3;
                    int status = send(client, port, id, body, forge ? FORGED : SECRET);
                    if (forge) {
                      (status == 401 ? forged : accepted).add(id);
                      continue;
                    }
                    if (status != 200) {
                      unexpected.incrementAndGet();
                    }
                    (notJson ? malformed : accepted).add(id);
                    if (i % 10 == 0 && send(client, port, id, body, SECRET) != 200) {
                      unexpected.incrementAndGet();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> sender : senders) {
        sender.get(5, TimeUnit.MINUTES);
      }
      assertEquals(Watershed.OK, (int) run.get(5, TimeUnit.MINUTES), cli.output());
      threads.shutdownNow();
      assertEquals(0, unexpected.get(), "every signed event was accepted");
      assertEquals(4 * 13, forged.size(), "every forged event was refused");

      Set<String> loaded = new TreeSet<>();
      long rows;
      try (Connection connection = JdbcEndpoint.of("jdbc:duckdb:" + warehouse).connect();
          Statement statement = connection.createStatement()) {
        try (ResultSet result = statement.executeQuery("SELECT event_id FROM payment")) {
          while (result.next()) {
            loaded.add(result.getString(1));
          }
        }
        try (ResultSet result = statement.executeQuery("SELECT count(*) FROM payment")) {
          result.next();
          rows = result.getLong(1);
        }
      }
      assertEquals(new TreeSet<>(accepted), loaded);
      assertEquals(accepted.size(), rows, "each event once");
      for (String id : forged) {
        assertFalse(loaded.contains(id), id);
      }
      List<String> deadLetters =
          Files.readAllLines(folder.resolve("dead-letters").resolve("dead-letter.jsonl"));
      assertEquals(malformed.size(), deadLetters.size(), deadLetters.toString());
      assertTrue(deadLetters.get(0).contains("amount="), deadLetters.get(0));
      String output = cli.output();
      assertTrue(
          output.contains(
              "webhook payments: " + (accepted.size() + malformed.size()) + " accepted"),
          output);
      assertTrue(output.contains("52 refused"), output);
      assertFalse(output.contains(SECRET), output);
    }
  }

  private static int send(HttpClient client, int port, String id, String body, String secret)
      throws Exception {
    for (int attempt = 1; ; attempt++) {
      Map<String, String> headers =
          WebhookSignature.STANDARD.sign(
              id, Instant.now(), body.getBytes(StandardCharsets.UTF_8), secret);
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hooks/payments"))
              .POST(HttpRequest.BodyPublishers.ofString(body));
      headers.forEach(request::header);
      try {
        int status =
            client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        if ((status < 500 && status != 429) || attempt >= 20) {
          return status;
        }
      } catch (java.io.IOException e) {
        if (attempt >= 20) {
          throw e;
        }
      }
      Thread.sleep(200L * attempt);
    }
  }

  private static void waitForPort(int port, Future<Integer> run) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (System.nanoTime() < deadline && !run.isDone()) {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        return;
      } catch (java.io.IOException e) {
        Thread.sleep(100);
      }
    }
    throw new AssertionError(
        "the intake did not listen within 2 minutes: " + (run.isDone() ? run.get() : "running"));
  }
}
