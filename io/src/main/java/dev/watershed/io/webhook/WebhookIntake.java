package dev.watershed.io.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.undertow.Undertow;
import io.undertow.server.HttpServerExchange;
import io.undertow.server.handlers.BlockingHandler;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Receives webhooks: an HTTP server (Undertow) on one port whose paths are webhook sources. A
 * request is verified ({@link WebhookSignature}), and answered {@code 200} only once its event is
 * written to the source's Kafka topic and the broker acknowledged it ({@code acks=all}): an event
 * that was answered 2xx survives a crash of this process. The pipeline reads the topic like any
 * Kafka source.
 *
 * <ul>
 *   <li>Forged, unsigned or stale requests get {@code 401} and are never written; they are counted
 *       by reason.
 *   <li>An event id already accepted within the dedupe window is answered {@code 200} and not
 *       written again, so a sender's retry is deduplicated; after a restart the window's ids are
 *       read back from the topic.
 *   <li>A signed body that is not a JSON object is written as it came (the pipeline makes it a dead
 *       letter with its raw payload); a JSON object gets {@code webhook_id} and {@code
 *       webhook_received_at} added where absent.
 *   <li>With {@code maxInFlight} requests already waiting for the broker, a request gets {@code
 *       503} with {@code Retry-After}; when the pipeline's consumer group is more than {@code
 *       maxLag} events behind, {@code 429} with {@code Retry-After}: it never buffers without
 *       bound.
 * </ul>
 *
 * <pre>{@code
 * try (WebhookIntake intake = WebhookIntake.start("127.0.0.1", 8088, "localhost:9092",
 *     List.of(new WebhookIntake.Endpoint("payments", "/hooks/payments", WebhookSignature.STRIPE,
 *         secret, Duration.ofMinutes(5), "webhooks.payments", "watershed-payments", 0)),
 *     256, System.out::println)) { ... }
 * }</pre>
 */
public final class WebhookIntake implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 1 << 20;

  /** In {@code seen}: an id whose event is being written now. */
  private static final long PENDING = Long.MIN_VALUE;

  /** How long accepted ids are remembered to refuse a sender's retry as a duplicate. */
  public static final Duration DEDUPE_WINDOW = Duration.ofHours(24);

  /**
   * One webhook source: its path, signature scheme and secret, and where its events are written.
   *
   * @param group the consumer group the pipeline reads the topic with (for its lag)
   * @param maxLag events the group may be behind before requests get 429 (0: no limit)
   */
  public record Endpoint(
      String source,
      String path,
      WebhookSignature scheme,
      String secret,
      Duration tolerance,
      String topic,
      String group,
      long maxLag) {
    /** Never shows the secret. */
    @Override
    public String toString() {
      return "webhook " + source + " at " + path + " (" + scheme.specName() + ")";
    }
  }

  /** What one source's requests came to. */
  public static final class Counts {
    final AtomicLong accepted = new AtomicLong();
    final AtomicLong duplicates = new AtomicLong();
    final AtomicLong malformed = new AtomicLong();
    final AtomicLong throttled = new AtomicLong();
    final Map<String, AtomicLong> refused = new ConcurrentHashMap<>();

    public long accepted() {
      return accepted.get();
    }

    public long duplicates() {
      return duplicates.get();
    }

    /** Accepted events that are not JSON objects (they become dead letters). */
    public long malformed() {
      return malformed.get();
    }

    public long throttled() {
      return throttled.get();
    }

    /** Refused requests, by reason. */
    public Map<String, Long> refused() {
      Map<String, Long> out = new TreeMap<>();
      refused.forEach((reason, n) -> out.put(reason, n.get()));
      return out;
    }

    public long refusedTotal() {
      return refused.values().stream().mapToLong(AtomicLong::get).sum();
    }
  }

  private final Map<String, Endpoint> byPath = new HashMap<>();
  private final Map<String, Counts> counts = new LinkedHashMap<>();
  private final Map<String, Long> seen = new ConcurrentHashMap<>();
  private final Map<String, Boolean> behind = new ConcurrentHashMap<>();
  private final AtomicLong requests = new AtomicLong();
  private final KafkaProducer<String, String> producer;
  private final String bootstrapServers;
  private final Semaphore inFlight;
  private final Consumer<String> log;
  private final Thread watcher;
  private Undertow server;
  private volatile boolean closed;

  private WebhookIntake(
      String bootstrapServers, List<Endpoint> endpoints, int maxInFlight, Consumer<String> log) {
    this.bootstrapServers = bootstrapServers;
    this.inFlight = new Semaphore(maxInFlight);
    this.log = log;
    for (Endpoint endpoint : endpoints) {
      byPath.put(endpoint.path(), endpoint);
      counts.put(endpoint.source(), new Counts());
    }
    Properties config = new Properties();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.put(ProducerConfig.LINGER_MS_CONFIG, "1");
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000");
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    this.producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
    this.watcher = new Thread(this::watch, "webhook-lag");
    this.watcher.setDaemon(true);
  }

  /**
   * Starts listening on {@code host:port} (0: a free port) for {@code endpoints}, after reading
   * back the ids accepted within the dedupe window.
   */
  public static WebhookIntake start(
      String host,
      int port,
      String bootstrapServers,
      List<Endpoint> endpoints,
      int maxInFlight,
      Consumer<String> log) {
    WebhookIntake intake = new WebhookIntake(bootstrapServers, endpoints, maxInFlight, log);
    intake.createTopics();
    intake.remember(Instant.now().minus(DEDUPE_WINDOW));
    intake.server =
        Undertow.builder()
            .addHttpListener(port, host)
            .setHandler(new BlockingHandler(intake::handle))
            .build();
    intake.server.start();
    intake.watcher.start();
    for (Endpoint endpoint : endpoints) {
      log.accept(
          endpoint
              + " listening on http://"
              + host
              + ":"
              + intake.port()
              + endpoint.path()
              + ", events into topic "
              + endpoint.topic());
    }
    return intake;
  }

  /** The port it listens on. */
  public int port() {
    SocketAddress address = server.getListenerInfo().get(0).getAddress();
    return ((InetSocketAddress) address).getPort();
  }

  /** What {@code source}'s requests came to so far. */
  public Counts counts(String source) {
    return counts.get(source);
  }

  /** One line per source: accepted, duplicates, refused by reason, throttled. */
  public List<String> summary() {
    List<String> lines = new ArrayList<>();
    counts.forEach(
        (source, c) ->
            lines.add(
                String.format(
                    "webhook %s: %d accepted (%d not JSON objects), %d duplicates, %d refused%s,"
                        + " %d throttled",
                    source,
                    c.accepted(),
                    c.malformed(),
                    c.duplicates(),
                    c.refusedTotal(),
                    c.refused().isEmpty() ? "" : " " + c.refused(),
                    c.throttled())));
    return lines;
  }

  /** Requests received so far on every path, answered or refused. */
  public long requests() {
    return requests.get();
  }

  private void handle(HttpServerExchange exchange) throws IOException {
    requests.incrementAndGet();
    Endpoint endpoint = byPath.get(exchange.getRequestPath());
    if (endpoint == null) {
      answer(exchange, 404, "{\"error\":\"no webhook at this path\"}");
      return;
    }
    if (!exchange.getRequestMethod().equalToString("POST")) {
      answer(exchange, 405, "{\"error\":\"POST only\"}");
      return;
    }
    Counts count = counts.get(endpoint.source());
    byte[] body;
    try (InputStream in = exchange.getInputStream()) {
      body = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (body.length > MAX_BODY_BYTES) {
      refuse(count, "body over 1 MiB");
      answer(exchange, 413, "{\"error\":\"body over 1 MiB\"}");
      return;
    }
    WebhookSignature.Verified event;
    try {
      event =
          endpoint
              .scheme()
              .verify(
                  name -> exchange.getRequestHeaders().getFirst(name),
                  body,
                  endpoint.secret(),
                  endpoint.tolerance(),
                  Instant.now(),
                  WebhookIntake::idOf);
    } catch (WebhookSignature.Refused e) {
      refuse(count, e.getMessage());
      answer(exchange, 401, "{\"error\":\"" + e.getMessage() + "\"}");
      return;
    }
    String seenKey = endpoint.source() + "\n" + event.id();
    Long earlier = seen.putIfAbsent(seenKey, PENDING);
    if (earlier != null && earlier == PENDING) {
      // The same event is being written for another request: this one is not durable yet.
      exchange.getResponseHeaders().put(new HttpString("Retry-After"), "1");
      answer(exchange, 503, "{\"error\":\"the same event is being stored; retry\"}");
      return;
    }
    if (earlier != null) {
      count.duplicates.incrementAndGet();
      answer(exchange, 200, "{\"duplicate\":true}");
      return;
    }
    if (Boolean.TRUE.equals(behind.get(endpoint.source()))) {
      seen.remove(seenKey);
      count.throttled.incrementAndGet();
      exchange.getResponseHeaders().put(new HttpString("Retry-After"), "5");
      answer(exchange, 429, "{\"error\":\"the pipeline is behind; retry later\"}");
      return;
    }
    if (!inFlight.tryAcquire()) {
      seen.remove(seenKey);
      count.throttled.incrementAndGet();
      exchange.getResponseHeaders().put(new HttpString("Retry-After"), "1");
      answer(exchange, 503, "{\"error\":\"busy; retry later\"}");
      return;
    }
    try {
      String value = value(body, event.id(), count);
      producer
          .send(new ProducerRecord<>(endpoint.topic(), event.id(), value))
          .get(30, TimeUnit.SECONDS);
      seen.put(seenKey, System.currentTimeMillis());
      count.accepted.incrementAndGet();
      answer(exchange, 200, "{\"accepted\":" + JSON.writeValueAsString(event.id()) + "}");
    } catch (Exception e) {
      // Not durable: the sender must retry, and its retry must not be taken for a duplicate.
      seen.remove(seenKey);
      log.accept(endpoint + ": the event could not be written to Kafka: " + e);
      exchange.getResponseHeaders().put(new HttpString("Retry-After"), "5");
      answer(exchange, 503, "{\"error\":\"not stored; retry later\"}");
    } finally {
      inFlight.release();
    }
  }

  private static void refuse(Counts count, String reason) {
    count.refused.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
  }

  /** The event as written: a JSON object with its id and arrival added, else the body as is. */
  private static String value(byte[] body, String id, Counts count) {
    String text = new String(body, StandardCharsets.UTF_8);
    try {
      JsonNode node = JSON.readTree(body);
      if (node != null && node.isObject()) {
        ObjectNode event = (ObjectNode) node;
        if (!event.has("webhook_id")) {
          event.put("webhook_id", id);
        }
        if (!event.has("webhook_received_at")) {
          event.put("webhook_received_at", Instant.now().toString());
        }
        return JSON.writeValueAsString(event);
      }
    } catch (IOException e) {
      // Not JSON: written as it came, to be a dead letter downstream.
    }
    count.malformed.incrementAndGet();
    return text;
  }

  /** The body's own {@code id} (Stripe events carry it there), or null. */
  private static String idOf(byte[] body) {
    try {
      JsonNode id = JSON.readTree(body).get("id");
      return id == null || id.isNull() ? null : id.asText();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Creates the topics that do not exist yet (two partitions), so the pipeline can read them. */
  private void createTopics() {
    Properties config = new Properties();
    config.put("bootstrap.servers", bootstrapServers);
    try (Admin admin = Admin.create(config)) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = new ArrayList<>();
      byPath.values().stream()
          .map(Endpoint::topic)
          .distinct()
          .filter(topic -> !existing.contains(topic))
          .forEach(topic -> missing.add(new NewTopic(topic, 2, (short) 1)));
      if (!missing.isEmpty()) {
        admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
      }
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create the webhook topics: " + e.getCause(), e);
      }
    } catch (InterruptedException | TimeoutException e) {
      throw new IllegalStateException("cannot create the webhook topics: " + e, e);
    }
  }

  /** Reads back the ids written since {@code since}, so a restart still refuses duplicates. */
  private void remember(Instant since) {
    Map<String, String> sourceOfTopic = new HashMap<>();
    byPath.values().forEach(e -> sourceOfTopic.put(e.topic(), e.source()));
    Properties config = new Properties();
    config.put("bootstrap.servers", bootstrapServers);
    config.put("enable.auto.commit", "false");
    config.put("isolation.level", "read_committed");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      for (Map.Entry<String, String> topic : sourceOfTopic.entrySet()) {
        List<TopicPartition> partitions = new ArrayList<>();
        List<PartitionInfo> infos = consumer.partitionsFor(topic.getKey(), Duration.ofSeconds(30));
        if (infos == null) {
          continue;
        }
        infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        consumer.assign(partitions);
        Map<TopicPartition, Long> times = new HashMap<>();
        partitions.forEach(p -> times.put(p, since.toEpochMilli()));
        Map<TopicPartition, OffsetAndTimestamp> from = consumer.offsetsForTimes(times);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
        for (TopicPartition partition : partitions) {
          OffsetAndTimestamp at = from.get(partition);
          consumer.seek(partition, at == null ? end.get(partition) : at.offset());
        }
        long remembered = 0;
        while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
          for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
            if (record.key() != null) {
              seen.put(topic.getValue() + "\n" + record.key(), record.timestamp());
              remembered++;
            }
          }
        }
        if (remembered > 0) {
          log.accept("webhook " + topic.getValue() + ": " + remembered + " accepted ids read back");
        }
      }
    }
  }

  /** Every second: forgets ids past the window, and checks how far behind each pipeline is. */
  private void watch() {
    Properties config = new Properties();
    config.put("bootstrap.servers", bootstrapServers);
    try (Admin admin = Admin.create(config);
        KafkaConsumer<String, String> consumer =
            new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
      while (!closed) {
        long oldest = System.currentTimeMillis() - DEDUPE_WINDOW.toMillis();
        seen.values().removeIf(time -> time != PENDING && time < oldest);
        for (Endpoint endpoint : byPath.values()) {
          if (endpoint.maxLag() > 0) {
            behind.put(endpoint.source(), lag(admin, consumer, endpoint) > endpoint.maxLag());
          }
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    } catch (RuntimeException e) {
      if (!closed) {
        log.accept("webhook intake: lag checks stopped: " + e);
      }
    }
  }

  /** Events in the topic the group has not committed yet (0 while it has committed nothing). */
  private static long lag(Admin admin, KafkaConsumer<String, String> consumer, Endpoint endpoint) {
    try {
      Map<TopicPartition, OffsetAndMetadata> committed =
          admin
              .listConsumerGroupOffsets(endpoint.group())
              .partitionsToOffsetAndMetadata()
              .get(10, TimeUnit.SECONDS);
      List<TopicPartition> partitions = new ArrayList<>();
      committed.keySet().stream()
          .filter(p -> p.topic().equals(endpoint.topic()))
          .forEach(partitions::add);
      if (partitions.isEmpty()) {
        return 0;
      }
      long lag = 0;
      for (Map.Entry<TopicPartition, Long> end : consumer.endOffsets(partitions).entrySet()) {
        lag += end.getValue() - committed.get(end.getKey()).offset();
      }
      return lag;
    } catch (Exception e) {
      return 0;
    }
  }

  private static void answer(HttpServerExchange exchange, int status, String body) {
    exchange.setStatusCode(status);
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "application/json");
    exchange.getResponseSender().send(body);
  }

  @Override
  public void close() {
    closed = true;
    watcher.interrupt();
    if (server != null) {
      server.stop();
    }
    producer.close(Duration.ofSeconds(10));
    summary().forEach(log);
  }
}
