package dev.watershed.templates;

import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.Redaction;
import dev.watershed.pipelines.run.SpecRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;

/**
 * The Flex Template launcher's main class: reads the {@code spec} parameter (a gs:// path or the
 * YAML itself) and runs the spec through the run API ({@link SpecRun}) with the options the
 * template launcher passes (the Dataflow runner, project, region, ...), as the command line does:
 * reachability checks, drift, read planning, the run report. On Dataflow the launcher submits the
 * job and ends ({@link SpecRun#detached()}); on any other runner it waits, reconciles and exits
 * with the command line's exit codes.
 */
public final class SpecTemplate {
  private SpecTemplate() {}

  public static void main(String[] args) throws Exception {
    Redaction.install();
    SpecRun.Outcome outcome = run(options(args)).execute();
    if (outcome.summary() != null) {
      System.out.print(outcome.summary().render());
    }
    outcome.problems().forEach(System.err::println);
    System.exit(outcome.exitCode());
  }

  /** The run of the spec the options name, on the options' runner; detached on Dataflow. */
  public static SpecRun run(SpecTemplateOptions options) throws IOException, SpecException {
    Spec spec = spec(options);
    String runner = options.getRunner().getSimpleName();
    SpecRun run = SpecRun.of(spec).on(options, runner).withProgress(System.err::println);
    return runner.equals("DataflowRunner") ? run.detached() : run;
  }

  /**
   * The pipeline of the spec the options name, built but not run: what staging a classic template
   * ({@code --templateLocation}) translates. A run goes through {@link #run}.
   */
  public static Pipeline build(SpecTemplateOptions options) throws IOException, SpecException {
    Spec spec = spec(options);
    if (spec.isStreaming()) {
      options.as(StreamingOptions.class).setStreaming(true);
    }
    Pipeline pipeline = Pipeline.create(options);
    Composer.compose(
        spec, pipeline, RunContext.run(Instant.now().truncatedTo(ChronoUnit.MICROS), Map.of()));
    return pipeline;
  }

  private static Spec spec(SpecTemplateOptions options) throws IOException, SpecException {
    String mode =
        options.getMode() == null || options.getMode().isBlank() ? null : options.getMode();
    try {
      Spec spec = SpecParser.parse(specText(options.getSpec()), Path.of(""), System.getenv(), mode);
      Redaction.add(spec.secrets());
      return spec;
    } catch (SpecException e) {
      Redaction.add(e.secrets());
      throw e;
    }
  }

  /** The YAML itself, or the contents of the file a path (gs://, or local) names. */
  static String specText(String parameter) throws IOException {
    if (parameter.stripLeading().startsWith("name:") || parameter.contains("\n")) {
      return parameter;
    }
    try (InputStream in =
        Channels.newInputStream(
            FileSystems.open(FileSystems.matchSingleFileSpec(parameter).resourceId()))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The options a template run gets from the launcher's arguments. */
  static SpecTemplateOptions options(String... args) {
    PipelineOptionsFactory.register(SpecTemplateOptions.class);
    PipelineOptions options = PipelineOptionsFactory.fromArgs(args).withValidation().create();
    return options.as(SpecTemplateOptions.class);
  }
}
