package dev.watershed.runners;

import java.util.List;
import java.util.Locale;
import org.apache.beam.runners.direct.DirectOptions;
import org.apache.beam.runners.direct.DirectRunner;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.runners.flink.VersionDependentFlinkPipelineOptions;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;

/**
 * The runners {@code watershed run} offers, each with the options it sets by default. Beam options
 * given on the command line ({@code --parallelism=1}, {@code --flinkMaster=host:8081}) override the
 * defaults.
 */
public enum RunnerProfile {
  /**
   * Flink, embedded in this process by default ({@code [local]}): the fast local default. Measured
   * on this project's machine, the Direct runner is about 100 times slower on keyed work such as
   * dedupe. Sets parallelism to the number of cores, object reuse, faster copy, and batch jobs on
   * Flink's DataStream API ({@code --useDataStreamForBatch}: about twice as fast as the DataSet API
   * here, which cannot chain a stage to a stage with two outputs, so every record was serialized
   * between each source, conform and its dead letters). The embedded cluster reads {@code
   * embedded-flink.yaml} (this package's resource) unless {@code --flinkConfDir} or {@code
   * FLINK_CONF_DIR} names another configuration.
   */
  FLINK,
  /** Beam's Direct runner: slow on keyed work; the runner of unit tests. */
  DIRECT;

  /**
   * Elements per bundle of a batch job on Flink. Beam's default for batch, a million, lets a
   * combine's pre-aggregation buffer a million rows per worker before it combines any; ten thousand
   * keeps that buffer small and was as fast on a 2M-row dedupe.
   */
  static final long BATCH_BUNDLE_SIZE = 10_000;

  /** Elements per bundle of a streaming job on Flink: Beam's default for streaming. */
  static final long STREAMING_BUNDLE_SIZE = 1_000;

  public static RunnerProfile named(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown runner '" + name + "'; allowed: flink, direct");
    }
  }

  public String displayName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Pipeline options for this runner, with {@code beamArgs} ({@code --name=value}) applied on top.
   */
  public PipelineOptions options(List<String> beamArgs) {
    PipelineOptionsFactory.register(FlinkPipelineOptions.class);
    PipelineOptionsFactory.register(DirectOptions.class);
    String[] args = beamArgs.toArray(new String[0]);
    if (this == FLINK) {
      FlinkPipelineOptions flink =
          PipelineOptionsFactory.fromArgs(args).as(FlinkPipelineOptions.class);
      flink.setRunner(FlinkRunner.class);
      if (!hasArg(beamArgs, "flinkMaster")) {
        flink.setFlinkMaster("[local]");
      }
      if (!hasArg(beamArgs, "parallelism")) {
        flink.setParallelism(Runtime.getRuntime().availableProcessors());
      }
      if (!hasArg(beamArgs, "objectReuse")) {
        flink.setObjectReuse(true);
      }
      if (!hasArg(beamArgs, "fasterCopy")) {
        flink.setFasterCopy(true);
      }
      if (!hasArg(beamArgs, "maxBundleSize")) {
        flink.setMaxBundleSize(BATCH_BUNDLE_SIZE);
      }
      if (!hasArg(beamArgs, "useDataStreamForBatch")) {
        flink.as(VersionDependentFlinkPipelineOptions.class).setUseDataStreamForBatch(true);
      }
      useEmbeddedConfig(flink, beamArgs, false);
      return flink;
    }
    DirectOptions direct = PipelineOptionsFactory.fromArgs(args).as(DirectOptions.class);
    direct.setRunner(DirectRunner.class);
    if (!hasArg(beamArgs, "targetParallelism")) {
      direct.setTargetParallelism(Runtime.getRuntime().availableProcessors());
    }
    // The Direct runner's element checks cost about 6x; the transforms' own tests keep them on.
    if (!hasArg(beamArgs, "enforceImmutability")) {
      direct.setEnforceImmutability(false);
    }
    if (!hasArg(beamArgs, "enforceEncodability")) {
      direct.setEnforceEncodability(false);
    }
    return direct;
  }

  /**
   * Points an embedded Flink run at Watershed's configuration for batch or streaming jobs, unless
   * the command line or {@code FLINK_CONF_DIR} names another.
   */
  static void useEmbeddedConfig(
      FlinkPipelineOptions flink, List<String> beamArgs, boolean streaming) {
    if (flink.getFlinkMaster().startsWith("[")
        && !hasArg(beamArgs, "flinkConfDir")
        && System.getenv("FLINK_CONF_DIR") == null) {
      flink.setFlinkConfDir(EmbeddedFlinkConfig.folder(streaming).toString());
    }
  }

  /** Whether the command line sets Beam option {@code name}. */
  static boolean hasArg(List<String> args, String name) {
    return args.stream().anyMatch(a -> a.startsWith("--" + name + "=") || a.equals("--" + name));
  }
}
