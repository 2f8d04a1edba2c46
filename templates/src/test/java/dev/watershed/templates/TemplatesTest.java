package dev.watershed.templates;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Offline checks of the Flex Templates: the committed metadata is what the options generate; every
 * parameter's example passes its regexes and the options' own validation; and each template's
 * pipeline is translated by the Dataflow runner into a job specification, written to a local file
 * as a classic template, without contacting Google Cloud. A failure names the template and the
 * parameter.
 */
class TemplatesTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();

  @TempDir Path folder;

  @Test
  void theCommittedMetadataIsWhatTheOptionsGenerate() throws Exception {
    for (Map.Entry<String, TemplateMetadata> template : TemplateMetadata.TEMPLATES.entrySet()) {
      Path committed =
          ROOT.resolve("templates/dataflow").resolve(template.getKey()).resolve("metadata.json");
      assertTrue(Files.exists(committed), template.getKey() + ": " + committed + " is missing");
      assertEquals(
          template.getValue().json(),
          Files.readString(committed),
          template.getKey()
              + ": metadata.json differs from the options; regenerate it with TemplateMetadata");
    }
  }

  @Test
  void everyExamplePassesItsRegexesAndTheOptionsValidation() throws Exception {
    for (Map.Entry<String, TemplateMetadata> template : TemplateMetadata.TEMPLATES.entrySet()) {
      List<String> args = offlineDataflow(template.getKey());
      for (TemplateMetadata.Parameter parameter : template.getValue().parameters()) {
        for (String regex : parameter.template().regexes()) {
          assertTrue(
              Pattern.compile(regex).matcher(parameter.template().example()).matches(),
              template.getKey()
                  + ": the example of "
                  + parameter.name()
                  + " does not match "
                  + regex);
        }
        args.add("--" + parameter.name() + "=" + parameter.template().example());
      }
      PipelineOptionsFactory.register(SpecTemplateOptions.class);
      SpecTemplateOptions options =
          PipelineOptionsFactory.fromArgs(args.toArray(String[]::new))
              .withValidation()
              .as(SpecTemplateOptions.class);
      assertEquals(
          "gs://acme-integrations/customer360/integration.yaml",
          options.getSpec(),
          template.getKey());
    }
  }

  @Test
  void theSpecParameterRejectsWhatIsNeitherAPathNorASpec() {
    String regex = "^(gs://[a-z0-9][-_.a-z0-9]*[a-z0-9]/.+\\.ya?ml|(?s)name:.*)$";
    assertTrue(Pattern.matches(regex, "name: crm\nsources: {}\n"));
    assertTrue(!Pattern.matches(regex, "/home/me/spec.yaml"));
    assertTrue(!Pattern.matches(regex, "gs://Bucket/spec.yaml"));
  }

  /** The Dataflow options that translate a job and write it locally, never calling Google Cloud. */
  private List<String> offlineDataflow(String name) throws Exception {
    Path temp = Files.createDirectories(folder.resolve(name + "-temp"));
    Path staged = folder.resolve(name + "-staged.txt");
    Files.writeString(staged, "staged\n");
    return new ArrayList<>(
        List.of(
            "--runner=DataflowRunner",
            "--project=watershed-offline",
            "--region=europe-west1",
            "--tempLocation=" + temp,
            "--gcpTempLocation=" + temp,
            "--stagingLocation=" + Files.createDirectories(folder.resolve(name + "-staging")),
            "--templateLocation=" + folder.resolve(name + ".json"),
            "--filesToStage=" + staged,
            "--pathValidatorClass=org.apache.beam.sdk.extensions.gcp.storage.NoopPathValidator",
            "--credentialFactoryClass=org.apache.beam.sdk.extensions.gcp.auth.NoopCredentialFactory"));
  }

  @Test
  void theBatchTemplateTranslatesTheCustomer360SpecToADataflowJob() throws Exception {
    String spec =
        Files.readString(ROOT.resolve("test-data/customer360/integration.yaml"))
            .replace("test-data/customer360/", ROOT.resolve("test-data/customer360/small") + "/")
            .replace("test-data/lookups/", ROOT.resolve("test-data/lookups") + "/")
            .replace("test-data/sql/", ROOT.resolve("test-data/sql") + "/")
            .replace("target/customer360", folder.resolve("out").toString());
    List<String> args = offlineDataflow("watershed-spec");
    args.add("--spec=" + spec);
    SpecTemplate.build(SpecTemplate.options(args.toArray(String[]::new))).run();
    String job = Files.readString(folder.resolve("watershed-spec.json"));
    for (String step :
        List.of(
            "source crm",
            "conform billing to account",
            "identity customer",
            "load warehouse customer",
            "load lake ticket")) {
      assertTrue(job.contains(step), "watershed-spec: the job has no step '" + step + "'");
    }
    assertTrue(
        job.matches("(?s).*\"type\"\\s*:\\s*\"JOB_TYPE_BATCH\".*"),
        "watershed-spec: a batch job: " + job.substring(0, Math.min(job.length(), 600)));
  }

  @Test
  void theStreamingTemplateTranslatesAChangeStreamSpecToAStreamingDataflowJob() throws Exception {
    // Kafka's reader asks the broker for the topic's partitions while the job is built.
    try (dev.watershed.io.kafka.LocalKafka kafka = dev.watershed.io.kafka.LocalKafka.start()) {
      kafka.createTopic("crm.public.customers", 2);
      translateStreaming(kafka.bootstrapServers());
    }
  }

  private void translateStreaming(String bootstrapServers) throws Exception {
    String spec =
        String.join(
            "\n",
            "name: customer_changes",
            "streaming: { checkpoint_every: 10s, state_ttl: 1h }",
            "sources:",
            "  crm_customers:",
            "    type: kafka",
            "    bootstrap_servers: " + bootstrapServers,
            "    topic: crm.public.customers",
            "    format: debezium-json",
            "models:",
            "  customer:",
            "    key: [customer_id]",
            "    fields: { customer_id: long, email: string, status: string }",
            "conform:",
            "  - { from: crm_customers, to: customer, fields: { customer_id: id, email: email,"
                + " status: status } }",
            "sinks:",
            "  warehouse: { type: postgres, url: \"jdbc:postgresql://db.internal:5432/dw\","
                + " user: loader, deletes: soft }",
            "");
    List<String> args = offlineDataflow("watershed-spec-streaming");
    args.add("--spec=" + spec);
    args.add("--mode=streaming");
    SpecTemplate.build(SpecTemplate.options(args.toArray(String[]::new))).run();
    String job = Files.readString(folder.resolve("watershed-spec-streaming.json"));
    for (String step : List.of("source crm_customers", "load warehouse customer")) {
      assertTrue(
          job.contains(step), "watershed-spec-streaming: the job has no step '" + step + "'");
    }
    assertTrue(
        job.matches("(?s).*\"type\"\\s*:\\s*\"JOB_TYPE_STREAMING\".*"),
        "watershed-spec-streaming: a streaming job");
  }
}
