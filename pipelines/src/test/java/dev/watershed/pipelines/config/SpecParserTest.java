package dev.watershed.pipelines.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.io.WriteMode;
import dev.watershed.pipelines.sinks.BigQuerySinkType;
import dev.watershed.pipelines.sinks.TableSinkType;
import dev.watershed.pipelines.sources.CsvSourceType;
import dev.watershed.pipelines.sources.JsonSourceType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecParserTest {
  @TempDir Path folder;

  /** A valid spec; the tests break one line of it at a time. Line numbers are in the comments. */
  private static final String VALID =
      String.join(
          "\n",
          "name: demo", // 1
          "mode: batch", // 2
          "sources:", // 3
          "  crm:", // 4
          "    type: csv", // 5
          "    path: contacts.csv", // 6
          "models:", // 7
          "  customer:", // 8
          "    key: [customer_id]", // 9
          "    fields:", // 10
          "      customer_id: string", // 11
          "      email: string", // 12
          "      balance: decimal(10,2)", // 13
          "      updated_at: timestamp", // 14
          "conform:", // 15
          "  - from: crm", // 16
          "    to: customer", // 17
          "    fields:", // 18
          "      customer_id: { from: id, prefix: \"crm-\" }", // 19
          "      email: { from: email, normalize: email }", // 20
          "      balance: { from: balance, normalize: amount }", // 21
          "      updated_at: changed", // 22
          "dedupe:", // 23
          "  customer: { keep: latest, order_by: updated_at }", // 24
          "sinks:", // 25
          "  warehouse: { type: duckdb, path: target/w.duckdb, write: merge }", // 26
          "  lake: { type: parquet, path: target/lake, partition_by: email }", // 27
          "  pg:", // 28
          "    type: postgres", // 29
          "    url: jdbc:postgresql://127.0.0.1:5432/test", // 30
          "    user: postgres", // 31
          "    password: ${env:WAREHOUSE_PASSWORD}", // 32
          "");

  private static final Map<String, String> ENV = Map.of("WAREHOUSE_PASSWORD", "s3cret-value");

  @BeforeEach
  void writeSourceFile() throws IOException {
    Files.writeString(
        folder.resolve("contacts.csv"),
        "id,email,balance,changed\n1,a@example.com,1,2024-01-01T00:00:00Z\n");
  }

  private Spec parse(String yaml) throws SpecException {
    return SpecParser.parse(yaml, folder, ENV);
  }

  private static String replaceLine(int line, String text) {
    List<String> lines = new java.util.ArrayList<>(List.of(VALID.split("\n", -1)));
    lines.set(line - 1, text);
    return String.join("\n", lines);
  }

  private SpecError onlyError(String yaml) {
    SpecException e = assertThrows(SpecException.class, () -> parse(yaml));
    assertEquals(1, e.errors().size(), () -> "expected one error, got: " + e.getMessage());
    return e.errors().get(0);
  }

  private void assertError(String yaml, String path, int line, String messagePart) {
    SpecError error = onlyError(yaml);
    assertEquals(path, error.path(), error::toString);
    assertEquals(line, error.line(), error::toString);
    assertTrue(error.message().contains(messagePart), () -> "message was: " + error.message());
  }

  @Test
  void parsesAValidSpec() throws SpecException {
    Spec spec = parse(VALID);
    assertEquals("demo", spec.name());
    assertEquals(List.of("crm"), List.copyOf(spec.sources().keySet()));
    assertEquals(List.of("customer_id"), spec.models().get("customer").key());
    assertEquals(WriteMode.MERGE, spec.sinks().get("warehouse").mode());
    assertEquals(WriteMode.OVERWRITE, spec.sinks().get("lake").mode());
    assertEquals(Map.of("customer", "email"), spec.sinks().get("lake").partitionBy());
    assertEquals("s3cret-value", ((TableSinkType.Config) spec.sinks().get("pg")).password());
    assertTrue(spec.secrets().contains("s3cret-value"));
    assertEquals(
        folder.resolve("contacts.csv").toString(),
        spec.resolve(((CsvSourceType.Config) spec.sources().get("crm")).path()));
  }

  @Test
  void unknownTopLevelKey() {
    assertError(VALID + "sinkz: {}\n", "sinkz", 33, "unknown key 'sinkz'");
  }

  @Test
  void unknownSourceType() {
    assertError(
        replaceLine(5, "    type: xml"), "sources.crm.type", 5, "unknown source type 'xml'");
  }

  @Test
  void missingSourceFile() {
    assertError(
        replaceLine(6, "    path: missing.csv"),
        "sources.crm.path",
        6,
        "no file matches missing.csv");
  }

  @Test
  void conformFromAnUnknownSource() {
    SpecException e =
        assertThrows(SpecException.class, () -> parse(replaceLine(16, "  - from: crn")));
    assertEquals("conform[0].from", e.errors().get(0).path());
    assertEquals(16, e.errors().get(0).line());
    assertTrue(e.errors().get(0).message().contains("no source named 'crn'"));
  }

  @Test
  void conformToAnUnknownModel() {
    SpecException e =
        assertThrows(SpecException.class, () -> parse(replaceLine(17, "    to: customers")));
    SpecError first = e.errors().get(0);
    assertEquals("conform[0].to", first.path());
    assertEquals(17, first.line());
  }

  @Test
  void fieldNotInTheModel() {
    assertError(
        replaceLine(22, "      updated: changed"),
        "conform[0].fields.updated",
        22,
        "model 'customer' has no field 'updated'");
  }

  @Test
  void badFieldType() {
    assertError(
        replaceLine(13, "      balance: money"),
        "models.customer.fields.balance",
        13,
        "unknown type 'money'");
  }

  @Test
  void keyFieldThatIsNotAField() {
    SpecException e =
        assertThrows(SpecException.class, () -> parse(replaceLine(9, "    key: [id]")));
    SpecError first = e.errors().get(0);
    assertEquals("models.customer.key", first.path());
    assertEquals(9, first.line());
  }

  @Test
  void unknownNormaliser() {
    assertError(
        replaceLine(20, "      email: { from: email, normalize: mail }"),
        "conform[0].fields.email.normalize",
        20,
        "unknown normaliser 'mail'");
  }

  @Test
  void csvColumnMissingFromTheHeader() {
    assertError(
        replaceLine(20, "      email: { from: email_address, normalize: email }"),
        "conform[0].fields.email",
        20,
        "column 'email_address' is not in the header of contacts.csv");
  }

  @Test
  void mergeIntoAFileSink() {
    assertError(
        replaceLine(27, "  lake: { type: parquet, path: target/lake, write: merge }"),
        "sinks.lake.write",
        27,
        "merge needs a table sink");
  }

  @Test
  void dedupeByAnUnknownField() {
    assertError(
        replaceLine(24, "  customer: { keep: latest, order_by: changed_at }"),
        "dedupe.customer",
        24,
        "has no field 'changed_at'");
  }

  @Test
  void missingEnvironmentVariableNamesTheVariableNotAValue() {
    SpecException e =
        assertThrows(SpecException.class, () -> SpecParser.parse(VALID, folder, Map.of()));
    SpecError error = e.errors().get(0);
    assertEquals("sinks.pg.password", error.path());
    assertEquals(32, error.line());
    assertTrue(error.message().contains("WAREHOUSE_PASSWORD is not set"));
  }

  @Test
  void invalidYamlReportsTheLine() {
    SpecError error = onlyError(replaceLine(12, "      email: [string"));
    assertEquals("(yaml)", error.path());
    assertTrue(error.line() >= 12, error::toString);
  }

  @Test
  void wrongValueKind() {
    assertError(replaceLine(2, "mode: [batch]"), "mode", 2, "expected a single value");
  }

  @Test
  void reportsEveryProblemAtOnce() {
    String yaml =
        replaceLine(5, "    type: xml")
            .replace(
                "  customer: { keep: latest, order_by: updated_at }",
                "  customer: { keep: newest }");
    SpecException e = assertThrows(SpecException.class, () -> parse(yaml));
    List<String> paths = e.errors().stream().map(SpecError::path).toList();
    assertTrue(paths.contains("sources.crm.type"), paths::toString);
    assertTrue(paths.contains("dedupe.customer.keep"), paths::toString);
  }

  private static String withQuality(String... lines) {
    return VALID + "quality:\n  customer:\n" + String.join("\n", lines) + "\n";
  }

  @Test
  void parsesQualityRules() throws SpecException {
    Spec spec =
        parse(
            withQuality(
                "    - not_null: email",
                "    - expression: \"balance is null or balance >= 0\"",
                "      name: no_debt",
                "      on_failure: warn",
                "    - row_count: { min: 1, min_ratio_of_last_run: 0.8 }",
                "    - freshness: { column: updated_at, within: 2d }"));
    List<String> rules =
        spec.qualityOf("customer").stream().map(r -> r.name() + ":" + r.onFailure()).toList();
    assertEquals(
        List.of(
            "not_null(email):DEAD_LETTER",
            "no_debt:WARN",
            "row_count:FAIL",
            "freshness(updated_at):FAIL"),
        rules);
  }

  @Test
  void aDecimalSplitByAFlowMappingSaysHowToWriteIt() {
    SpecException e =
        assertThrows(
            SpecException.class,
            () ->
                parse(VALID.replace("      balance: decimal(10,2)", "      balance: decimal(10")));
    assertTrue(
        e.getMessage().contains("inside { } the comma of decimal(p,s) ends the value"),
        e.getMessage());
  }

  @Test
  void aBadExpressionNamesItsPathLineAndPosition() {
    assertError(
        withQuality("    - expression: \"balance >= 0 and mail is not null\""),
        "quality.customer[0].expression",
        35,
        "at character 18: no column 'mail'");
  }

  @Test
  void aDatasetRuleCannotDeadLetter() {
    assertError(
        withQuality("    - row_count: { min: 1 }", "      on_failure: dead_letter"),
        "quality.customer[0].on_failure",
        36,
        "can only warn or fail");
  }

  @Test
  void unknownRulesAndColumnsInQuality() {
    assertError(
        withQuality("    - not_empty: email"),
        "quality.customer[0].not_empty",
        35,
        "unknown key 'not_empty'");
    assertError(
        withQuality("    - null_rate: { column: phone, max: 0.1 }"),
        "quality.customer[0].null_rate.column",
        35,
        "has no field 'phone'");
    assertError(
        withQuality("    - freshness: { column: updated_at, within: soon }"),
        "quality.customer[0].freshness.within",
        35,
        "'soon' is not a duration");
  }

  @Test
  void identityAndHistorySections() throws SpecException {
    String yaml =
        VALID
            + String.join(
                "\n",
                "identity:",
                "  customer:",
                "    blocking: [email, \"email:first3+balance\"]",
                "    compare: [{ field: email, method: exact }, { field: balance, method: numeric, tolerance: 1 }]",
                "    match: \"email = 1 or balance = 1\"",
                "history:",
                "  customer: { scd2: [email], strategy: timestamp, deletes: new_record }",
                "");
    Spec spec = parse(yaml);
    assertEquals("email = 1 or balance = 1", spec.identity().get("customer").matchRule());
    assertEquals("updated_at", spec.history().get("customer").updatedAt());
    assertError(
        yaml.replace("match: \"email = 1 or balance = 1\"", "match: \"mail = 1\""),
        "identity.customer.match",
        37,
        "no column 'mail'");
    assertError(
        yaml.replace("strategy: timestamp", "strategy: snapshot"),
        "history.customer.strategy",
        39,
        "unknown strategy 'snapshot'");
  }

  @Test
  void identityIncludesRecordsOfOtherModels() throws SpecException {
    String yaml =
        VALID
                .replace(
                    "conform:\n",
                    String.join(
                        "\n",
                        "  account:", // 15
                        "    key: [account_id]", // 16
                        "    fields: { account_id: string, owner: string, opened: date }", // 17
                        "conform:", // 18
                        ""))
                .replace(
                    "dedupe:\n",
                    "  - { from: crm, to: account, fields: { account_id: id, owner: email } }\ndedupe:\n")
            + String.join(
                "\n",
                "identity:", // 37
                "  customer:", // 38
                "    blocking: [email]", // 39
                "    compare: [{ field: email, method: exact }]", // 40
                "    include:", // 41
                "      account: { email: owner }", // 42
                "");
    assertEquals(
        Map.of("account", Map.of("email", "owner")),
        parse(yaml).identity().get("customer").include());
    assertError(
        yaml.replace("{ email: owner }", "{ email: opened }"),
        "identity.customer.include.account.email",
        42,
        "'opened' is date but 'email' is string");
    assertError(
        yaml.replace("{ email: owner }", "{ email: owner_email }"),
        "identity.customer.include.account.email",
        42,
        "model 'account' has no field 'owner_email'");
    assertError(
        yaml.replace("account: { email: owner }", "invoice: { email: owner }"),
        "identity.customer.include.invoice",
        42,
        "no model named 'invoice'");
    assertError(
        yaml.replace(
            "warehouse: { type: duckdb, path: target/w.duckdb, write: merge }",
            "warehouse: { type: duckdb, path: target/w.duckdb, write: merge, models: [customer] }"),
        "sinks.warehouse",
        30,
        "must write 'account' too");
  }

  @Test
  void bigQuerySinks() throws SpecException {
    String yaml =
        replaceLine(
            27,
            "  lake: { type: bigquery, project: acme-prod, dataset: crm, partition_by: updated_at,"
                + " cluster_by: [email], method: at_least_once }");
    BigQuerySinkType.Config sink = (BigQuerySinkType.Config) parse(yaml).sinks().get("lake");
    assertEquals(WriteMode.MERGE, sink.mode());
    assertEquals("acme-prod:crm.customer", sink.tableOf("customer"));
    assertTrue(sink.atLeastOnce());
    assertEquals(List.of("email"), sink.clusterBy());
    assertEquals(Map.of("customer", "updated_at"), sink.partitionBy());
    assertError(
        yaml.replace("method: at_least_once", "write: overwrite"),
        "sinks.lake.write",
        27,
        "appends or merges");
    assertError(
        yaml.replace("method: at_least_once", "method: sometimes"),
        "sinks.lake.method",
        27,
        "unknown method 'sometimes'");
    assertError(yaml.replace("project: acme-prod, ", ""), "sinks.lake", 27, "'project'");
    assertError(
        yaml.replace("partition_by: updated_at", "partition_by: email"),
        "sinks.lake.partition_by",
        27,
        "'email' of 'customer' is neither");
  }

  @Test
  void fellegiSunterWeightsGivenInTheSpec() throws SpecException {
    String yaml =
        VALID
            + String.join(
                "\n",
                "identity:",
                "  customer:",
                "    blocking: [email]",
                "    prior: 0.2",
                "    compare:",
                "      - { field: email, method: exact, m: [0.9, 0.1], u: [0.05, 0.95] }",
                "");
    dev.watershed.transforms.identity.FellegiSunter weights =
        parse(yaml).identity().get("customer").weights();
    assertEquals(0.2, weights.share(), 1e-9);
    assertEquals(Math.log(0.9 / 0.05) / Math.log(2), weights.weight(new int[] {0}), 1e-9);
    assertError(
        yaml.replace("m: [0.9, 0.1]", "m: [0.9, 0.2]"),
        "identity.customer.compare",
        38,
        "m must be positive and sum to 1");
  }

  @Test
  void secretsFromFilesAreResolvedAndRemembered() throws Exception {
    Files.writeString(folder.resolve("pw.txt"), "from-a-file\n");
    Spec spec = parse(replaceLine(32, "    password: ${file:pw.txt}"));
    assertEquals("from-a-file", ((TableSinkType.Config) spec.sinks().get("pg")).password());
    assertTrue(spec.secrets().contains("from-a-file"));
  }

  @Test
  void csvSourcesTakeTheOptionsRealExportsNeed() throws Exception {
    Files.writeString(
        folder.resolve("contacts.csv"),
        "# exported by the CRM\nid;email;balance;changed\n1;a@example.com;1;2024-01-01T00:00:00Z\n");
    Spec spec =
        parse(
            replaceLine(
                6,
                "    path: contacts.csv\n    delimiter: ';'\n    escape: '\\'\n    comment: '#'\n"
                    + "    encoding: ISO-8859-1\n    max_record_bytes: 1000"));
    dev.watershed.io.files.CsvFormat format =
        ((CsvSourceType.Config) spec.sources().get("crm")).format();
    assertEquals(';', format.delimiter());
    assertEquals('"', format.quote());
    assertEquals('\\', format.escape());
    assertEquals('#', format.comment());
    assertEquals("ISO-8859-1", format.encoding());
    assertEquals(1000, format.maxRecordBytes());
    assertTrue(format.header());
    writeSourceFile();
    assertError(
        replaceLine(6, "    path: contacts.csv\n    encoding: klingon"),
        "sources.crm.encoding",
        7,
        "unknown encoding 'klingon'");
    assertError(
        replaceLine(6, "    path: contacts.csv\n    encoding: UTF-16"),
        "sources.crm.encoding",
        7,
        "encoding UTF-16 is not supported for CSV");
    assertError(
        replaceLine(6, "    path: contacts.csv\n    columns: [a, b]"),
        "sources.crm.columns",
        7,
        "set header: false");
    assertError(
        replaceLine(6, "    path: contacts.csv\n    quote: ','"),
        "sources.crm",
        5,
        "cannot also be the quote");
  }

  @Test
  void jsonDocumentSourcesNameWhereTheirRecordsAre() throws Exception {
    Files.writeString(folder.resolve("export.json"), "{\"data\": []}");
    String json = replaceLine(5, "    type: json").replace("contacts.csv", "export.json");
    assertEquals("", ((JsonSourceType.Config) parse(json).sources().get("crm")).recordsAt());
    assertEquals(
        "/data",
        ((JsonSourceType.Config)
                parse(json.replace("path: export.json", "path: export.json\n    records_at: /data"))
                    .sources()
                    .get("crm"))
            .recordsAt());
    assertError(
        json.replace("path: export.json", "path: export.json\n    records_at: data"),
        "sources.crm.records_at",
        7,
        "expected a JSON pointer");
  }
}
