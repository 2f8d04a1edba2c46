package dev.watershed.runners;

import dev.watershed.pipelines.config.Spec;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * What a job submitted to a Flink cluster ships. From the repository's build: the cluster job jar
 * ({@code watershed-flink-job.jar}, built beside {@code watershed.jar}), which leaves out Flink
 * (the cluster has it), natives of other platforms than Linux x86-64, the demos' Kafka broker and
 * the Google Cloud clients. From the binary distribution ({@code bin/watershed} sets {@value
 * #HOME}): the jars of its {@code lib/} less the same, with DuckDB for Linux x86-64 where the
 * distribution has it (not the macOS one). A spec with a BigQuery sink ships the Google Cloud
 * clients too (from the build: the whole jar the launcher runs from; from the distribution: its
 * add-on, {@code lib/gcp/}), and {@code --filesToStage} overrides all of this.
 */
final class ClusterJobJar {
  static final String FILE_NAME = "watershed-flink-job.jar";

  /** The distribution's folder, set by its {@code bin/watershed}. */
  static final String HOME = "watershed.home";

  /** The distribution's DuckDB for the platform Flink clusters run on. */
  private static final String CLUSTER_DUCKDB = "lib/duckdb/linux_amd64";

  /** Jars of lib/ that a job on a cluster never loads: Flink, the demos' broker, the CLI. */
  private static final List<String> CLIENT_ONLY =
      List.of(
          "flink-",
          "beam-runners-direct-java-",
          "kafka_2.13-",
          "kafka-server-",
          "kafka-raft-",
          "kafka-metadata-",
          "kafka-storage-",
          "kafka-group-coordinator-",
          "kafka-transaction-coordinator-",
          "kafka-tools-api-",
          "scala-",
          "zookeeper-",
          "jopt-simple-",
          "metrics-core-2.",
          "jose4j-",
          "picocli-",
          "progressbar-",
          "jline-",
          // Hadoop's RPC transport; Parquet uses Hadoop's local file classes only.
          "netty-");

  private ClusterJobJar() {}

  /**
   * Points a cluster run of {@code spec} at what it should ship, when Watershed knows better than
   * Beam's default (every jar of the class path); returns a description of what it chose.
   */
  static Optional<String> stage(PipelineOptions options, Spec spec, List<String> beamArgs) {
    if (!isFlink(options)) {
      return Optional.empty();
    }
    FlinkPipelineOptions flink = options.as(FlinkPipelineOptions.class);
    if (flink.getFlinkMaster() == null
        || flink.getFlinkMaster().startsWith("[")
        || RunnerProfile.hasArg(beamArgs, "filesToStage")) {
      return Optional.empty();
    }
    String home = System.getProperty(HOME);
    if (home != null && !home.isBlank()) {
      List<Path> jars = fromDistribution(Path.of(home), needsGoogleCloud(spec));
      if (jars.isEmpty()) {
        return Optional.empty();
      }
      flink.setFilesToStage(jars.stream().map(Path::toString).toList());
      long bytes = jars.stream().mapToLong(ClusterJobJar::size).sum();
      String shipping =
          "shipping "
              + jars.size()
              + " jars of "
              + Path.of(home).resolve("lib")
              + " ("
              + bytes / (1024 * 1024)
              + " MiB) to the cluster";
      if (!Files.isDirectory(Path.of(home).resolve(CLUSTER_DUCKDB))) {
        shipping +=
            "; without DuckDB for Linux x86-64 (not in this distribution): a DuckDB source or"
                + " sink on the cluster needs "
                + CLUSTER_DUCKDB
                + "/ from the linux-x86_64 distribution";
      }
      return Optional.of(shipping);
    }
    if (needsGoogleCloud(spec)) {
      return Optional.empty();
    }
    Optional<Path> jar = find();
    jar.ifPresent(found -> flink.setFilesToStage(List.of(found.toString())));
    return jar.map(found -> "shipping the cluster job jar " + found);
  }

  /**
   * The jars of the distribution's lib/ a cluster job needs: lib/ less the client's, the Google
   * Cloud add-on's (lib/gcp/) when {@code googleCloud}, DuckDB's for Linux x86-64 when the
   * distribution has it.
   */
  static List<Path> fromDistribution(Path home, boolean googleCloud) {
    List<Path> jars = new ArrayList<>();
    try {
      jars.addAll(jarsIn(home.resolve("lib"), name -> !startsWithAny(name, CLIENT_ONLY)));
      if (googleCloud) {
        jars.addAll(jarsIn(home.resolve("lib/gcp"), name -> true));
      }
      jars.addAll(jarsIn(home.resolve(CLUSTER_DUCKDB), name -> true));
    } catch (IOException e) {
      return List.of();
    }
    return jars;
  }

  private static List<Path> jarsIn(Path folder, Predicate<String> wanted) throws IOException {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(folder)) {
      return files
          .filter(path -> path.getFileName().toString().endsWith(".jar"))
          .filter(path -> wanted.test(path.getFileName().toString()))
          .sorted()
          .toList();
    }
  }

  private static boolean startsWithAny(String name, List<String> prefixes) {
    return prefixes.stream().anyMatch(name::startsWith);
  }

  private static long size(Path jar) {
    try {
      return Files.size(jar);
    } catch (IOException e) {
      return 0;
    }
  }

  private static boolean isFlink(PipelineOptions options) {
    return options.getRunner() != null && options.getRunner().getSimpleName().equals("FlinkRunner");
  }

  /** Whether a sink of the spec needs the Google Cloud clients the job jar leaves out. */
  static boolean needsGoogleCloud(Spec spec) {
    return spec.sinks().values().stream().anyMatch(sink -> sink.type().equals("bigquery"));
  }

  /** The job jar built beside the running jar, if there is one. */
  static Optional<Path> find() {
    try {
      Path running =
          Path.of(ClusterJobJar.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path beside = running.resolveSibling(FILE_NAME);
      return Files.isRegularFile(running) && Files.isRegularFile(beside)
          ? Optional.of(beside)
          : Optional.empty();
    } catch (URISyntaxException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
