package dev.watershed.pipelines.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecError;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.SpecRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conform rules through a spec, end to end on the Direct runner into DuckDB: expressions, a lookup
 * table from a CSV file, phone regions from the row's country, field-level error policies with
 * their counts and samples in the run summary and report, and what {@code validate} says about
 * mistakes in them.
 */
class ConformRulesSpecTest {
  @TempDir Path folder;

  private static final String SPEC =
      String.join(
          "\n",
          "name: contacts",
          "sources:",
          "  crm: { type: csv, path: contacts.csv }",
          "lookups:",
          "  countries: { file: countries.csv, key: name }",
          "models:",
          "  contact:",
          "    key: [contact_id]",
          "    fields:",
          "      contact_id: string",
          "      full_name: string",
          "      country: string",
          "      phone: string",
          "      email: string",
          "      credit: decimal(10,2)",
          "      since: date",
          "      tier: string",
          "conform:",
          "  - from: crm",
          "    to: contact",
          "    fields:",
          "      contact_id: { expr: \"'crm-' || id\" }",
          "      full_name: { expr: \"concat_ws(' ', first_name, last_name)\", normalize: title }",
          "      country: { from: land, lookup: { table: countries, value: iso2 } }",
          "      phone: { from: tel, normalize: phone, region_from: land, on_error: 'null' }",
          "      email: { from: mail, normalize: email, on_error: keep_raw }",
          "      credit: { from: credit, locale: de-DE }",
          "      since: created_at",
          "      tier: { expr: \"case when credit_eur > 1000 then 'gold' else 'standard' end\" }",
          "sinks:",
          "  warehouse: { type: duckdb, path: warehouse.duckdb, write: merge }",
          "dead_letter: { path: dead }",
          "report: { path: report }",
          "");

  @BeforeEach
  void writeFiles() throws Exception {
    Files.writeString(
        folder.resolve("countries.csv"),
        "name,iso2\nDeutschland,DE\nÖsterreich,AT\nVereinigtes Königreich,GB\n");
    Files.writeString(
        folder.resolve("contacts.csv"),
        String.join(
            "\n",
            "id,first_name,last_name,land,tel,mail,credit,credit_eur,created_at",
            "1,ada,LOVELACE,Deutschland,030 1234567,ada@example.com,\"1.234,50\",1234.5,"
                + "2024-03-05T10:00:00Z",
            "2,Alan,,Österreich,01 5551234,not-an-email,\"99,00\",99,2024-03-06 08:00:00",
            "3,Grace,Hopper,Vereinigtes Königreich,12,grace@example.org,\"0,5\",0.5,2024-03-07",
            "4,Nobody,Known,Atlantis,,x@example.com,1,1,2024-03-08",
            ""));
  }

  @Test
  void aSpecConformsWithExpressionsLookupsAndFieldPolicies() throws Exception {
    Path specFile = folder.resolve("contacts.yaml");
    Files.writeString(specFile, SPEC);
    Spec spec = SpecParser.parse(specFile, folder, Map.of());
    SpecRun.Outcome outcome =
        SpecRun.of(spec).on(PipelineOptionsFactory.create(), "direct").execute();
    String summary = outcome.summary().render();
    assertEquals(SpecRun.OK, outcome.exitCode(), summary + outcome.problems());

    List<String> rows = new ArrayList<>();
    try (Connection connection =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("warehouse.duckdb")).connect();
        Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT contact_id, full_name, country, phone, email, _raw_email, credit, since,"
                    + " tier FROM contact ORDER BY contact_id")) {
      while (result.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= 9; i++) {
          values.add(result.getString(i));
        }
        rows.add(String.join("|", values));
      }
    }
    assertEquals(
        List.of(
            "crm-1|Ada Lovelace|DE|+49301234567|ada@example.com|null|1234.50|2024-03-05|gold",
            // Austria's region reads the number; the bad address is kept raw beside a null.
            "crm-2|Alan|AT|+4315551234|null|not-an-email|99.00|2024-03-06|standard",
            // '12' is no phone in GB: the field is null, the contact stays.
            "crm-3|Grace Hopper|GB|null|grace@example.org|null|0.50|2024-03-07|standard"),
        rows);
    // Atlantis is not in the lookup table: that record is a dead letter, and the run reconciles.
    assertEquals(1, outcome.summary().deadLettered("contact"), summary);
    assertTrue(outcome.summary().reconciled(), summary);
    assertEquals(
        Map.of("contact", Map.of("phone", 1L, "email", 1L)),
        outcome.summary().conformedAside(),
        summary);
    assertTrue(summary.contains("phone (null)"), summary);
    assertTrue(summary.contains("email (keep_raw)"), summary);

    JsonNode report =
        new ObjectMapper().readTree(folder.resolve("report/run-report.json").toFile());
    List<String> fields = new ArrayList<>();
    for (JsonNode field : report.path("conform_fields")) {
      JsonNode sample = field.path("samples").path(0);
      fields.add(
          field.path("field").asText()
              + "|"
              + field.path("values").asLong()
              + "|"
              + sample.path("on_error").asText()
              + "|"
              + sample.path("position").asText()
              + "|"
              + sample.path("detail").asText());
    }
    assertEquals(
        List.of(
            "email|1|keep_raw|contacts.csv:3|invalid email: 'not-an-email' is not an email address",
            "phone|1|null|contacts.csv:4|invalid phone: '12' is not a valid phone number (region GB)"),
        fields);
  }

  @Test
  void validateNamesMistakesInRules() throws Exception {
    assertErrors(
        SPEC.replace("'crm-' || id", "'crm-' || ")
            .replace("concat_ws(' ', first_name, last_name)", "shout(first_name)")
            .replace("table: countries", "table: nations")
            .replace("credit: { from: credit, locale: de-DE }", "credit: { expr: \"credit > 1\" }")
            .replace("since: created_at", "since: { from: created_at, on_error: sometimes }"),
        "conform[0].fields.contact_id.expr: expression ''crm-' || ', at character",
        "conform[0].fields.full_name.expr: expression 'shout(first_name)', at character 1:"
            + " unknown function 'shout'",
        "conform[0].fields.country.lookup.table: no lookup table 'nations'",
        "conform[0].fields.credit.expr: the expression gives a boolean, which cannot fill decimal"
            + " field 'credit'",
        "conform[0].fields.since.on_error: unknown on_error 'sometimes'");
    assertErrors(
        SPEC.replace(
            "contact_id: { expr: \"'crm-' || id\" }",
            "contact_id: { from: id, on_error: keep_raw }"),
        "conform[0].fields.contact_id.on_error: 'contact_id' is a key field of model 'contact'");
    assertErrors(
        SPEC.replace("first_name, last_name", "first_name, surname"),
        "conform[0].fields.full_name: column 'surname' is not in the header of contacts.csv");
    assertErrors(
        SPEC.replace(
            "countries: { file: countries.csv, key: name }", "countries: { file: codes.csv }"),
        "lookups.countries.file: file codes.csv not found");
  }

  /**
   * Field-level source priority, declared once: billing's address and the CRM's phone, whichever
   * system's row is the latest; names from a PostgreSQL lookup table.
   */
  @Test
  void preferredSourcesAndADatabaseLookupTable() throws Exception {
    JdbcEndpoint postgres =
        JdbcEndpoint.of("jdbc:postgresql://127.0.0.1:5432/test").withUser("postgres");
    try (Connection connection = postgres.connect();
        Statement statement = connection.createStatement()) {
      statement.execute("DROP TABLE IF EXISTS conform_rules_plans");
      statement.execute("CREATE TABLE conform_rules_plans (code text, plan_name text)");
      statement.execute("INSERT INTO conform_rules_plans VALUES ('P1', 'Starter'), ('P2', 'Pro')");
    }
    Files.writeString(
        folder.resolve("crm.csv"),
        "email,phone,address,plan,updated_at\n"
            + "a@example.com,+49301111111,,P1,2024-03-01T00:00:00Z\n"
            + "b@example.com,,Crm Road 2,P2,2024-01-01T00:00:00Z\n");
    Files.writeString(
        folder.resolve("billing.csv"),
        "email,phone,address,plan,updated_at\n"
            + "a@example.com,+49302222222,Billing Street 1,P2,2024-02-01T00:00:00Z\n"
            + "b@example.com,+49303333333,Billing Street 2,P1,2024-02-01T00:00:00Z\n");
    Path specFile = folder.resolve("prefer.yaml");
    Files.writeString(
        specFile,
        String.join(
            "\n",
            "name: preferred",
            "sources:",
            "  crm: { type: csv, path: crm.csv }",
            "  billing: { type: csv, path: billing.csv }",
            "lookups:",
            "  plans:",
            "    url: jdbc:postgresql://127.0.0.1:5432/test",
            "    user: postgres",
            "    table: conform_rules_plans",
            "    key: code",
            "models:",
            "  customer:",
            "    key: [email]",
            "    fields: { email: string, phone: string, address: string, plan: string,"
                + " updated_at: timestamp }",
            "conform:",
            "  - from: crm",
            "    to: customer",
            "    fields: &fields",
            "      email: email",
            "      phone: phone",
            "      address: address",
            "      plan: { expr: \"lookup('plans', 'plan_name', plan)\" }",
            "      updated_at: updated_at",
            "  - from: billing",
            "    to: customer",
            "    fields: *fields",
            "dedupe:",
            "  customer:",
            "    keep: latest",
            "    order_by: updated_at",
            "    prefer: { address: [billing, crm], phone: [crm, billing] }",
            "sinks:",
            "  warehouse: { type: duckdb, path: prefer.duckdb, write: merge }",
            "dead_letter: { path: dead }",
            "report: { path: report-prefer }",
            ""));
    Spec spec = SpecParser.parse(specFile, folder, Map.of());
    SpecRun.Outcome outcome =
        SpecRun.of(spec).on(PipelineOptionsFactory.create(), "direct").execute();
    String summary = outcome.summary().render();
    assertEquals(SpecRun.OK, outcome.exitCode(), summary + outcome.problems());
    List<String> rows = new ArrayList<>();
    try (Connection connection =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("prefer.duckdb")).connect();
        Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery(
                "SELECT email, phone, address, plan, _source FROM customer ORDER BY email")) {
      while (result.next()) {
        rows.add(
            result.getString(1)
                + "|"
                + result.getString(2)
                + "|"
                + result.getString(3)
                + "|"
                + result.getString(4)
                + "|"
                + result.getString(5));
      }
    }
    assertEquals(
        List.of(
            // The CRM row is the latest: its plan; billing's address, the CRM's own phone.
            "a@example.com|+49301111111|Billing Street 1|Starter|crm",
            // Billing's row is the latest; the CRM has no phone for b, so billing's stays.
            "b@example.com|+49303333333|Billing Street 2|Starter|billing"),
        rows);
    assertEquals(2, outcome.summary().mergedAway("customer"), summary);
    assertTrue(outcome.summary().reconciled(), summary);
  }

  private void assertErrors(String yaml, String... expected) throws Exception {
    Path specFile = folder.resolve("broken.yaml");
    Files.writeString(specFile, yaml);
    SpecException e =
        assertThrows(SpecException.class, () -> SpecParser.parse(specFile, folder, Map.of()));
    List<String> errors = new ArrayList<>();
    for (SpecError error : e.errors()) {
      errors.add(error.path() + ": " + error.message());
    }
    for (String part : expected) {
      assertTrue(
          errors.stream().anyMatch(error -> error.startsWith(part)),
          () -> "no error starts with '" + part + "' in " + errors);
    }
  }
}
