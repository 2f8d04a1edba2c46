package dev.watershed.io.kafka;

import dev.watershed.io.files.Folders;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Features;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real, single-node Kafka broker (KRaft: broker and controller in one process) running inside
 * this JVM, for the streaming demo and the tests. It listens on 127.0.0.1 on a free port and keeps
 * its log in a folder of its own, deleted on {@link #close()} unless the folder was given.
 *
 * <pre>{@code
 * try (LocalKafka kafka = LocalKafka.start()) {
 *   kafka.createTopic("crm.public.customers", 3);
 *   String servers = kafka.bootstrapServers();   // e.g. 127.0.0.1:40123
 * }
 * }</pre>
 */
public final class LocalKafka implements AutoCloseable {
  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Path logDir;
  private final boolean deleteOnClose;

  private LocalKafka(
      KafkaRaftServer server, String bootstrapServers, Path logDir, boolean deleteOnClose) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.logDir = logDir;
    this.deleteOnClose = deleteOnClose;
  }

  /** Starts a broker with a fresh log in a temporary folder. */
  public static LocalKafka start() throws IOException {
    return start(Files.createTempDirectory("watershed-kafka"), true);
  }

  /** Starts a broker keeping its log in {@code logDir}, which must be empty or not exist. */
  public static LocalKafka start(Path logDir, boolean deleteOnClose) throws IOException {
    return start(logDir, deleteOnClose, freePort(), freePort());
  }

  /**
   * Starts a broker on {@code port} (its controller on {@code controllerPort}) keeping its log in
   * {@code logDir}: a folder a broker used before is opened again with its topics and offsets (a
   * restart after a crash), an empty or missing one is formatted. The log is kept on close.
   */
  public static LocalKafka open(Path logDir, int port, int controllerPort) throws IOException {
    return start(logDir, false, port, controllerPort);
  }

  private static LocalKafka start(Path logDir, boolean deleteOnClose, int port, int controllerPort)
      throws IOException {
    Files.createDirectories(logDir);
    boolean formatted = Files.exists(logDir.resolve("meta.properties"));
    Properties config = new Properties();
    config.put("process.roles", "broker,controller");
    config.put("node.id", "1");
    config.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    config.put(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    config.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    config.put("controller.listener.names", "CONTROLLER");
    config.put("inter.broker.listener.name", "PLAINTEXT");
    config.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    config.put("log.dirs", logDir.toString());
    config.put("offsets.topic.replication.factor", "1");
    config.put("offsets.topic.num.partitions", "4");
    config.put("transaction.state.log.replication.factor", "1");
    config.put("transaction.state.log.min.isr", "1");
    config.put("group.initial.rebalance.delay.ms", "0");
    config.put("num.partitions", "1");
    config.put("auto.create.topics.enable", "true");
    config.put("log.flush.interval.messages", "1");
    KafkaConfig kafkaConfig = KafkaConfig.fromProps(config, false);
    try {
      // A broker's folder from an earlier start keeps its log as it is.
      if (!formatted) {
        new Formatter()
            .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
            .setNodeId(1)
            .setClusterId(Uuid.randomUuid().toString())
            .addDirectory(logDir.toString())
            .setMetadataLogDirectory(logDir.toString())
            .setControllerListenerName("CONTROLLER")
            .setSupportedFeatures(Features.PRODUCTION_FEATURES)
            .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
            .run();
      }
    } catch (Exception e) {
      throw new IOException("could not format the Kafka log folder " + logDir, e);
    }
    KafkaRaftServer server = new KafkaRaftServer(kafkaConfig, Time.SYSTEM);
    server.startup();
    LocalKafka kafka = new LocalKafka(server, "127.0.0.1:" + port, logDir, deleteOnClose);
    kafka.awaitReady();
    return kafka;
  }

  /** {@code host:port} for clients' {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** Creates a topic with {@code partitions} partitions; an existing topic is left as it is. */
  public void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("could not create topic " + topic, e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted creating topic " + topic, e);
    }
  }

  /** The topics on the broker. */
  public Collection<String> topics() {
    try (Admin admin = admin()) {
      return admin.listTopics().names().get();
    } catch (ExecutionException | InterruptedException e) {
      throw new IllegalStateException("could not list topics", e);
    }
  }

  private Admin admin() {
    return Admin.create(
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            30_000));
  }

  /** Waits until the broker answers metadata requests. */
  private void awaitReady() {
    long deadline = System.nanoTime() + 60_000_000_000L;
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try (Admin admin = admin()) {
        admin.describeCluster().nodes().get();
        return;
      } catch (ExecutionException e) {
        last = new IllegalStateException("broker not ready", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for the broker", e);
      }
    }
    throw last != null ? last : new IllegalStateException("broker not ready after 60 s");
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
    if (deleteOnClose) {
      Folders.deleteQuietly(logDir);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }
}
