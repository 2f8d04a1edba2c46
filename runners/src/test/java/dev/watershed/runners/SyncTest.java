package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.kafka.LocalKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Diff-based sync ({@code sync:} on a sink) through the command line against a CRM-like API ({@link
 * CrmApi}): a run sends only what the destination has not received as it is now, a refused row is
 * sent again by the next run, and mirroring deletes what the source no longer has.
 */
class SyncTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "tok-51c0ffee";

  @TempDir Path folder;

  /** Contacts 1..n; {@code country} gives contact 13's (the API refuses "XX"). */
  private void writeContacts(int n, String thirteen, Map<Integer, String> emails) throws Exception {
    List<String> lines = new ArrayList<>();
    lines.add("id,name,email,country");
    for (int id = 1; id <= n; id++) {
      String country = id == 13 ? thirteen : id % 2 == 0 ? "DE" : "FR";
      lines.add(
          id
              + ",Name "
              + id
              + ","
              + emails.getOrDefault(id, "c" + id + "@example.com")
              + ","
              + country);
    }
    Files.write(folder.resolve("contacts.csv"), lines);
  }

  private Path spec(String baseUrl, String mode) throws Exception {
    Path spec = folder.resolve("sync.yaml");
    Files.writeString(
        spec,
        String.join(
            "\n",
            "name: contacts_sync",
            "sources:",
            "  crm: { type: csv, path: contacts.csv }",
            "models:",
            "  contact:",
            "    key: [id]",
            "    fields: { id: long, name: string, email: string, country: string }",
            "conform:",
            "  - { from: crm, to: contact, fields: { id: id, name: name, email: email, country:"
                + " country } }",
            "sinks:",
            "  marketing:",
            "    type: http",
            "    base_url: " + baseUrl,
            "    auth: { type: bearer, token: \"${env:MARKETING_TOKEN}\" }",
            "    method: PUT",
            "    path: /contacts/{id}",
            "    sync: { mode: " + mode + " }",
            "dead_letter: { type: jsonl, path: dead-letters }",
            "report: { path: report }",
            ""));
    return spec;
  }

  private static List<String> sorted(List<String> log) {
    List<String> out = new ArrayList<>(log);
    out.sort(String::compareTo);
    return out;
  }

  @Test
  void aMirrorSendsOnlyWhatChangedRetriesWhatWasRefusedAndDeletesWhatIsGone() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN).refuse(c -> c.path("country").asText().equals("XX"));
      Path spec = spec(api.baseUrl(), "mirror");
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));

      // First run: every contact is new to the API; contact 13 is refused.
      writeContacts(20, "XX", Map.of());
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(20, api.log().size(), api.log().toString());
      assertEquals(19, api.contacts().size());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());

      // The same source again: only the refused contact is sent again (it is refused again).
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of("PUT /contacts/13"), api.log());
      assertTrue(
          cli.stdout().contains("(sync mirror: 19 unchanged, not sent; 0 removed)"), cli.stdout());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());

      // Contact 5 changes, 13 is fixed, 20 is gone: exactly those three reach the API.
      writeContacts(19, "DE", Map.of(5, "anna.new@example.com"));
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(
          List.of("DELETE /contacts/20", "PUT /contacts/13", "PUT /contacts/5"), sorted(api.log()));
      assertEquals(19, api.contacts().size());
      assertEquals("anna.new@example.com", api.contacts().get("5").path("email").asText());
      assertTrue(
          cli.stdout().contains("(sync mirror: 17 unchanged, not sent; 1 removed)"), cli.stdout());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
      JsonNode report = JSON.readTree(folder.resolve("report/run-report.json").toFile());
      JsonNode sync = report.path("sinks").path("marketing").path("contact").path("sync");
      assertEquals(17, sync.path("unchanged").asLong(), report.toString());
      assertEquals(1, sync.path("removed").asLong(), report.toString());

      // Nothing changed: nothing is sent.
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of(), api.log());
    }
  }

  @Test
  void anUpsertSyncNeverDeletes() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN);
      Path spec = spec(api.baseUrl(), "upsert");
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      writeContacts(5, "DE", Map.of());
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      writeContacts(4, "DE", Map.of(2, "b.new@example.com"));
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of("PUT /contacts/2"), api.log());
      assertEquals(5, api.contacts().size(), "contact 5 stays in the API");
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    }
  }

  @Test
  void anUpdateSyncSendsOnlyChangesToKeysTheSinkReceivedBefore() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN);
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      writeContacts(3, "DE", Map.of());
      Path spec = spec(api.baseUrl(), "upsert");
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      // Contact 2 changes, contact 4 is new: in update mode only contact 2 goes out.
      spec = spec(api.baseUrl(), "update");
      writeContacts(4, "DE", Map.of(2, "b.new@example.com"));
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of("PUT /contacts/2"), api.log());
      assertTrue(
          cli.stdout()
              .contains("(sync update: 2 unchanged, not sent; 0 removed; 1 new, held back)"),
          cli.stdout());
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
      assertEquals(3, api.contacts().size());
    }
  }

  @Test
  void aMirrorInBatchesSendsARemovedKeyAsABodyMarkedDeleted() throws Exception {
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN);
      Path spec = spec(api.baseUrl(), "mirror");
      Files.writeString(
          spec,
          Files.readString(spec)
              .replace("    method: PUT\n", "    method: POST\n")
              .replace(
                  "    path: /contacts/{id}\n",
                  "    path: /contacts/batch\n    batch_size: 5\n    batch_wrap: records\n"));
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      writeContacts(5, "DE", Map.of());
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(5, api.contacts().size());
      writeContacts(4, "DE", Map.of());
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      // The delete goes as a body (on_delete: send, the default in batches):
      // {"id":5,..."_deleted":true}.
      assertEquals(List.of("POST /contacts/batch"), api.log());
      assertEquals(List.of("1", "2", "3", "4"), sorted(List.copyOf(api.contacts().keySet())));
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    }
  }

  @Test
  void aStreamingSpecWithSyncIsRefusedNamingTheSinkAndTheFix() throws Exception {
    writeContacts(3, "DE", Map.of());
    Path spec = spec("http://127.0.0.1:9", "mirror");
    Files.writeString(spec, "mode: streaming\n" + Files.readString(spec));
    Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
    assertEquals(Watershed.SPEC_ERROR, cli.run("validate", spec.toString()), cli.output());
    assertTrue(cli.stderr().contains("sinks.marketing"), cli.stderr());
    assertTrue(cli.stderr().contains("run it in batch or micro-batch mode"), cli.stderr());
  }

  private static final String PG = "jdbc:postgresql://127.0.0.1:5432/test";

  /** The golden customers of a warehouse, the segment the hub sends out. */
  private void writeWarehouse(String... statements) throws Exception {
    try (Connection c =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("warehouse.duckdb")).connect();
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    }
  }

  private static List<String> pg(String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery(sql)) {
      while (rows.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= rows.getMetaData().getColumnCount(); i++) {
          row.append(i > 1 ? "|" : "").append(rows.getString(i));
        }
        out.add(row.toString());
      }
    }
    return out;
  }

  /** The messages of {@code topic}, in order (one partition), as JSON. */
  private static List<JsonNode> messages(String servers, String topic) throws Exception {
    Properties properties = new Properties();
    properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(p -> new TopicPartition(topic, p.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long end = consumer.endOffsets(partitions).values().stream().mapToLong(l -> l).sum();
      List<JsonNode> out = new ArrayList<>();
      // Every message the brokers acknowledged is below the end offsets: read up to them.
      while (partitions.stream().mapToLong(consumer::position).sum() < end) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
          out.add(JSON.readTree(record.value()));
        }
      }
      return out;
    }
  }

  @Test
  void aSegmentGoesToAnApiAPostgresTableAndATopicEachGettingOnlyWhatItLacks() throws Exception {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS sync_hub CASCADE");
      s.execute("CREATE SCHEMA sync_hub");
    }
    StringBuilder values = new StringBuilder();
    for (int id = 1; id <= 30; id++) {
      values
          .append(id == 1 ? "" : ", ")
          .append("(")
          .append(id)
          .append(", 'c")
          .append(id)
          .append("@example.com', '")
          .append(id % 3 == 0 ? "FR" : "DE")
          .append("', ")
          .append(id % 5 != 0)
          .append(")");
    }
    writeWarehouse(
        "CREATE TABLE golden (id BIGINT, email VARCHAR, country VARCHAR, active BOOLEAN)",
        "INSERT INTO golden VALUES " + values);
    try (CrmApi api = CrmApi.start();
        LocalKafka kafka = LocalKafka.start()) {
      api.requireToken(TOKEN);
      Path spec = folder.resolve("hub.yaml");
      Files.writeString(
          spec,
          String.join(
              "\n",
              "name: segment_hub",
              "sources:",
              "  segment:",
              "    type: jdbc",
              "    url: jdbc:duckdb:warehouse.duckdb",
              "    query: SELECT id, email, country FROM golden WHERE active AND country = 'DE'",
              "models:",
              "  customer:",
              "    key: [id]",
              "    fields: { id: long, email: string, country: string }",
              "conform:",
              "  - { from: segment, to: customer, fields: { id: id, email: email, country:"
                  + " country } }",
              "sinks:",
              "  crm:",
              "    type: http",
              "    base_url: " + api.baseUrl(),
              "    auth: { type: bearer, token: \"${env:MARKETING_TOKEN}\" }",
              "    method: PUT",
              "    path: /contacts/{id}",
              "    sync: { mode: mirror }",
              "  ops:",
              "    type: postgres",
              "    url: \"" + PG + "\"",
              "    user: postgres",
              "    schema: sync_hub",
              "    sync: { mode: mirror }",
              "  events:",
              "    type: kafka",
              "    bootstrap_servers: " + kafka.bootstrapServers(),
              "    topic: segment_{model}",
              "    sync: { mode: mirror }",
              "dead_letter: { type: jsonl, path: dead-letters }",
              "report: { path: report }",
              ""));
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      // DE and active: ids not divisible by 3 or 5 among 1..30: 16 customers.
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(16, api.log().size(), api.log().toString());
      assertEquals(List.of("16"), pg("SELECT count(*) FROM sync_hub.customer"));
      List<String> versions = pg("SELECT id, _version FROM sync_hub.customer ORDER BY id");
      assertEquals(16, messages(kafka.bootstrapServers(), "segment_customer").size());

      // A second run sends nothing anywhere.
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of(), api.log());
      assertEquals(versions, pg("SELECT id, _version FROM sync_hub.customer ORDER BY id"));
      assertEquals(16, messages(kafka.bootstrapServers(), "segment_customer").size());
      assertTrue(
          cli.stdout().contains("(sync mirror: 16 unchanged, not sent; 0 removed)"), cli.stdout());

      // Customer 7 changes e-mail, customer 8 leaves the segment: exactly that, everywhere.
      writeWarehouse(
          "UPDATE golden SET email = 'seven@example.com' WHERE id = 7",
          "UPDATE golden SET active = false WHERE id = 8");
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of("DELETE /contacts/8", "PUT /contacts/7"), sorted(api.log()));
      assertEquals(List.of("15"), pg("SELECT count(*) FROM sync_hub.customer"));
      assertEquals(
          List.of("seven@example.com"), pg("SELECT email FROM sync_hub.customer WHERE id = 7"));
      List<String> now = pg("SELECT id, _version FROM sync_hub.customer ORDER BY id");
      List<String> changed = new ArrayList<>(now);
      changed.removeAll(versions);
      assertEquals(1, changed.size(), "only customer 7 was written again: " + changed);
      assertTrue(changed.get(0).startsWith("7|"), changed.toString());
      assertEquals(15, api.contacts().size());
      List<JsonNode> events = messages(kafka.bootstrapServers(), "segment_customer");
      assertEquals(18, events.size(), events.toString());
      // The two new messages: customer 7's new e-mail, and customer 8 deleted.
      List<String> seven = new ArrayList<>();
      List<String> deleted = new ArrayList<>();
      for (JsonNode event : events) {
        if (event.path("id").asLong() == 7) {
          seven.add(event.path("email").asText());
        }
        if (event.path("_deleted").asBoolean()) {
          deleted.add(event.path("id").asText());
        }
      }
      assertEquals(List.of("c7@example.com", "seven@example.com"), sorted(seven));
      assertEquals(List.of("8"), deleted);
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    }
  }

  @Test
  void aDestinationThatFailsIsReportedAndCaughtUpNextRunWithoutResendingToTheOthers()
      throws Exception {
    try (Connection c = JdbcEndpoint.of(PG).withUser("postgres").connect();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS sync_down CASCADE");
      s.execute("CREATE SCHEMA sync_down");
    }
    writeContacts(12, "DE", Map.of());
    try (CrmApi api = CrmApi.start()) {
      api.requireToken(TOKEN);
      Path spec = spec(api.baseUrl(), "mirror");
      Files.writeString(
          spec,
          Files.readString(spec)
              .replace(
                  "dead_letter:",
                  String.join(
                      "\n",
                      "  ops:",
                      "    type: postgres",
                      "    url: \"" + PG + "\"",
                      "    user: postgres",
                      "    schema: sync_down",
                      "    sync: { mode: mirror }",
                      "dead_letter:")));
      // The API refuses the token: the table is loaded, the API's rows are dead letters.
      Cli wrong = new Cli(folder, Map.of("MARKETING_TOKEN", "tok-expired"));
      assertEquals(
          Watershed.FAILED, wrong.run("run", spec.toString(), "--runner=direct"), wrong.output());
      assertTrue(
          wrong.stderr().contains("error: sink marketing could not take model contact"),
          wrong.stderr());
      assertTrue(wrong.stdout().contains("reconciled"), wrong.stdout());
      assertEquals(List.of("12"), pg("SELECT count(*) FROM sync_down.contact"));
      assertEquals(0, api.contacts().size());
      assertTrue(
          Files.readString(folder.resolve("dead-letters/dead-letter.jsonl"))
              .contains("destination failed"));
      List<String> versions = pg("SELECT id, _version FROM sync_down.contact ORDER BY id");

      // With the right token the API gets all it lacks; the table, which has all, gets nothing.
      api.clearLog();
      Cli right = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      assertEquals(
          Watershed.OK, right.run("run", spec.toString(), "--runner=direct"), right.output());
      assertEquals(12, api.log().size(), api.log().toString());
      assertEquals(12, api.contacts().size());
      assertEquals(versions, pg("SELECT id, _version FROM sync_down.contact ORDER BY id"));
    }
  }
}
