package dev.watershed.runners;

import dev.watershed.pipelines.config.Spec;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptions;

/**
 * What a job submitted to a Flink cluster ships. From the repository's build: the cluster job jar
 * ({@code watershed-flink-job.jar}, built beside {@code watershed.jar}), which leaves out Flink
 * (the cluster has it), natives of other platforms than Linux x86-64, the demos' Kafka broker and
 * the Google Cloud clients. From the binary distribution ({@code bin/watershed} sets {@value
 * #HOME}): the jars of its {@code lib/} less the same, with DuckDB for Linux x86-64. A spec with a
 * BigQuery sink keeps the Google Cloud clients (from the build: the whole jar the launcher runs
 * from), and {@code --filesToStage} overrides all of this.
 */
final class ClusterJobJar {
  static final String FILE_NAME = "watershed-flink-job.jar";

  /** The distribution's folder, set by its {@code bin/watershed}. */
  static final String HOME = "watershed.home";

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
          "jline-");

  /** Jars of lib/ only a BigQuery sink loads. */
  private static final List<String> GOOGLE_CLOUD =
      List.of(
          "beam-sdks-java-io-google-cloud-platform-",
          "beam-sdks-java-extensions-google-cloud-platform-core-",
          "google-",
          "gax-",
          "grpc-",
          "proto-google-",
          "api-common-",
          "gcsio-",
          "opencensus-",
          "conscrypt-",
          "arrow-");

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
      return Optional.of(
          "shipping "
              + jars.size()
              + " jars of "
              + Path.of(home).resolve("lib")
              + " ("
              + bytes / (1024 * 1024)
              + " MiB) to the cluster");
    }
    if (needsGoogleCloud(spec)) {
      return Optional.empty();
    }
    Optional<Path> jar = find();
    jar.ifPresent(found -> flink.setFilesToStage(List.of(found.toString())));
    return jar.map(found -> "shipping the cluster job jar " + found);
  }

  /** The jars of the distribution's lib/ a cluster job needs, DuckDB's for Linux x86-64. */
  static List<Path> fromDistribution(Path home, boolean googleCloud) {
    List<Path> jars = new ArrayList<>();
    try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
      lib.filter(path -> path.getFileName().toString().endsWith(".jar"))
          .filter(path -> !startsWithAny(path, CLIENT_ONLY))
          .filter(path -> googleCloud || !startsWithAny(path, GOOGLE_CLOUD))
          .sorted()
          .forEach(jars::add);
      Path duckdb = home.resolve("lib/duckdb/linux_amd64");
      if (Files.isDirectory(duckdb)) {
        try (Stream<Path> natives = Files.list(duckdb)) {
          natives.filter(path -> path.toString().endsWith(".jar")).sorted().forEach(jars::add);
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    return jars;
  }

  private static boolean startsWithAny(Path jar, List<String> prefixes) {
    String name = jar.getFileName().toString();
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
