package dev.watershed.runners;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Flink 1.19 session cluster on loopback: a JobManager ({@code
 * StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}), each a JVM of
 * its own, started from the Flink jars Maven resolved, with {@code templates/flink/config.yaml}.
 * Their classpath holds what Flink's distribution holds and nothing else: jobs bring the rest in
 * their job jar, as on any cluster.
 */
final class LocalFlinkCluster implements AutoCloseable {
  static final List<String> JAVA_17_OPENS =
      List.of(
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.text=ALL-UNNAMED",
          "--add-opens=java.base/java.time=ALL-UNNAMED");

  private final Path home;
  private final int restPort;
  private final int rpcPort;
  private final String classpath;
  private final Process jobManager;
  private final List<Process> taskManagers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  private LocalFlinkCluster(Path home, int restPort, int rpcPort) throws IOException {
    this.home = home;
    this.restPort = restPort;
    this.rpcPort = rpcPort;
    this.classpath =
        Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
            .filter(LocalFlinkCluster::inFlinkDistribution)
            .collect(Collectors.joining(java.io.File.pathSeparator));
    Files.createDirectories(home.resolve("conf"));
    Files.copy(
        Customer360Test.ROOT.resolve("templates/flink/config.yaml"),
        home.resolve("conf/config.yaml"));
    this.jobManager =
        start(
            "jobmanager",
            "-Xmx512m",
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
  }

  /**
   * The libraries of Flink's own distribution ({@code lib/}: Flink, the libraries flink-dist
   * bundles, logging): a job must bring everything else (Beam, Watershed, database drivers, DuckDB,
   * Kafka clients) in its job jar, as on any cluster.
   */
  private static boolean inFlinkDistribution(String entry) {
    return FLINK_DISTRIBUTION.stream()
        .anyMatch(group -> entry.contains("/repository/" + group + "/"));
  }

  private static final List<String> FLINK_DISTRIBUTION =
      List.of(
          "org/apache/flink",
          "org/apache/commons",
          "commons-io",
          "commons-collections",
          "commons-cli",
          "com/twitter",
          "com/esotericsoftware",
          "org/objenesis",
          "org/lz4",
          "org/xerial/snappy",
          "org/javassist",
          "com/google/code/findbugs",
          "tools/profiler",
          "org/snakeyaml",
          "org/slf4j",
          "org/apache/logging");

  /** Starts a JobManager and {@code taskManagers} TaskManagers, and waits until they are up. */
  static LocalFlinkCluster start(Path home, int taskManagers) throws Exception {
    LocalFlinkCluster cluster = new LocalFlinkCluster(home, freePort(), freePort());
    for (int i = 0; i < taskManagers; i++) {
      cluster.startTaskManager();
    }
    cluster.awaitTaskManagers(taskManagers);
    return cluster;
  }

  /** {@code localhost:<REST port>}, the value of {@code --flinkMaster}. */
  String master() {
    return "localhost:" + restPort;
  }

  /**
   * A TaskManager JVM sized as the config's memory settings say (the heap is framework + task heap,
   * direct memory framework + task off-heap + network), as Flink's scripts would size it.
   */
  Process startTaskManager() throws IOException {
    Process taskManager =
        start(
            "taskmanager-" + (taskManagers.size() + 1),
            "-Xmx896m",
            "-Xms896m",
            "-XX:MaxDirectMemorySize=576m",
            "-XX:MaxMetaspaceSize=320m",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            "-D",
            "taskmanager.cpu.cores=2");
    taskManagers.add(taskManager);
    return taskManager;
  }

  /** A TaskManager still running. */
  Process liveTaskManager() {
    return taskManagers.stream().filter(Process::isAlive).findFirst().orElseThrow();
  }

  /** SIGKILL: no shutdown hook, no goodbye to the JobManager. */
  void kill(Process taskManager) throws InterruptedException {
    taskManager.destroyForcibly();
    taskManager.waitFor(30, TimeUnit.SECONDS);
  }

  private Process start(String name, String... javaAndMain) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    int main = 0;
    while (javaAndMain[main].startsWith("-")) {
      command.add(javaAndMain[main++]);
    }
    command.addAll(JAVA_17_OPENS);
    command.add("-cp");
    command.add(classpath);
    command.addAll(Arrays.asList(javaAndMain).subList(main, javaAndMain.length));
    command.addAll(
        List.of(
            "--configDir",
            home.resolve("conf").toString(),
            "-D",
            "rest.port=" + restPort,
            "-D",
            "jobmanager.rpc.port=" + rpcPort,
            "-D",
            "state.checkpoints.dir=" + home.resolve("checkpoints").toUri(),
            "-D",
            "state.savepoints.dir=" + home.resolve("savepoints").toUri()));
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(home.resolve(name + ".log").toFile())
        .start();
  }

  /** The REST API's answer to a GET, as JSON. */
  JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://" + master() + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return json.readTree(response.body());
  }

  private JsonNode send(String method, String path, String body)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://" + master() + path))
                .header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return response.body().isBlank() ? json.createObjectNode() : json.readTree(response.body());
  }

  void awaitTaskManagers(int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      try {
        if (get("/overview").path("taskmanagers").asInt() >= count) {
          return;
        }
      } catch (IOException notYet) {
        // the REST endpoint is still starting
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the cluster did not get " + count + " TaskManagers; logs in " + home);
  }

  /** Ids of the jobs in state RUNNING. */
  List<String> runningJobs() throws Exception {
    List<String> ids = new ArrayList<>();
    for (JsonNode job : get("/jobs").path("jobs")) {
      if (job.path("status").asText().equals("RUNNING")) {
        ids.add(job.path("id").asText());
      }
    }
    return ids;
  }

  /** Waits for a running job and returns its id. */
  String awaitRunningJob() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      List<String> running = runningJobs();
      if (!running.isEmpty()) {
        return running.get(0);
      }
      Thread.sleep(250);
    }
    throw new AssertionError("no job started running; logs in " + home);
  }

  /** Number of times the job was restarted after a failure. */
  long restarts(String job) throws Exception {
    JsonNode exceptions = get("/jobs/" + job + "/exceptions");
    return exceptions.path("exceptionHistory").path("entries").size();
  }

  /** Completed checkpoints of a job. */
  long completedCheckpoints(String job) throws Exception {
    return get("/jobs/" + job + "/checkpoints").path("counts").path("completed").asLong();
  }

  /**
   * Where the job's state was last restored from: a checkpoint's or savepoint's path, with {@code
   * savepoint } or {@code checkpoint } before it; empty when it never restored.
   */
  String restoredFrom(String job) throws Exception {
    JsonNode restored = get("/jobs/" + job + "/checkpoints").path("latest").path("restored");
    if (restored.isMissingNode() || restored.isNull()) {
      return "";
    }
    return (restored.path("is_savepoint").asBoolean() ? "savepoint " : "checkpoint ")
        + restored.path("external_path").asText();
  }

  void cancel(String job) throws Exception {
    send("PATCH", "/jobs/" + job + "?mode=cancel", "");
  }

  /** Stops the job with a savepoint and returns the savepoint's location. */
  String stopWithSavepoint(String job) throws Exception {
    String trigger =
        send(
                "POST",
                "/jobs/" + job + "/stop",
                "{\"targetDirectory\": \""
                    + home.resolve("savepoints").toUri()
                    + "\", \"drain\": false}")
            .path("request-id")
            .asText();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      JsonNode status = get("/jobs/" + job + "/savepoints/" + trigger);
      if (status.path("status").path("id").asText().equals("COMPLETED")) {
        JsonNode operation = status.path("operation");
        if (operation.has("failure-cause")) {
          throw new AssertionError("savepoint failed: " + operation.path("failure-cause"));
        }
        return operation.path("location").asText();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("the savepoint did not complete; logs in " + home);
  }

  /** The JVMs' logs, for failure messages. */
  String logs() {
    StringBuilder out = new StringBuilder();
    try (var files = Files.list(home)) {
      for (Path log : files.filter(f -> f.toString().endsWith(".log")).sorted().toList()) {
        List<String> lines = Files.readAllLines(log);
        out.append("== ")
            .append(log.getFileName())
            .append(" (last 30 lines)\n")
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())))
            .append('\n');
      }
    } catch (IOException e) {
      out.append("(logs unreadable: ").append(e.getMessage()).append(")");
    }
    return out.toString();
  }

  @Override
  public void close() throws InterruptedException {
    for (Process process : taskManagers) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    jobManager.destroyForcibly();
    jobManager.waitFor(30, TimeUnit.SECONDS);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
