package dev.watershed.benchmarks;

import dev.watershed.io.kafka.LocalKafka;
import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Streaming from Kafka into PostgreSQL (upsert by key): Watershed's streaming mode on embedded
 * Flink against a plain single-threaded {@code KafkaConsumer} that writes each poll with COPY and
 * one {@code INSERT ... ON CONFLICT}, both in JVMs of their own, reading from a real broker started
 * in this process.
 *
 * <ul>
 *   <li>Saturation: the events are published first, then the consumer starts; events/s is the
 *       number of events over the time between the first and the last row committed (start-up
 *       reported apart, as the time to the first row).
 *   <li>Latency at a fixed offered rate (half of Watershed's saturation rate): each event carries
 *       the time it was sent; the target table stamps each row with {@code clock_timestamp()} as it
 *       is inserted, just before its transaction commits; p50 and p99 of the difference.
 * </ul>
 *
 * <p>Every run checks the target's row count and the sum of its keys and amounts against the events
 * published.
 *
 * <p>Usage: {@code StreamBenchmark EVENTS RUNS WATERSHED_JAR BENCH_CLASSPATH OUT.csv OUT.md}
 */
public final class StreamBenchmark {
  private static final String TABLE = "bench_stream.events";
  private static final int RATE_SECONDS = 30;

  private final long events;
  private final int runs;
  private final Path jar;
  private final String classpath;
  private final Path work;
  private final LocalKafka kafka;
  private int topics;

  private StreamBenchmark(
      long events, int runs, Path jar, String classpath, Path work, LocalKafka kafka) {
    this.events = events;
    this.runs = runs;
    this.jar = jar;
    this.classpath = classpath;
    this.work = work;
    this.kafka = kafka;
  }

  /** One tool's runs: saturation rates, start-up, latency at the offered rate. */
  record Result(
      String tool,
      List<Double> perSecond,
      List<Double> firstRow,
      double offered,
      List<Double> p50,
      List<Double> p99,
      double peakRssMb,
      double cpuSeconds,
      String check) {}

  public static void main(String[] args) throws Exception {
    long events = Long.parseLong(args[0]);
    int runs = Integer.parseInt(args[1]);
    Path work = Files.createTempDirectory("watershed-stream-bench");
    try (LocalKafka kafka = LocalKafka.start()) {
      StreamBenchmark bench =
          new StreamBenchmark(events, runs, Path.of(args[2]), args[3], work, kafka);
      List<Result> results = bench.runAll();
      bench.write(results, Path.of(args[4]), Path.of(args[5]));
    }
  }

  private List<Result> runAll() throws Exception {
    String watershed = "Watershed streaming (embedded Flink)";
    String plain = "plain KafkaConsumer -> COPY upsert";
    List<Double> wsRate = new ArrayList<>();
    List<Double> wsFirst = new ArrayList<>();
    List<Double> plainRate = new ArrayList<>();
    List<Double> plainFirst = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      double[] w = saturation(watershed);
      wsRate.add(w[0]);
      wsFirst.add(w[1]);
      double[] p = saturation(plain);
      plainRate.add(p[0]);
      plainFirst.add(p[1]);
    }
    double offered = Math.floor(LoadBenchmark.median(wsRate) / 2);
    List<Double> wsP50 = new ArrayList<>();
    List<Double> wsP99 = new ArrayList<>();
    List<Double> plainP50 = new ArrayList<>();
    List<Double> plainP99 = new ArrayList<>();
    for (int run = 0; run < runs; run++) {
      double[] w = latency(watershed, offered);
      wsP50.add(w[0]);
      wsP99.add(w[1]);
      double[] p = latency(plain, offered);
      plainP50.add(p[0]);
      plainP99.add(p[1]);
    }
    return List.of(
        new Result(
            watershed,
            wsRate,
            wsFirst,
            offered,
            wsP50,
            wsP99,
            peakRss(watershed),
            medianCpu(watershed),
            checks.get(watershed)),
        new Result(
            plain,
            plainRate,
            plainFirst,
            offered,
            plainP50,
            plainP99,
            peakRss(plain),
            medianCpu(plain),
            checks.get(plain)));
  }

  /**
   * Each tool's check: that of its first saturation run, unless a run of either kind was wrong,
   * then the first wrong one.
   */
  private final Map<String, String> checks = new HashMap<>();

  private String record(String tool, String check) {
    String before = checks.get(tool);
    if (before == null || (!check.startsWith("ok") && before.startsWith("ok"))) {
      checks.put(tool, check);
    }
    return check;
  }

  /** A fresh topic and an empty target table with a stamp of when each row was inserted. */
  private String prepare() throws SQLException {
    String topic = "bench.events." + (++topics);
    kafka.createTopic(topic, 2);
    LoadBenchmark.sql(
        "DROP SCHEMA IF EXISTS bench_stream CASCADE",
        "CREATE SCHEMA bench_stream",
        "CREATE TABLE "
            + TABLE
            + " (id BIGINT PRIMARY KEY, customer_key BIGINT, first_name TEXT, last_name TEXT,"
            + " email TEXT, amount NUMERIC(12,2), currency TEXT, sent_at TIMESTAMPTZ,"
            + " _source TEXT, loaded_at TIMESTAMPTZ DEFAULT clock_timestamp())");
    return topic;
  }

  private static String event(long id, Instant sentAt) {
    long key = id * 10 / 17;
    return "{\"id\":"
        + id
        + ",\"customer_key\":"
        + key
        + ",\"first_name\":\"First"
        + id % 997
        + "\",\"last_name\":\"Last"
        + id % 1009
        + "\",\"email\":\"User"
        + key
        + "@Example.com\",\"amount\":\""
        + (id * 7919 % 1_000_000) / 100
        + "."
        + String.format(Locale.ROOT, "%02d", id * 7919 % 100)
        + "\",\"currency\":\"EUR\",\"sent_at\":\""
        + sentAt.truncatedTo(ChronoUnit.MICROS)
        + "\"}";
  }

  private KafkaProducer<String, String> producer() {
    return new KafkaProducer<>(
        Map.of(
            "bootstrap.servers", kafka.bootstrapServers(),
            "linger.ms", "5",
            "batch.size", "65536",
            "acks", "1"),
        new StringSerializer(),
        new StringSerializer());
  }

  private void publish(KafkaProducer<String, String> producer, String topic, long from, long to) {
    for (long id = from; id < to; id++) {
      producer.send(new ProducerRecord<>(topic, Long.toString(id), event(id, Instant.now())));
    }
    producer.flush();
  }

  /** Starts a tool reading {@code topic}; it stops by itself once idle. */
  private Process start(String tool, String topic) throws IOException {
    List<String> command = new ArrayList<>();
    // Peak RSS and CPU seconds of the tool's JVM, read back by usage().
    command.addAll(
        List.of("/usr/bin/time", "-v", "-o", work.resolve("time-" + topic + ".txt").toString()));
    command.add("java");
    command.add("-Xmx2g");

    for (String open : LoadBenchmark.JAVA_OPENS.trim().split(" ")) {
      command.add(open);
    }
    if (tool.startsWith("Watershed")) {
      command.addAll(
          List.of("-jar", jar.toString(), "run", spec(topic).toString(), "--stop-when-idle=4s"));
    } else {
      command.addAll(
          List.of(
              "-cp",
              classpath,
              PlainConsumerLoad.class.getName(),
              kafka.bootstrapServers(),
              topic,
              TABLE,
              "4"));
    }
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(work.resolve("stream-" + topic + ".log").toFile())
        .start();
  }

  private Path spec(String topic) throws IOException {
    String yaml =
        String.join(
            "\n",
            "name: bench_stream",
            "mode: streaming",
            "sources:",
            "  events: { type: kafka, bootstrap_servers: \""
                + kafka.bootstrapServers()
                + "\", topic: "
                + topic
                + ", format: json, group: bench-"
                + topic
                + " }",
            "models:",
            "  events:",
            "    key: [id]",
            "    fields: { id: long, customer_key: long, first_name: string, last_name: string,"
                + " email: string, amount: \"decimal(12,2)\", currency: string,"
                + " sent_at: timestamp }",
            "conform:",
            "  - from: events",
            "    to: events",
            "    fields: { id: id, customer_key: customer_key, first_name: first_name,"
                + " last_name: last_name, email: { from: email, normalize: lower },"
                + " amount: amount, currency: currency, sent_at: sent_at }",
            "sinks:",
            "  pg: { type: postgres, url: \""
                + LoadBenchmark.PG
                + "\", user: postgres, schema: bench_stream, write: merge }",
            "dead_letter: { path: " + work.resolve("stream-dead") + " }",
            "");
    Path file = work.resolve("stream-" + topic + ".yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private static long rows() throws SQLException {
    try (Connection c = LoadBenchmark.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM " + TABLE)) {
      r.next();
      return r.getLong(1);
    }
  }

  private void waitFor(Process process, long expected, String tool) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (rows() < expected) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            tool + " stopped before loading every event; see " + work + "/stream-*.log");
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly();
        throw new IllegalStateException(tool + " did not load every event within 10 minutes");
      }
      Thread.sleep(100);
    }
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroy();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Each tool's peak RSS (MB) and CPU seconds, one pair per saturation run. */
  private final Map<String, List<double[]>> usages = new HashMap<>();

  private void usage(String tool, String topic) throws IOException {
    Path file = work.resolve("time-" + topic + ".txt");
    String report = Files.exists(file) ? Files.readString(file) : "";
    Matcher rss = LoadBenchmark.RSS.matcher(report);
    Matcher user = LoadBenchmark.USER.matcher(report);
    Matcher sys = LoadBenchmark.SYS.matcher(report);
    if (rss.find() && user.find() && sys.find()) {
      usages
          .computeIfAbsent(tool, t -> new ArrayList<>())
          .add(
              new double[] {
                Long.parseLong(rss.group(1)) / 1024.0,
                Double.parseDouble(user.group(1)) + Double.parseDouble(sys.group(1))
              });
    }
  }

  private double peakRss(String tool) {
    return usages.getOrDefault(tool, List.of()).stream().mapToDouble(u -> u[0]).max().orElse(0);
  }

  private double medianCpu(String tool) {
    List<Double> cpu = new ArrayList<>();
    for (double[] u : usages.getOrDefault(tool, List.of())) {
      cpu.add(u[1]);
    }
    return cpu.isEmpty() ? 0 : LoadBenchmark.median(cpu);
  }

  /** Events published first: {events/s between the first and last row, s to the first row}. */
  private double[] saturation(String tool) throws Exception {
    String topic = prepare();
    try (KafkaProducer<String, String> producer = producer()) {
      publish(producer, topic, 0, events);
    }
    long started = System.currentTimeMillis();
    Process process = start(tool, topic);
    waitFor(process, events, tool);
    usage(tool, topic);
    double[] out = new double[2];
    try (Connection c = LoadBenchmark.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*), extract(epoch FROM max(loaded_at) - min(loaded_at)),"
                    + " extract(epoch FROM min(loaded_at)) FROM "
                    + TABLE)) {
      r.next();
      out[0] = (r.getLong(1) - 1) / r.getDouble(2);
      out[1] = r.getDouble(3) - started / 1000.0;
    }
    String check = record(tool, check(events));
    System.out.printf(
        Locale.ROOT,
        "  %-40s saturation: %,.0f events/s, first row after %.1f s, %s%n",
        tool,
        out[0],
        out[1],
        check);
    return out;
  }

  /** Events sent at {@code rate} for {@value #RATE_SECONDS} s: {p50, p99} seconds. */
  private double[] latency(String tool, double rate) throws Exception {
    String topic = prepare();
    Process process = start(tool, topic);
    long total;
    try (KafkaProducer<String, String> producer = producer()) {
      // A first event, sent until the tool has loaded it: the tool is then running.
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      publish(producer, topic, 0, 1);
      while (rows() < 1) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          process.destroyForcibly();
          throw new IllegalStateException(tool + " did not start; see " + work);
        }
        Thread.sleep(50);
      }
      long sent = 1;
      long begin = System.nanoTime();
      long tickNanos = TimeUnit.MILLISECONDS.toNanos(10);
      for (long tick = 1; tick <= RATE_SECONDS * 100L; tick++) {
        long due = (long) (rate * tick / 100.0) + 1;
        publish(producer, topic, sent, due);
        sent = due;
        long sleep = begin + tick * tickNanos - System.nanoTime();
        if (sleep > 0) {
          TimeUnit.NANOSECONDS.sleep(sleep);
        }
      }
      total = sent;
    }
    waitFor(process, total, tool);
    double[] out = new double[2];
    try (Connection c = LoadBenchmark.connect();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM loaded_at"
                    + " - sent_at)), percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch"
                    + " FROM loaded_at - sent_at)) FROM "
                    + TABLE
                    + " WHERE id > 0")) {
      r.next();
      out[0] = r.getDouble(1);
      out[1] = r.getDouble(2);
    }
    String check = record(tool, check(total));
    System.out.printf(
        Locale.ROOT,
        "  %-40s %,.0f events/s offered for %d s: p50 %.3f s, p99 %.3f s, %s%n",
        tool,
        rate,
        RATE_SECONDS,
        out[0],
        out[1],
        check);
    return out;
  }

  /** Rows, sum of ids and of amounts in the target against the first {@code count} events. */
  private static String check(long count) throws SQLException {
    long ids = count * (count - 1) / 2;
    BigDecimal amounts = BigDecimal.ZERO;
    for (long id = 0; id < count; id++) {
      amounts = amounts.add(BigDecimal.valueOf(id * 7919 % 1_000_000, 2));
    }
    String expected = count + "|" + ids + "|" + amounts.setScale(2);
    return LoadBenchmark.check(LoadBenchmark.checksum(TABLE, "id"), expected);
  }

  private void write(List<Result> results, Path csv, Path table) throws IOException {
    Result base = results.get(1);
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write(
          "tool,events,runs,median_events_per_s,x_plain,median_first_row_s,offered_events_per_s,"
              + "median_p50_s,median_p99_s,peak_rss_mb,cpu_s,check\n");
      for (Result r : results) {
        out.write(
            String.format(
                Locale.ROOT,
                "\"%s\",%d,%d,%.0f,%.2f,%.2f,%.0f,%.3f,%.3f,%.0f,%.1f,\"%s\"%n",
                r.tool(),
                events,
                r.perSecond().size(),
                LoadBenchmark.median(r.perSecond()),
                LoadBenchmark.median(r.perSecond()) / LoadBenchmark.median(base.perSecond()),
                LoadBenchmark.median(r.firstRow()),
                r.offered(),
                LoadBenchmark.median(r.p50()),
                LoadBenchmark.median(r.p99()),
                r.peakRssMb(),
                r.cpuSeconds(),
                r.check()));
      }
    }
    StringBuilder md = new StringBuilder();
    md.append(
        "| tool | events/s at saturation | × plain consumer | first row after (s) | offered"
            + " (events/s) | p50 (s) | p99 (s) | peak RSS (MB) | CPU (s) | check |\n"
            + "|---|---|---|---|---|---|---|---|---|---|\n");
    for (Result r : results) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %,.0f | %.2f× | %.1f | %,.0f | %.3f | %.3f | %.0f | %.1f | %s |%n",
              r.tool(),
              LoadBenchmark.median(r.perSecond()),
              LoadBenchmark.median(r.perSecond()) / LoadBenchmark.median(base.perSecond()),
              LoadBenchmark.median(r.firstRow()),
              r.offered(),
              LoadBenchmark.median(r.p50()),
              LoadBenchmark.median(r.p99()),
              r.peakRssMb(),
              r.cpuSeconds(),
              r.check().startsWith("ok") ? "ok" : r.check()));
    }
    Files.writeString(table, md.toString());
    System.out.print(md);
    System.out.println("events: " + events + ", runs per measurement: " + runs);
  }
}
