package dev.watershed.templates;

import dev.watershed.pipelines.compose.Composer;
import dev.watershed.pipelines.compose.RunContext;
import dev.watershed.pipelines.spec.Spec;
import dev.watershed.pipelines.spec.SpecException;
import dev.watershed.pipelines.spec.SpecParser;
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
 * YAML itself), builds the spec's pipeline and runs it with the options the template launcher
 * passes (the Dataflow runner, project, region, ...).
 */
public final class SpecTemplate {
  private SpecTemplate() {}

  public static void main(String[] args) throws Exception {
    PipelineOptionsFactory.register(SpecTemplateOptions.class);
    SpecTemplateOptions options =
        PipelineOptionsFactory.fromArgs(args).withValidation().as(SpecTemplateOptions.class);
    build(options).run();
  }

  /** The pipeline of the spec the options name, built but not run. */
  public static Pipeline build(SpecTemplateOptions options) throws IOException, SpecException {
    String mode =
        options.getMode() == null || options.getMode().isBlank() ? null : options.getMode();
    Spec spec = SpecParser.parse(specText(options.getSpec()), Path.of(""), System.getenv(), mode);
    if (spec.isStreaming()) {
      options.as(StreamingOptions.class).setStreaming(true);
    }
    Pipeline pipeline = Pipeline.create(options);
    Composer.compose(
        spec, pipeline, RunContext.run(Instant.now().truncatedTo(ChronoUnit.MICROS), Map.of()));
    return pipeline;
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

  /** The options a template run gets, for tests that build without running. */
  static SpecTemplateOptions options(String... args) {
    PipelineOptionsFactory.register(SpecTemplateOptions.class);
    PipelineOptions options = PipelineOptionsFactory.fromArgs(args).withValidation().create();
    return options.as(SpecTemplateOptions.class);
  }
}
