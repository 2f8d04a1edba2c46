package dev.watershed.pipelines.sources;

import dev.watershed.io.kafka.LocalKafka;
import dev.watershed.io.webhook.WebhookIntake;
import dev.watershed.io.webhook.WebhookSignature;
import dev.watershed.pipelines.config.ConsumedTopic;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.Receiver;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * {@code type: webhook}: events an application pushes (a payment succeeded, a ticket closed),
 * received on a port and path, verified by their signature, and written to a Kafka topic before
 * they are acknowledged; the pipeline reads that topic as a {@code kafka} source does.
 *
 * <pre>{@code
 * payments:
 *   type: webhook
 *   port: 8088
 *   path: /hooks/payments
 *   signature: { scheme: stripe, secret: "${env:STRIPE_WEBHOOK_SECRET}", tolerance: 5m }
 *   bootstrap_servers: localhost:9092
 * }</pre>
 */
public final class WebhookSourceType implements SourceType {
  /** A webhook source: where it listens, how requests are verified, the topic it reads. */
  public record Config(
      SourceBasics basics,
      String host,
      int port,
      WebhookIntake.Endpoint endpoint,
      int maxInFlight,
      KafkaSourceType.Config topic,
      Path brokerDir)
      implements SourceConfig {

    /** True when events are kept by a broker Watershed runs itself, in {@link #brokerDir}. */
    public boolean ownBroker() {
      return brokerDir != null;
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return topic.read(context);
    }

    @Override
    public void checkReachable(Spec spec, String where) {
      if (!ownBroker()) {
        topic.checkReachable(spec, where);
      }
    }

    @Override
    public ConsumedTopic consumedTopic() {
      return topic.consumedTopic();
    }

    @Override
    public boolean readsInPart() {
      return true;
    }

    @Override
    public boolean isStream() {
      return true;
    }

    @Override
    public boolean isChangeStream() {
      return topic.isChangeStream();
    }

    @Override
    public String firstMark() {
      return topic.firstMark();
    }

    @Override
    public String currentMark() {
      return topic.currentMark();
    }

    @Override
    public long pending(ReadRange range) {
      return topic.pending(range);
    }

    /** Never shows the secret. */
    @Override
    public String toString() {
      return "source " + name() + " (webhook)";
    }
  }

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  public String description() {
    return "events pushed to a port and path, verified by signature, kept in a Kafka topic";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("host", "the address to listen on (default 127.0.0.1; 0.0.0.0 for all)"),
        Key.integer("port", "the port to listen on; webhook sources may share one"),
        Key.string("path", "the path events are posted to, such as /hooks/payments"),
        Key.object(
            "signature",
            "how requests are signed: HMAC-SHA256 with a shared secret",
            Key.oneOf("scheme", "the sender's scheme", "standard", "stripe", "github"),
            Key.string("secret", "the shared secret, as ${env:NAME} or ${file:PATH}"),
            Key.duration("tolerance", "how far a signed timestamp may be from now (default 5m)")),
        Key.string(
            "bootstrap_servers",
            "the Kafka brokers events are kept in (default: a broker run in the process, its log"
                + " in broker_dir)"),
        Key.integer(
            "broker_port",
            "without bootstrap_servers: the port of the broker run in the process (default port"
                + " + 1; its controller takes the next one)"),
        Key.string(
            "broker_dir",
            "without bootstrap_servers: the broker's log folder (default .watershed/broker beside"
                + " the spec)"),
        Key.string("topic", "the topic events are kept in (default webhooks.<source>)"),
        Key.oneOf(
            "format",
            "json: each event a record (default); debezium-json: change events",
            "json",
            "debezium-json"),
        Key.string("group", "the consumer group of a streaming run (default watershed-<source>)"),
        Key.integer(
            "max_lag",
            "answer 429 while the pipeline is more events behind than this (default: no limit)"),
        Key.integer(
            "max_in_flight",
            "requests waiting for the broker at once before 503 (default 256, per port)"));
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    String path = block.string("path", true);
    if (path != null && !path.startsWith("/")) {
      block.error("path", "expected a path starting with /, got '" + path + "'");
    }
    int port = block.integer("port", -1);
    if (port < 0 || port > 65535) {
      block.error("port", "give the port to listen on (0 to 65535)");
    }
    YamlObject signature = block.object("signature", true);
    signature.rejectUnknown(Set.of("scheme", "secret", "tolerance"));
    String schemeName = signature.string("scheme", true);
    WebhookSignature scheme = WebhookSignature.named(schemeName);
    if (schemeName != null && scheme == null) {
      signature.error(
          "scheme", "unknown scheme '" + schemeName + "'; allowed: standard, stripe, github");
    }
    String secret = signature.string("secret", true);
    if (scheme == WebhookSignature.STANDARD && secret != null) {
      try {
        Base64.getDecoder().decode(secret.startsWith("whsec_") ? secret.substring(6) : secret);
      } catch (IllegalArgumentException e) {
        // The message must not show the secret.
        signature.error("secret", "a standard webhook secret is whsec_ and a base64 key");
      }
    }
    String format = block.string("format", "json");
    if (!format.equals("json") && !format.equals("debezium-json")) {
      block.error("format", "unknown format '" + format + "'; allowed: debezium-json, json");
    }
    String topic = block.string("topic", "webhooks." + basics.name());
    String group = block.string("group", "watershed-" + basics.name());
    String servers = block.string("bootstrap_servers", null);
    Path brokerDir = null;
    if (servers == null) {
      int brokerPort = block.integer("broker_port", port + 1);
      if (brokerPort < 1 || brokerPort > 65534) {
        block.error("broker_port", "expected a port from 1 to 65534, got " + brokerPort);
      }
      servers = "127.0.0.1:" + brokerPort;
      brokerDir =
          context.baseDir().resolve(block.string("broker_dir", ".watershed/broker")).normalize();
    } else if (block.has("broker_port") || block.has("broker_dir")) {
      block.error(
          block.has("broker_port") ? "broker_port" : "broker_dir",
          "with bootstrap_servers events go to that Kafka; drop broker_port and broker_dir");
    }
    KafkaSourceType.Config kafka =
        new KafkaSourceType.Config(
            basics, servers, topic, format, group, KafkaSourceType.DEFAULT_TIMEOUT);
    return new Config(
        basics,
        block.string("host", "127.0.0.1"),
        port,
        new WebhookIntake.Endpoint(
            basics.name(),
            path == null ? "/" : path,
            scheme == null ? WebhookSignature.STANDARD : scheme,
            secret == null ? "" : secret,
            signature.duration("tolerance", Duration.ofMinutes(5)),
            topic,
            group,
            block.integer("max_lag", 0)),
        block.integer("max_in_flight", 256),
        kafka,
        brokerDir);
  }

  /**
   * The brokers Watershed runs itself (one per log folder), then one intake per host, port and
   * brokers, with the paths of the sources that share it. Closing stops the intakes, then the
   * brokers.
   */
  @Override
  public Receiver receive(List<SourceConfig> sources, Consumer<String> log) throws IOException {
    Map<String, List<Config>> byListener = new LinkedHashMap<>();
    for (SourceConfig source : sources) {
      Config webhook = (Config) source;
      byListener
          .computeIfAbsent(
              webhook.host() + ":" + webhook.port() + " " + webhook.topic().bootstrapServers(),
              k -> new ArrayList<>())
          .add(webhook);
    }
    List<AutoCloseable> started = new ArrayList<>();
    List<WebhookIntake> intakes = new ArrayList<>();
    Receiver all =
        new Receiver() {
          @Override
          public long requests() {
            return intakes.stream().mapToLong(WebhookIntake::requests).sum();
          }

          @Override
          public void close() throws Exception {
            // Intakes first (no request is answered once its broker is gone), brokers last.
            for (int i = started.size() - 1; i >= 0; i--) {
              started.get(i).close();
            }
          }
        };
    try {
      Map<Path, String> brokers = new LinkedHashMap<>();
      for (SourceConfig source : sources) {
        Config webhook = (Config) source;
        if (webhook.ownBroker()
            && brokers.putIfAbsent(webhook.brokerDir(), webhook.topic().bootstrapServers())
                == null) {
          int brokerPort =
              Integer.parseInt(webhook.topic().bootstrapServers().replaceAll(".*:", ""));
          started.add(LocalKafka.open(webhook.brokerDir(), brokerPort, brokerPort + 1));
          log.accept(
              "Kafka broker for webhooks on "
                  + webhook.topic().bootstrapServers()
                  + ", log in "
                  + webhook.brokerDir());
        }
      }
      for (List<Config> group : byListener.values()) {
        Config first = group.get(0);
        intakes.add(
            WebhookIntake.start(
                first.host(),
                first.port(),
                first.topic().bootstrapServers(),
                group.stream().map(Config::endpoint).toList(),
                first.maxInFlight(),
                log));
        started.add(intakes.get(intakes.size() - 1));
      }
    } catch (IOException | RuntimeException e) {
      try {
        all.close();
      } catch (Exception ignored) {
        // The start failure is the one to report.
      }
      throw e;
    }
    return all;
  }
}
