package dev.watershed.benchmarks;

import dev.watershed.io.kafka.LocalKafka;
import dev.watershed.io.webhook.WebhookIntake;
import dev.watershed.io.webhook.WebhookSignature;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The webhook intake on this machine: accepted events/s and accept latency (p50, p99) of signed
 * events (Standard Webhooks) posted by SENDERS concurrent HTTP clients to {@link WebhookIntake}
 * (verify, dedupe check, durable write to the in-process Kafka broker, answer), against the floor
 * it cannot beat: SENDERS threads each writing the same events straight to the same broker with the
 * same producer settings and waiting for each acknowledgement, no HTTP and no signature. Medians of
 * RUNS runs, all in one process, each on a topic of its own.
 *
 * <p>Usage: {@code WebhookBenchmark EVENTS SENDERS RUNS OUT.csv OUT.md}
 */
public final class WebhookBenchmark {
  private static final String SECRET =
      "whsec_" + Base64.getEncoder().encodeToString("benchmark-key-benchmark-key-1234".getBytes());

  /** One measured run: events/s and latencies in milliseconds. */
  private record Result(double perSecond, double p50, double p99) {}

  public static void main(String[] args) throws Exception {
    java.util.logging.LogManager.getLogManager().reset();
    int events = Integer.parseInt(args[0]);
    int senders = Integer.parseInt(args[1]);
    int runs = Integer.parseInt(args[2]);
    Path csv = Path.of(args[3]);
    Path table = Path.of(args[4]);
    List<Result> intake = new ArrayList<>();
    List<Result> plain = new ArrayList<>();
    try (LocalKafka kafka = LocalKafka.start()) {
      // One warm-up of each, not counted: class loading and the broker's first segments.
      intakeRun(kafka, "warmup", events / 4, senders);
      plainRun(kafka, "warmup", events / 4, senders);
      for (int run = 1; run <= runs; run++) {
        intake.add(intakeRun(kafka, "intake-" + run, events, senders));
        plain.add(plainRun(kafka, "plain-" + run, events, senders));
        System.err.printf(
            "run %d: intake %.0f events/s (p99 %.1f ms), plain producer %.0f events/s%n",
            run,
            intake.get(run - 1).perSecond(),
            intake.get(run - 1).p99(),
            plain.get(run - 1).perSecond());
      }
    }
    Result i = median(intake);
    Result p = median(plain);
    List<String> lines = new ArrayList<>();
    lines.add("case,events,senders,events_per_second,x_plain,p50_ms,p99_ms");
    lines.add(row("webhook intake (HTTP, verify, dedupe, durable write)", events, senders, i, p));
    lines.add(row("plain KafkaProducer, acks=all, send().get()", events, senders, p, p));
    Files.createDirectories(csv.toAbsolutePath().getParent());
    Files.writeString(csv, String.join("\n", lines) + "\n");
    String md =
        String.join(
            "\n",
            "| case | events/s | × plain producer | p50 accept (ms) | p99 accept (ms) |",
            "|---|---|---|---|---|",
            mdRow("webhook intake (HTTP, verify, dedupe, durable write)", i, p),
            mdRow("plain KafkaProducer, acks=all, send().get()", p, p),
            "");
    Files.createDirectories(table.toAbsolutePath().getParent());
    Files.writeString(table, md);
  }

  private static String row(String name, int events, int senders, Result r, Result base) {
    return String.format(
        Locale.ROOT,
        "%s,%d,%d,%.1f,%.2f,%.2f,%.2f",
        name,
        events,
        senders,
        r.perSecond(),
        r.perSecond() / base.perSecond(),
        r.p50(),
        r.p99());
  }

  private static String mdRow(String name, Result r, Result base) {
    return String.format(
        Locale.ROOT,
        "| %s | %.0f | %.2f | %.2f | %.2f |",
        name,
        r.perSecond(),
        r.perSecond() / base.perSecond(),
        r.p50(),
        r.p99());
  }

  private static Result intakeRun(LocalKafka kafka, String name, int events, int senders)
      throws Exception {
    WebhookIntake.Endpoint endpoint =
        new WebhookIntake.Endpoint(
            "bench",
            "/hooks/bench",
            WebhookSignature.STANDARD,
            SECRET,
            Duration.ofMinutes(5),
            "bench." + name,
            "bench",
            0);
    try (WebhookIntake intake =
        WebhookIntake.start(
            "127.0.0.1", 0, kafka.bootstrapServers(), List.of(endpoint), 256, line -> {})) {
      URI uri = URI.create("http://127.0.0.1:" + intake.port() + "/hooks/bench");
      return measure(
          events,
          senders,
          (sender, i) -> {
            HttpClient client = CLIENTS.get();
            String id = name + "_" + sender + "_" + i;
            byte[] body = body(i).getBytes(StandardCharsets.UTF_8);
            HttpRequest.Builder request =
                HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(body));
            WebhookSignature.STANDARD
                .sign(id, Instant.now(), body, SECRET)
                .forEach(request::header);
            int status =
                client.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            if (status != 200) {
              throw new IllegalStateException("answered " + status);
            }
          });
    }
  }

  private static Result plainRun(LocalKafka kafka, String name, int events, int senders)
      throws Exception {
    Properties config = new Properties();
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.put(ProducerConfig.ACKS_CONFIG, "all");
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    config.put(ProducerConfig.LINGER_MS_CONFIG, "1");
    kafka.createTopic("bench." + name, 2);
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
      return measure(
          events,
          senders,
          (sender, i) ->
              producer
                  .send(
                      new ProducerRecord<>("bench." + name, name + "_" + sender + "_" + i, body(i)))
                  .get(30, TimeUnit.SECONDS));
    }
  }

  private static final ThreadLocal<HttpClient> CLIENTS =
      ThreadLocal.withInitial(HttpClient::newHttpClient);

  private static String body(int i) {
    return "{\"type\":\"payment.succeeded\",\"amount\":" + (100 + i) + ",\"currency\":\"EUR\"}";
  }

  private interface Send {
    void send(int sender, int i) throws Exception;
  }

  /** {@code events} sends split over {@code senders} threads; each send's latency is kept. */
  private static Result measure(int events, int senders, Send send) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(senders);
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>(events));
    long start = System.nanoTime();
    List<Future<?>> running = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      int sender = s;
      running.add(
          threads.submit(
              () -> {
                for (int i = sender; i < events; i += senders) {
                  long t = System.nanoTime();
                  send.send(sender, i);
                  latencies.add(System.nanoTime() - t);
                }
                return null;
              }));
    }
    for (Future<?> one : running) {
      one.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    threads.shutdown();
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    return new Result(
        events / seconds,
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1) / 1e6);
  }

  private static Result median(List<Result> results) {
    return new Result(
        middle(results.stream().map(Result::perSecond).toList()),
        middle(results.stream().map(Result::p50).toList()),
        middle(results.stream().map(Result::p99).toList()));
  }

  private static double middle(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(sorted.size() / 2);
  }

  private WebhookBenchmark() {}
}
