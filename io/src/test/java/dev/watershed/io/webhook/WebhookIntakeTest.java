package dev.watershed.io.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.kafka.LocalKafka;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The webhook intake against a real Kafka broker (in this JVM): each signature scheme accepts what
 * its sender signs and refuses forged, stale and unsigned requests; a retried event is written
 * once, also after a restart; only accepted events reach the topic.
 */
class WebhookIntakeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STANDARD_SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("a-32-byte-key-for-the-test-suite".getBytes());
  private static final String SECRET = "shhh-7d1c";
  private static LocalKafka kafka;
  private final HttpClient client = HttpClient.newHttpClient();

  @BeforeAll
  static void startBroker() throws Exception {
    java.util.logging.LogManager.getLogManager().reset();
    kafka = LocalKafka.start();
  }

  @AfterAll
  static void stopBroker() {
    kafka.close();
  }

  private static List<WebhookIntake.Endpoint> endpoints(String suffix) {
    Duration tolerance = Duration.ofMinutes(5);
    return List.of(
        new WebhookIntake.Endpoint(
            "orders",
            "/hooks/orders",
            WebhookSignature.STANDARD,
            STANDARD_SECRET,
            tolerance,
            "hooks.orders." + suffix,
            "g",
            0),
        new WebhookIntake.Endpoint(
            "payments",
            "/hooks/payments",
            WebhookSignature.STRIPE,
            SECRET,
            tolerance,
            "hooks.payments." + suffix,
            "g",
            0),
        new WebhookIntake.Endpoint(
            "repo",
            "/hooks/repo",
            WebhookSignature.GITHUB,
            SECRET,
            tolerance,
            "hooks.repo." + suffix,
            "g",
            0));
  }

  private int post(int port, String path, Map<String, String> headers, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  private static Map<String, String> topic(String topic) {
    Properties config = new Properties();
    config.put("bootstrap.servers", kafka.bootstrapServers());
    Map<String, String> out = new TreeMap<>();
    List<String> keys = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer
          .partitionsFor(topic)
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
          keys.add(record.key());
          out.put(record.key(), record.value());
        }
      }
    }
    assertEquals(out.size(), keys.size(), "each id once in " + topic + ": " + keys);
    return out;
  }

  @Test
  void eachSchemeAcceptsWhatItsSenderSignsAndRefusesForgedStaleAndUnsignedRequests()
      throws Exception {
    Instant now = Instant.now();
    String suffix = String.valueOf(System.nanoTime());
    try (WebhookIntake intake =
        WebhookIntake.start(
            "127.0.0.1", 0, kafka.bootstrapServers(), endpoints(suffix), 16, line -> {})) {
      int port = intake.port();
      String order = "{\"order\":1,\"total\":9.5}";
      WebhookSignature standard = WebhookSignature.STANDARD;
      byte[] orderBytes = order.getBytes(StandardCharsets.UTF_8);
      assertEquals(
          200,
          post(
              port,
              "/hooks/orders",
              standard.sign("msg_1", now, orderBytes, STANDARD_SECRET),
              order));
      // A sender's retry of the same id: answered 200, not written again.
      assertEquals(
          200,
          post(
              port,
              "/hooks/orders",
              standard.sign("msg_1", now, orderBytes, STANDARD_SECRET),
              order));
      // Forged: signed with another key; tampered: the body changed after signing.
      String other =
          "whsec_"
              + Base64.getEncoder().encodeToString("another-key-another-key-another!".getBytes());
      assertEquals(
          401, post(port, "/hooks/orders", standard.sign("msg_2", now, orderBytes, other), order));
      assertEquals(
          401,
          post(
              port,
              "/hooks/orders",
              standard.sign("msg_3", now, orderBytes, STANDARD_SECRET),
              "{\"order\":1,\"total\":0}"));
      // Stale: signed ten minutes ago (a captured request replayed later).
      assertEquals(
          401,
          post(
              port,
              "/hooks/orders",
              standard.sign("msg_4", now.minusSeconds(600), orderBytes, STANDARD_SECRET),
              order));
      assertEquals(401, post(port, "/hooks/orders", Map.of(), order));
      // Signed but not JSON: accepted, kept as it came (the pipeline dead-letters it).
      assertEquals(
          200,
          post(
              port,
              "/hooks/orders",
              standard.sign("msg_5", now, "not json".getBytes(), STANDARD_SECRET),
              "not json"));

      String payment = "{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\"}";
      byte[] paymentBytes = payment.getBytes(StandardCharsets.UTF_8);
      WebhookSignature stripe = WebhookSignature.STRIPE;
      assertEquals(
          200,
          post(port, "/hooks/payments", stripe.sign(null, now, paymentBytes, SECRET), payment));
      assertEquals(
          401,
          post(port, "/hooks/payments", stripe.sign(null, now, paymentBytes, "wrong"), payment));
      assertEquals(
          401,
          post(
              port,
              "/hooks/payments",
              stripe.sign(null, now.plusSeconds(900), paymentBytes, SECRET),
              payment));

      String push = "{\"ref\":\"refs/heads/main\"}";
      byte[] pushBytes = push.getBytes(StandardCharsets.UTF_8);
      WebhookSignature github = WebhookSignature.GITHUB;
      assertEquals(
          200, post(port, "/hooks/repo", github.sign("d-1", now, pushBytes, SECRET), push));
      assertEquals(
          401, post(port, "/hooks/repo", github.sign("d-2", now, pushBytes, "wrong"), push));
      assertEquals(404, post(port, "/hooks/nothing", Map.of(), push));

      WebhookIntake.Counts orders = intake.counts("orders");
      assertEquals(2, orders.accepted());
      assertEquals(1, orders.duplicates());
      assertEquals(1, orders.malformed());
      assertEquals(4, orders.refusedTotal(), orders.refused().toString());
      assertEquals(2, intake.counts("payments").refusedTotal());
      assertEquals(1, intake.counts("repo").refusedTotal());
    }
    Map<String, String> orders = topic("hooks.orders." + suffix);
    assertEquals(List.of("msg_1", "msg_5"), new ArrayList<>(orders.keySet()));
    JsonNode first = JSON.readTree(orders.get("msg_1"));
    assertEquals(9.5, first.get("total").asDouble());
    assertEquals("msg_1", first.get("webhook_id").asText());
    assertTrue(first.has("webhook_received_at"));
    assertEquals("not json", orders.get("msg_5"));
    assertEquals(List.of("evt_1"), new ArrayList<>(topic("hooks.payments." + suffix).keySet()));
    assertEquals(List.of("d-1"), new ArrayList<>(topic("hooks.repo." + suffix).keySet()));
  }

  /**
   * When the pipeline's consumer group is more than max_lag events behind, requests get 429 with
   * Retry-After and are not written; once it catches up they are accepted again.
   */
  @Test
  void aPipelineThatFallsBehindGets429sUntilItCatchesUp() throws Exception {
    String suffix = String.valueOf(System.nanoTime());
    String topic = "hooks.lagging." + suffix;
    String group = "lagging-" + suffix;
    WebhookIntake.Endpoint endpoint =
        new WebhookIntake.Endpoint(
            "lagging",
            "/hooks/lagging",
            WebhookSignature.GITHUB,
            SECRET,
            Duration.ofMinutes(5),
            topic,
            group,
            3);
    try (WebhookIntake intake =
        WebhookIntake.start(
            "127.0.0.1", 0, kafka.bootstrapServers(), List.of(endpoint), 16, line -> {})) {
      // The pipeline has read nothing yet: its group committed offset 0 on every partition.
      commit(topic, group, false);
      String body = "{\"n\":1}";
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      int n = 0;
      HttpResponse<String> answer = null;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (System.nanoTime() < deadline) {
        answer =
            postFor(
                intake.port(),
                "/hooks/lagging",
                WebhookSignature.GITHUB.sign("d-" + n++, Instant.now(), bytes, SECRET),
                body);
        if (answer.statusCode() == 429) {
          break;
        }
        assertEquals(200, answer.statusCode());
        Thread.sleep(100);
      }
      assertEquals(429, answer.statusCode(), "the intake answered 429 once the pipeline lagged");
      assertEquals("5", answer.headers().firstValue("Retry-After").orElse(null));
      long accepted = intake.counts("lagging").accepted();
      assertTrue(accepted > 3, accepted + " accepted before the lag passed 3");

      // The pipeline catches up: requests are accepted again.
      commit(topic, group, true);
      deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      int status = 429;
      while (status == 429 && System.nanoTime() < deadline) {
        Thread.sleep(100);
        status =
            postFor(
                    intake.port(),
                    "/hooks/lagging",
                    WebhookSignature.GITHUB.sign("d-" + n++, Instant.now(), bytes, SECRET),
                    body)
                .statusCode();
      }
      assertEquals(200, status);
      assertEquals(accepted + 1, intake.counts("lagging").accepted());
      assertTrue(intake.counts("lagging").throttled() >= 1);
      // What was answered 429 was never written.
      assertEquals(accepted + 1, topic(topic).size());
    }
  }

  /**
   * Commits {@code group}'s offsets on {@code topic}: at the start, or at the end ({@code atEnd}).
   */
  private static void commit(String topic, String group, boolean atEnd) {
    Properties config = new Properties();
    config.put("bootstrap.servers", kafka.bootstrapServers());
    config.put("group.id", group);
    config.put("enable.auto.commit", "false");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      consumer
          .partitionsFor(topic)
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> offsets =
          new java.util.HashMap<>();
      for (TopicPartition partition : partitions) {
        offsets.put(
            partition,
            new org.apache.kafka.clients.consumer.OffsetAndMetadata(
                atEnd ? end.get(partition) : 0));
      }
      consumer.commitSync(offsets);
    }
  }

  private HttpResponse<String> postFor(
      int port, String path, Map<String, String> headers, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aRetryAfterARestartIsStillADuplicate() throws Exception {
    Instant now = Instant.now();
    String suffix = String.valueOf(System.nanoTime());
    String body = "{\"order\":2}";
    Map<String, String> signed =
        WebhookSignature.STANDARD.sign(
            "msg_9", now, body.getBytes(StandardCharsets.UTF_8), STANDARD_SECRET);
    try (WebhookIntake intake =
        WebhookIntake.start(
            "127.0.0.1", 0, kafka.bootstrapServers(), endpoints(suffix), 16, line -> {})) {
      assertEquals(200, post(intake.port(), "/hooks/orders", signed, body));
    }
    List<String> lines = new ArrayList<>();
    try (WebhookIntake intake =
        WebhookIntake.start(
            "127.0.0.1", 0, kafka.bootstrapServers(), endpoints(suffix), 16, lines::add)) {
      assertEquals(200, post(intake.port(), "/hooks/orders", signed, body));
      assertEquals(1, intake.counts("orders").duplicates());
      assertEquals(0, intake.counts("orders").accepted());
    }
    assertTrue(
        lines.stream().anyMatch(l -> l.contains("1 accepted ids read back")), lines.toString());
    assertEquals(List.of("msg_9"), new ArrayList<>(topic("hooks.orders." + suffix).keySet()));
  }
}
