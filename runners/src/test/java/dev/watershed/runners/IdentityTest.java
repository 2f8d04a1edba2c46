package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Identity resolution through the spec: golden records, crosswalk, ids stable across runs. */
class IdentityTest {
  @TempDir Path folder;
  private Cli cli;

  @BeforeEach
  void commandLine() {
    cli = new Cli(folder);
  }

  private static final String HEADER = "id,name,email,phone,dob,updated";

  private Path spec() throws IOException {
    String yaml =
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  crm: { type: csv, path: crm.csv }",
            "  shop: { type: csv, path: shop.csv }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, name: string, email: string, phone: string, dob: string, updated: timestamp }",
            "conform:",
            "  - { from: crm, to: person, fields: { person_id: { from: id, prefix: crm- }, name: name, email: email, phone: phone, dob: dob, updated: updated } }",
            "  - { from: shop, to: person, fields: { person_id: { from: id, prefix: shop- }, name: name, email: email, phone: phone, dob: dob, updated: updated } }",
            "identity:",
            "  person:",
            "    blocking: [email, phone, \"name:soundex\"]",
            "    compare:",
            "      - { field: email, method: exact }",
            "      - { field: name, method: jaro_winkler, thresholds: [0.92, 0.8] }",
            "      - { field: phone, method: exact }",
            "      - { field: dob, method: date }",
            "    threshold: 0.9",
            "    order_by: updated",
            "    source_priority: [crm, shop]",
            "    survivorship: { email: most_recent, name: most_frequent, default: non_null_first }",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    Path spec = folder.resolve("spec.yaml");
    Files.writeString(spec, yaml);
    return spec;
  }

  private void sources(List<String> crm, List<String> shop) throws IOException {
    Files.writeString(folder.resolve("crm.csv"), HEADER + "\n" + String.join("\n", crm) + "\n");
    Files.writeString(folder.resolve("shop.csv"), HEADER + "\n" + String.join("\n", shop) + "\n");
  }

  private List<String> query(String sql) throws Exception {
    return Warehouse.csv(JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")), sql);
  }

  private static final List<String> CRM =
      List.of(
          "1,Anna Smith,anna@example.com,0301111,19800512,2024-01-01T00:00:00Z",
          "2,Ben Jones,ben@example.com,0302222,19750101,2024-01-01T00:00:00Z",
          "3,Cara Diaz,cara@example.com,0303333,19900101,2024-01-01T00:00:00Z",
          "4,Anna Smith,anna.smith@other.org,0309999,19661111,2024-01-01T00:00:00Z",
          "5,Dan Brown,dan@example.com,0304444,19850101,2024-01-01T00:00:00Z",
          "6,Eve Stone,eve@example.com,0305555,19920202,2024-01-01T00:00:00Z",
          "7,Fay Hill,fay@example.com,0306666,19930303,2024-01-01T00:00:00Z");

  private static final List<String> SHOP =
      List.of(
          "1,Ann Smith,anna@example.com,0301111,19801205,2024-02-01T00:00:00Z",
          "2,Anna Smith,anna.s@example.net,0301111,19800512,2024-03-01T00:00:00Z",
          "3,Ben Jones,ben@example.com,0302222,19750101,2024-02-01T00:00:00Z",
          "4,Dan Browne,dan@example.com,0304444,19850101,2024-02-01T00:00:00Z",
          "5,Gus Wolf,gus@example.com,0307777,19940404,2024-02-01T00:00:00Z",
          "6,Eva Stone,eva.stone@example.com,0308888,19700707,2024-02-01T00:00:00Z");

  @Test
  void goldenRecordsCrosswalkAndStableIdsAcrossRuns() throws Exception {
    sources(CRM, SHOP);
    assertEquals(Watershed.OK, cli.run("run", spec().toString(), "--runner=direct"), cli::output);
    // Anna Smith (crm-1) is shop-1 (same email and phone, birth date with day and month swapped)
    // and shop-2 (a new email); her namesake crm-4 is someone else. Ben and Dan are one person each
    // across systems; Eva Stone is not Eve.
    assertEquals(
        List.of(
            "source_id,golden_id,matched_by",
            "crm-1,g-crm-1,fellegi_sunter",
            "crm-2,g-crm-2,fellegi_sunter",
            "crm-3,g-crm-3,unique",
            "crm-4,g-crm-4,unique",
            "crm-5,g-crm-5,fellegi_sunter",
            "crm-6,g-crm-6,unique",
            "crm-7,g-crm-7,unique",
            "shop-1,g-crm-1,fellegi_sunter",
            "shop-2,g-crm-1,fellegi_sunter",
            "shop-3,g-crm-2,fellegi_sunter",
            "shop-4,g-crm-5,fellegi_sunter",
            "shop-5,g-shop-5,unique",
            "shop-6,g-shop-6,unique"),
        query("SELECT source_id, golden_id, matched_by FROM person_crosswalk ORDER BY source_id"));
    assertEquals(
        List.of("source_id,unmatched,confident", "crm-1,false,true", "crm-3,true,"),
        query(
            "SELECT source_id, match_score IS NULL AS unmatched, match_score >= 0.9 AS confident"
                + " FROM person_crosswalk WHERE source_id IN ('crm-1', 'crm-3') ORDER BY 1"));
    // Survivorship: the newest email, the most frequent name, the rest from crm first.
    assertEquals(
        List.of(
            "golden_id,name,email,phone,dob,records,value_sources",
            "g-crm-1,Anna Smith,anna.s@example.net,0301111,19800512,3,"
                + "\"{\"\"person_id\"\":\"\"crm\"\",\"\"name\"\":\"\"crm\"\",\"\"email\"\":\"\"shop\"\",\"\"phone\"\":\"\"crm\"\",\"\"dob\"\":\"\"crm\"\",\"\"updated\"\":\"\"crm\"\"}\""),
        query(
            "SELECT golden_id, name, email, phone, dob, records, value_sources FROM person_golden WHERE golden_id = 'g-crm-1'"));

    // Run 2: the same records and a new one. Golden ids and first_seen stay; the new record gets
    // an id of its own. (Clusters merging across runs: GoldenRecordsTest.)
    List<String> crm = new java.util.ArrayList<>(CRM);
    crm.add("8,Hal Ford,hal@example.com,0301234,19600101,2024-04-01T00:00:00Z");
    sources(crm, SHOP);
    assertEquals(Watershed.OK, cli.run("run", spec().toString(), "--runner=direct"), cli::output);
    assertEquals(
        List.of(
            "source_id,golden_id,first_is_last",
            "crm-1,g-crm-1,false",
            "crm-8,g-crm-8,true",
            "shop-2,g-crm-1,false"),
        query(
            "SELECT source_id, golden_id, first_seen = last_seen AS first_is_last FROM person_crosswalk"
                + " WHERE source_id IN ('crm-1', 'crm-8', 'shop-2') ORDER BY 1"));
    assertEquals(List.of("golden_id"), query("SELECT golden_id FROM person_golden_merges"));
    assertEquals(List.of("count_star()", "10"), query("SELECT count(*) FROM person_golden"));
  }
}
