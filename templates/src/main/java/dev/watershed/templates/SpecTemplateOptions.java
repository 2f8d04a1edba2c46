package dev.watershed.templates;

import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.Validation;

/**
 * The parameters of the spec-driven Flex Template: one template serves every integration, because
 * the integration is a parameter.
 */
public interface SpecTemplateOptions extends PipelineOptions {
  @TemplateParameter(
      label = "Integration spec",
      regexes = {"^(gs://[a-z0-9][-_.a-z0-9]*[a-z0-9]/.+\\.ya?ml|(?s)name:.*)$"},
      example = "gs://acme-integrations/customer360/integration.yaml")
  @Description(
      "The Watershed spec to run: a gs:// path to its YAML file, or the YAML itself (starting with"
          + " 'name:'). Paths inside the spec should be gs:// paths the workers can read.")
  @Validation.Required
  String getSpec();

  void setSpec(String value);

  @TemplateParameter(
      label = "Mode",
      regexes = {"^(batch|streaming)$"},
      example = "batch")
  @Description(
      "Run the spec in this mode whatever its own 'mode:' says: batch or streaming. Leave empty"
          + " to use the spec's.")
  String getMode();

  void setMode(String value);
}
