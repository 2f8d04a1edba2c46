package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.io.kafka.LocalKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code http} sink end to end through the command line, against a local CRM-like API ({@link
 * CrmApi}) that checks a bearer token, honours idempotency keys and fails some requests on purpose.
 */
class HttpSinkTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "tok-3f9a1c77";
  private static final int CONTACTS = 60;

  @TempDir Path folder;

  @BeforeAll
  static void quietBroker() {
    java.util.logging.LogManager.getLogManager().reset();
  }

  /** 60 contacts; contact 13's country is "XX", which the API refuses. */
  private void writeContacts() throws Exception {
    List<String> lines = new ArrayList<>();
    lines.add("id,name,email,country");
    String[] countries = {"DE", "FR", "NL"};
    for (int id = 1; id <= CONTACTS; id++) {
      String country = id == 13 ? "XX" : countries[id % 3];
      lines.add(id + ",Name " + id + ", C" + id + "@Example.com ," + country);
    }
    Files.write(folder.resolve("contacts.csv"), lines);
  }

  private Path spec(String sink) throws Exception {
    writeContacts();
    String text =
        String.join(
            "\n",
            "name: contacts_out",
            "sources:",
            "  crm: { type: csv, path: contacts.csv }",
            "models:",
            "  contact:",
            "    key: [id]",
            "    fields: { id: long, name: string, email: string, country: string }",
            "conform:",
            "  - from: crm",
            "    to: contact",
            "    fields:",
            "      id: id",
            "      name: name",
            "      email: { from: email, normalize: [email] }",
            "      country: country",
            "sinks:",
            sink,
            "dead_letter: { type: jsonl, path: dead-letters }",
            "");
    Path spec = folder.resolve("contacts.yaml");
    Files.writeString(spec, text);
    return spec;
  }

  private List<JsonNode> deadLetters() throws Exception {
    Path file = folder.resolve("dead-letters").resolve("dead-letter.jsonl");
    List<JsonNode> out = new ArrayList<>();
    if (Files.exists(file)) {
      for (String line : Files.readAllLines(file)) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }

  @Test
  void eachRowIsSentOnceThroughItsTemplateRetriedWhenTheApiFailsAndRefusedOnesAreDeadLetters()
      throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN)
          .failEvery(7)
          .refuse(contact -> contact.path("country").asText().equals("XX"));
      Path spec =
          spec(
              String.join(
                  "\n",
                  "  marketing:",
                  "    type: http",
                  "    base_url: " + api.baseUrl(),
                  "    auth: { type: bearer, token: \"${env:MARKETING_TOKEN}\" }",
                  "    method: PUT",
                  "    path: /contacts/{id}",
                  "    body: '{\"id\": \"{id}\", \"email\": \"{email}\", \"country\": \"{country}\","
                      + " \"profile\": {\"label\": \"{name} ({country})\"}}'",
                  "    max_attempts: 4"));
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
      assertFalse(cli.output().contains(TOKEN), cli.output());

      Map<String, ObjectNode> contacts = api.contacts();
      assertEquals(CONTACTS - 1, contacts.size(), contacts.keySet().toString());
      ObjectNode seven = contacts.get("7");
      // "{id}" alone keeps the number a number; "{name} ({country})" is text.
      assertEquals(
          JSON.readTree(
              "{\"id\":7,\"email\":\"c7@example.com\",\"country\":\"FR\","
                  + "\"profile\":{\"label\":\"Name 7 (FR)\"}}"),
          seven);
      assertTrue(api.failed() > 0, "some requests failed on purpose and were retried");
      assertEquals(CONTACTS - 1, api.applied(), "each contact applied once");

      List<JsonNode> dead = deadLetters();
      assertEquals(1, dead.size(), dead.toString());
      JsonNode refused = dead.get(0);
      assertEquals("load", refused.get("stage").asText());
      assertEquals("refused by the API", refused.get("reason").asText());
      assertTrue(refused.get("detail").asText().contains("HTTP 422"), refused.toString());
      assertTrue(refused.get("position").asText().contains("key 13"), refused.toString());
      assertEquals("XX", JSON.readTree(refused.get("payload").asText()).get("country").asText());

      // The same rows again carry the same idempotency keys: the API applies nothing twice.
      long applied = api.applied();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(applied, api.applied());
      assertEquals(CONTACTS - 1, api.replayed(), "every delivered row was a replay");
    }
  }

  /**
   * "A CRM update triggers the marketing tool": Debezium change events of the CRM's customers
   * (late, duplicated and poison events among them) stream from Kafka into the API, which fails
   * every fifth request; the API ends holding exactly the customers the CRM holds at the end.
   */
  @Test
  void aChangeStreamKeepsTheApiEqualToTheSourceThroughFailuresLateAndDuplicateEvents()
      throws Exception {
    try (LocalKafka kafka = LocalKafka.start();
        CrmApi api = CrmApi.start()) {
      kafka.createTopic(StreamingDemo.TOPIC, 2);
      ChangeEvents events = ChangeEvents.generate(20261202L, 150);
      events.publish(kafka.bootstrapServers(), StreamingDemo.TOPIC, 0, events.delivery().size());
      api.failEvery(5);
      String yaml =
          StreamingDemo.spec(
                  kafka.bootstrapServers(),
                  folder.resolve("unused.duckdb").toString(),
                  "soft",
                  folder.resolve("dead-letters").toString())
              .replaceAll(
                  "(?s)sinks:\n.*?\ndead_letter",
                  String.join(
                      "\n",
                      "sinks:",
                      "  marketing:",
                      "    type: http",
                      "    base_url: " + api.baseUrl(),
                      "    method: PUT",
                      "    path: /contacts/{customer_id}",
                      "    on_delete: send",
                      "dead_letter"));
      Path spec = folder.resolve("changes.yaml");
      Files.writeString(spec, yaml);
      Cli cli = new Cli(folder);
      assertEquals(
          Watershed.OK,
          cli.run(
              "run", spec.toString(), "--mode=streaming", "--runner=direct", "--stop-when-idle=3s"),
          cli.output());

      Map<String, ObjectNode> contacts = api.contacts();
      List<String> differences = new ArrayList<>();
      for (Map.Entry<Long, Map<String, Object>> row : events.finalRows().entrySet()) {
        ObjectNode held = contacts.remove(String.valueOf(row.getKey()));
        for (String field : List.of("name", "email", "status")) {
          String want = String.valueOf(row.getValue().get(field));
          String got = held == null ? "(absent)" : held.path(field).asText();
          if (!want.equals(got)) {
            differences.add(row.getKey() + "." + field + ": " + got + " != " + want);
          }
        }
      }
      contacts.keySet().forEach(id -> differences.add(id + ": held but deleted or never created"));
      assertTrue(differences.isEmpty(), differences.size() + " differences: " + differences);
      assertTrue(api.failed() > 0, "some requests failed on purpose and were retried");
      assertFalse(events.deleted().isEmpty(), "the history deletes some customers");
    }
  }

  @Test
  void batchesGoAsOneWrappedArrayPerRequest() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      Path spec =
          spec(
              String.join(
                  "\n",
                  "  marketing:",
                  "    type: http",
                  "    base_url: " + api.baseUrl(),
                  "    path: /contacts/batch",
                  "    batch_size: 25",
                  "    batch_wrap: records"));
      Cli cli = new Cli(folder);
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
      assertEquals(CONTACTS, api.contacts().size());
      assertTrue(api.largestBatch() > 1 && api.largestBatch() <= 25, "" + api.largestBatch());
      assertTrue(api.requests() < CONTACTS, api.requests() + " requests for 60 rows");
      // The default body: every field of the model and where the row came from.
      JsonNode one = api.contacts().get("1");
      assertEquals("c1@example.com", one.get("email").asText());
      assertEquals("crm", one.get("_source").asText());
    }
  }

  @Test
  void aRefusedTokenFailsTheRunInOneLineNamingTheSinkAndNeverShowsTheToken() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN);
      Path spec =
          spec(
              String.join(
                  "\n",
                  "  marketing:",
                  "    type: http",
                  "    base_url: " + api.baseUrl(),
                  "    auth: { type: bearer, token: \"${env:MARKETING_TOKEN}\" }",
                  "    path: /contacts/{id}"));
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", "wrong-" + TOKEN));
      assertEquals(Watershed.FAILED, cli.run("run", spec.toString(), "--runner=direct"));
      String output = cli.output();
      assertTrue(output.contains("sink marketing"), output);
      assertTrue(output.contains("HTTP 401"), output);
      assertTrue(output.contains("check auth"), output);
      assertFalse(output.contains(TOKEN), output);
      assertFalse(output.contains("\tat "), output);
      assertTrue(api.contacts().isEmpty());
    }
  }

  @Test
  void anApiThatKeepsFailingStopsTheRunInsteadOfDeadLetteringEveryRow() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.failEvery(1);
      Path spec =
          spec(
              String.join(
                  "\n",
                  "  marketing:",
                  "    type: http",
                  "    base_url: " + api.baseUrl(),
                  "    path: /contacts/{id}",
                  "    max_attempts: 2"));
      Cli cli = new Cli(folder);
      assertEquals(Watershed.FAILED, cli.run("run", spec.toString(), "--runner=direct"));
      String output = cli.output();
      assertTrue(output.contains("sink marketing"), output);
      assertTrue(output.contains("HTTP 503"), output);
      assertTrue(output.contains("requests in a row"), output);
      assertFalse(output.contains("\tat "), output);
      assertTrue(api.requests() < 2L * CONTACTS, api.requests() + " requests: it stopped early");
    }
  }

  @Test
  void validateNamesTemplateFieldsTheModelLacksAndBatchesThatNameFieldsInThePath()
      throws Exception {
    Path spec =
        spec(
            String.join(
                "\n",
                "  marketing:",
                "    type: http",
                "    base_url: http://127.0.0.1:9",
                "    path: /contacts/{id}",
                "    body: '{\"mail\": \"{e_mail}\"}'",
                "  batched:",
                "    type: http",
                "    base_url: http://127.0.0.1:9",
                "    path: /contacts/{id}",
                "    batch_size: 10"));
    Cli cli = new Cli(folder);
    assertEquals(Watershed.SPEC_ERROR, cli.run("validate", spec.toString()), cli.output());
    String output = cli.output();
    assertTrue(output.contains("sinks.marketing.body"), output);
    assertTrue(output.contains("no field 'e_mail'"), output);
    assertTrue(output.contains("sinks.batched.path"), output);
    assertTrue(output.contains("a batch goes to one path"), output);
  }
}
