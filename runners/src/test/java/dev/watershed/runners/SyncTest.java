package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

  @Test
  void aSegmentGoesToAnApiAndAPostgresTableEachGettingOnlyWhatItLacks() throws Exception {
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
    try (CrmApi api = CrmApi.start()) {
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
              "dead_letter: { type: jsonl, path: dead-letters }",
              "report: { path: report }",
              ""));
      Cli cli = new Cli(folder, Map.of("MARKETING_TOKEN", TOKEN));
      // DE and active: ids not divisible by 3 or 5 among 1..30: 16 customers.
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(16, api.log().size(), api.log().toString());
      assertEquals(List.of("16"), pg("SELECT count(*) FROM sync_hub.customer"));
      List<String> versions = pg("SELECT id, _version FROM sync_hub.customer ORDER BY id");

      // A second run sends nothing anywhere.
      api.clearLog();
      assertEquals(Watershed.OK, cli.run("run", spec.toString(), "--runner=direct"), cli.output());
      assertEquals(List.of(), api.log());
      assertEquals(versions, pg("SELECT id, _version FROM sync_hub.customer ORDER BY id"));
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
      assertEquals(api.contacts().keySet().size(), 15);
      assertTrue(cli.stdout().contains("reconciled"), cli.stdout());
    }
  }
}
