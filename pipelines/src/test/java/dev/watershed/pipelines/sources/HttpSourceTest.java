package dev.watershed.pipelines.sources;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.RunState;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecException;
import dev.watershed.pipelines.config.SpecParser;
import dev.watershed.pipelines.run.Failures;
import dev.watershed.pipelines.run.SpecRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code type: http} sources against a local API ({@link ApiServer}) on real sockets, run through
 * the run API on the Direct runner into DuckDB: every pagination and auth style, retries, the
 * request budget, incremental reads, dead letters and secrets kept out of every output.
 */
class HttpSourceTest {
  @TempDir Path folder;
  private ApiServer api;

  @BeforeEach
  void start() throws Exception {
    api = new ApiServer();
  }

  @AfterEach
  void stop() {
    api.close();
  }

  private static final Map<String, String> ENV =
      Map.of(
          "PAY_KEY", ApiServer.PAYMENTS_KEY,
          "CRM_SECRET", ApiServer.CLIENT_SECRET,
          "CRM_KEY", ApiServer.QUERY_KEY,
          "CRM_PASSWORD", ApiServer.BASIC_PASSWORD);

  /** The payments API's customers into a customer table. */
  private String customers(String extra) {
    return String.join(
        "\n",
        "name: api_customers",
        "sources:",
        "  payments:",
        "    type: http",
        "    base_url: " + api.url() + "/v1",
        "    path: /customers",
        "    params: { limit: 10 }",
        "    records_at: /data",
        "    auth: { type: bearer, token: \"${env:PAY_KEY}\" }",
        "    paginate: { type: cursor, param: starting_after, from_record: id, has_more_at:"
            + " /has_more }",
        extra,
        "models:",
        "  customer:",
        "    key: [customer_id]",
        "    fields: { customer_id: string, email: string, country: string, updated_at:"
            + " timestamp }",
        "conform:",
        "  - from: payments",
        "    to: customer",
        "    fields:",
        "      customer_id: id",
        "      email: { from: email, normalize: email }",
        "      country: address.country",
        "      updated_at: updated_at",
        "sinks:",
        "  w: { type: duckdb, path: w.duckdb }",
        "dead_letter: { path: dead }",
        "report: { path: report }",
        "");
  }

  /** A CRM resource's contacts into a contact table. */
  private String contacts(String source) {
    return String.join(
        "\n",
        "name: api_contacts",
        "sources:",
        "  crm:",
        "    type: http",
        "    base_url: " + api.url(),
        source,
        "models:",
        "  contact:",
        "    key: [contact_id]",
        "    fields: { contact_id: long, email: string, modified: timestamp }",
        "conform:",
        "  - { from: crm, to: contact, fields: { contact_id: contact_id, email: email, modified:"
            + " modified } }",
        "sinks:",
        "  w: { type: duckdb, path: w.duckdb }",
        "dead_letter: { path: dead }",
        "report: { path: report }",
        "");
  }

  private static final String OAUTH =
      "    auth: { type: oauth2, token_url: TOKEN, client_id: watershed, client_secret:"
          + " \"${env:CRM_SECRET}\" }";

  private String oauth() {
    return OAUTH.replace("TOKEN", api.url() + "/oauth/token");
  }

  private SpecRun.Outcome run(String yaml) throws Exception {
    Spec spec = SpecParser.parse(yaml, folder, ENV);
    return SpecRun.of(spec).on(PipelineOptionsFactory.create(), "direct").execute();
  }

  private List<String> rows(String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection connection =
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")).connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      while (result.next()) {
        StringBuilder row = new StringBuilder();
        for (int c = 1; c <= result.getMetaData().getColumnCount(); c++) {
          row.append(c > 1 ? "|" : "").append(result.getString(c));
        }
        out.add(row.toString());
      }
    }
    return out;
  }

  private void assertOk(SpecRun.Outcome outcome) {
    assertEquals(SpecRun.OK, outcome.exitCode(), outcome.problems().toString());
  }

  private String deadLetters() throws Exception {
    Path file = folder.resolve("dead/dead-letter.jsonl");
    return Files.exists(file) ? Files.readString(file) : "";
  }

  @Test
  void aCursorPagedBearerApiIsReadWholeAndAMalformedRecordIsADeadLetter() throws Exception {
    SpecRun.Outcome outcome = run(customers(""));
    assertOk(outcome);
    assertEquals(
        List.of("57|57"), rows("SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM customer"));
    // E-mails were normalised on the way: the API's upper-case, padded ones too.
    assertEquals(
        List.of("0"), rows("SELECT COUNT(*) FROM customer WHERE email <> lower(trim(email))"));
    assertEquals(58, outcome.summary().read("payments"), "57 customers and the malformed record");
    String dead = deadLetters();
    assertEquals(1, dead.lines().count(), dead);
    assertTrue(
        dead.contains("not a JSON object") && dead.contains("GET /customers page 4 #4"), dead);
    // 58 records, 10 a page: 6 pages, then has_more is false.
    assertEquals(6, api.requests.stream().filter(r -> r.startsWith("GET /v1/customers")).count());
    assertTrue(api.requests.get(1).contains("starting_after=cus_010"), api.requests.toString());
  }

  @Test
  void offsetPagesWithOAuthClientCredentialsRenewATokenThatExpiresMidRun() throws Exception {
    api.tokenUses = 2;
    SpecRun.Outcome outcome =
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/contacts",
                    "    records_at: /results",
                    oauth(),
                    "    paginate: { type: offset, limit: 10, total_at: /total }")));
    assertOk(outcome);
    assertEquals(
        List.of("43|1001|1043"),
        rows("SELECT COUNT(*), MIN(contact_id), MAX(contact_id) FROM contact"));
    assertTrue(api.tokensIssued() >= 2, "the expired token was renewed: " + api.tokensIssued());
    // 43 contacts, 10 a page, the total says when to stop: 5 pages, no empty one, and each
    // expiry's refused request asked again once with a new token.
    assertEquals(
        5 + api.tokensIssued() - 1,
        api.requests.stream().filter(r -> r.startsWith("GET /crm/contacts")).count(),
        api.requests.toString());
  }

  @Test
  void linkHeadersPageNumbersAndNextUrlsEachReadEveryRecord() throws Exception {
    assertOk(
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/linked",
                    oauth(),
                    "    paginate: { type: link_header }"))));
    assertEquals(List.of("43"), rows("SELECT COUNT(*) FROM contact"));

    assertOk(
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/pages",
                    "    records_at: /items",
                    oauth(),
                    "    paginate: { type: page_number, param: page, size_param: per_page, size:"
                        + " 10, total_at: /meta/total }"))));
    assertEquals(List.of("43"), rows("SELECT COUNT(*) FROM contact"));
    assertEquals(5, api.requests.stream().filter(r -> r.startsWith("GET /crm/pages")).count());

    assertOk(
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/feed",
                    "    records_at: /results",
                    oauth(),
                    "    paginate: { type: next_url, next_at: /next }"))));
    assertEquals(List.of("43"), rows("SELECT COUNT(*) FROM contact"));
    assertEquals(3, api.requests.stream().filter(r -> r.startsWith("GET /crm/feed")).count());
  }

  @Test
  void anApiKeyInTheQueryIsSentOnEveryPageAndNeverShown() throws Exception {
    String keyed =
        String.join(
            "\n",
            "    path: /crm/keyed",
            "    auth: { type: api_key, name: api_key, value: \"${env:CRM_KEY}\", in: query }",
            "    paginate: { type: link_header }");
    assertOk(run(contacts(keyed)));
    assertEquals(List.of("43"), rows("SELECT COUNT(*) FROM contact"));
    assertTrue(
        api.requests.stream()
            .filter(r -> r.startsWith("GET /crm/keyed"))
            .allMatch(r -> r.contains("api_key=")),
        api.requests.toString());

    // A resource that does not exist: not retried, the run fails naming it and the fix.
    int before = api.requests.size();
    Exception failed =
        assertThrows(
            Exception.class, () -> run(contacts(keyed.replace("/crm/keyed", "/crm/nothing"))));
    String problems = Failures.describe(failed);
    assertTrue(
        problems.contains("source crm: GET " + api.url() + "/crm/nothing?api_key=***"), problems);
    assertTrue(problems.contains("answered HTTP 404"), problems);
    assertTrue(problems.contains("check base_url and the resource's path"), problems);
    assertFalse(problems.contains(ApiServer.QUERY_KEY), problems);
    assertEquals(before + 1, api.requests.size(), "a 404 is not retried");
    String report = Files.readString(folder.resolve("report/run-report.json"));
    assertFalse(report.contains(ApiServer.QUERY_KEY), report);
  }

  @Test
  void rateLimitsAndServerErrorsAreWaitedOutWithinTheRequestBudget() throws Exception {
    api.tooManyRequests.set(2);
    api.serverErrors.set(0);
    SpecRun.Outcome outcome = run(customers("    max_requests_per_second: 4"));
    assertOk(outcome);
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    // Two 429s then six pages; never more than the budget in a second of the server's clock
    // (one more at most where the budget's ticks straddle the server's second).
    assertEquals(8, api.requests.size(), api.requests.toString());
    assertTrue(api.busiestSecond() <= 5, "busiest second: " + api.busiestSecond());

    api.requests.clear();
    api.serverErrors.set(2);
    assertOk(run(customers("")));
    assertEquals(8, api.requests.size(), "two 500s retried: " + api.requests);
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
  }

  @Test
  void aPostSearchWithAJsonBodyAndBasicAuthReadsWhatTheBodySelects() throws Exception {
    SpecRun.Outcome outcome =
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/search",
                    "    method: POST",
                    "    body: '{\"company\": \"Acme GmbH\"}'",
                    "    records_at: /results",
                    "    auth: { type: basic, user: etl, password: \"${env:CRM_PASSWORD}\" }")));
    assertOk(outcome);
    long acme =
        api.contacts().stream().filter(c -> c.path("company").asText().equals("Acme GmbH")).count();
    assertTrue(acme > 1 && acme < api.contacts().size(), "the body selects some: " + acme);
    assertEquals(List.of(String.valueOf(acme)), rows("SELECT COUNT(*) FROM contact"));
    assertEquals(List.of("POST /crm/search"), api.requests);
    String report = Files.readString(folder.resolve("report/run-report.json"));
    assertFalse(report.contains(ApiServer.BASIC_PASSWORD), report);
  }

  /**
   * A 429 says when to come back as Retry-After in seconds, as an HTTP date, or only as
   * RateLimit-Reset; each is waited for (the next request comes no sooner than it says).
   */
  @Test
  void a429IsWaitedOutAsRetryAfterSecondsAnHttpDateOrRateLimitResetSays() throws Exception {
    for (String style : List.of("seconds", "date", "reset")) {
      api.requests.clear();
      api.retryAfterStyle = style;
      api.tooManyRequests.set(1);
      api.lastRefusal = 0;
      api.firstAfterRefusal = 0;
      assertOk(run(customers("")));
      assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"), style);
      assertEquals(7, api.requests.size(), style + ": one 429, then six pages");
      long waitedMillis = (api.firstAfterRefusal - api.lastRefusal) / 1_000_000;
      // Seconds and reset say 1 s; the HTTP date says 2 s ahead at one-second resolution, so at
      // least 1 s less the moment between the server's clock reading and the client's.
      assertTrue(waitedMillis >= 900, style + ": waited " + waitedMillis + " ms");
    }
  }

  /** A per-minute budget spaces the sends evenly: 600 a minute is one every 100 ms. */
  @Test
  void aPerMinuteBudgetSpacesTheRequestsEvenly() throws Exception {
    assertOk(run(customers("    max_requests_per_minute: 600")));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertEquals(6, api.arrivals.size(), api.requests.toString());
    // Sends leave at least 100 ms apart, so the last five span at least 400 ms; a busy machine can
    // only stretch that, except by delaying one arrival more than another (hence 350). The first
    // is left out: it opens the connection, which delays its arrival more than the others'.
    // Unspaced, the pages take a few milliseconds each.
    long spanMillis = (api.arrivals.get(5) - api.arrivals.get(1)) / 1_000_000;
    assertTrue(spanMillis >= 350, "the last five requests within " + spanMillis + " ms");
  }

  @Test
  void aPageSlowerThanTheTimeoutIsRetried() throws Exception {
    // Far slower than the timeout, which is far above what a page takes even on a busy machine.
    api.slowMillis = 10_000;
    api.slowAnswers.set(1);
    assertOk(run(customers("    timeout: 2s")));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    // The slow answer was given up on after 2 s and the page asked for again.
    assertEquals(7, api.requests.size(), api.requests.toString());
    assertEquals(api.requests.get(0), api.requests.get(1));
  }

  @Test
  void anIncrementalReadAsksOnlyForWhatChangedSinceTheLastRun() throws Exception {
    String yaml = customers("    incremental: { param: updated_since, lookback: 5s }");
    Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    assertOk(run(yaml));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertTrue(
        api.requests.stream().noneMatch(r -> r.contains("updated_since")), api.requests.toString());

    // cus_005 changes after the first run started; nothing else does.
    api.update("cus_005", "anna.new@example.com", Instant.now().plusSeconds(1).toString());
    api.requests.clear();
    assertOk(run(yaml));
    String first = api.requests.get(0);
    assertTrue(first.contains("updated_since="), first);
    String since =
        java.net.URLDecoder.decode(
            first.substring(first.indexOf("updated_since=") + 14).split("&")[0],
            java.nio.charset.StandardCharsets.UTF_8);
    // The first run's start, less the 5 s look-back.
    assertFalse(Instant.parse(since).isBefore(before.minusSeconds(5)), since);
    assertEquals(1, api.requests.size(), "one page of changes: " + api.requests);
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertEquals(
        List.of("anna.new@example.com"),
        rows("SELECT email FROM customer WHERE customer_id = 'cus_005'"));
  }

  @Test
  void aCursorFieldMarkIsTheHighestValueReadSoAServerClockBehindOursMissesNothing()
      throws Exception {
    String yaml = customers("    incremental: { param: updated_since, cursor_field: updated_at }");
    assertOk(run(yaml));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertEquals("2026-11-22T23:19:00Z", mark(), "the highest updated_at read");

    // The API's clock runs days behind this machine's: a change it makes now is stamped before
    // this machine's run start, which a mark taken from this machine's clock would skip.
    api.update("cus_005", "anna.late@example.com", "2026-11-22T23:30:00Z");
    api.requests.clear();
    assertOk(run(yaml));
    assertEquals(1, api.requests.size(), api.requests.toString());
    assertTrue(
        api.requests.get(0).contains("updated_since=2026-11-22T23%3A19%3A00Z"),
        api.requests.get(0));
    assertEquals(
        List.of("anna.late@example.com"),
        rows("SELECT email FROM customer WHERE customer_id = 'cus_005'"));
    assertEquals("2026-11-22T23:30:00Z", mark());

    // A run that reads only what it already had keeps the mark (the API's since is inclusive).
    assertOk(run(yaml));
    assertEquals("2026-11-22T23:30:00Z", mark());
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
  }

  @Test
  void timeSlicesAreReadInParallelEachWithItsBoundsAndEveryRecordOnce() throws Exception {
    api.latencyMillis = 150;
    String yaml =
        customers(
            "    slices: { start_param: updated_gte, end_param: updated_lt, from: 2026-11-01, to:"
                + " 2026-11-29, every: 7d, format: epoch_seconds }");
    assertOk(run(yaml));
    assertEquals(
        List.of("57|57"), rows("SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM customer"));
    assertEquals("", deadLetters(), "the malformed record travels with the unsliced listing only");
    // Four weeks, each its own first request with its bounds in seconds since the epoch.
    List<String> firsts =
        api.requests.stream().filter(r -> !r.contains("starting_after")).sorted().toList();
    long nov1 = Instant.parse("2026-11-01T00:00:00Z").getEpochSecond();
    List<String> expected = new ArrayList<>();
    for (int week = 0; week < 4; week++) {
      expected.add(
          "GET /v1/customers?limit=10&updated_gte="
              + (nov1 + week * 7 * 86_400)
              + "&updated_lt="
              + (nov1 + (week + 1) * 7 * 86_400));
    }
    assertEquals(expected, firsts);
    // Each week holds 14 or 15 customers: two pages of 10, read within its slice.
    assertEquals(8, api.requests.size(), api.requests.toString());
    assertTrue(
        api.requests.stream().allMatch(r -> r.contains("updated_lt=")), api.requests.toString());
    assertTrue(api.peakInFlight.get() >= 2, "slices read in parallel: " + api.peakInFlight.get());
  }

  @Test
  void slicesThatCannotBeReadAreRefusedByTheParserNamingTheKey() {
    String[][] cases = {
      {"from: 2020-01-01, every: 1m", "more than 10000 slices"},
      {"from: 2026-11-01, every: 12h, format: date", "must last whole days"},
      {"from: 2026-11-01, to: 2026-10-01, every: 1d", "must end after they start"},
      {"from: yesterday, every: 1d", "expected an ISO instant"},
      {"from: 2026-11-01", "give how long a slice is"},
    };
    for (String[] bad : cases) {
      String yaml = customers("    slices: { start_param: updated_gte, " + bad[0] + " }");
      SpecException e =
          assertThrows(SpecException.class, () -> SpecParser.parse(yaml, folder, ENV), bad[0]);
      assertTrue(e.getMessage().contains("sources.payments.slices."), e.getMessage());
      assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
    }
  }

  @Test
  void maxConcurrentRequestsKeepsParallelSlicesToThatManyRequestsInFlight() throws Exception {
    api.latencyMillis = 150;
    String yaml =
        customers(
            "    max_concurrent_requests: 1\n"
                + "    slices: { start_param: updated_gte, end_param: updated_lt, from:"
                + " 2026-11-01, to: 2026-11-29, every: 7d, format: epoch_seconds }");
    assertOk(run(yaml));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertEquals(8, api.requests.size(), api.requests.toString());
    assertEquals(1, api.peakInFlight.get());
  }

  @Test
  void aChildResourceIsReadForEveryParentRecordWithTheParentsFields() throws Exception {
    String yaml =
        String.join(
            "\n",
            "name: api_invoices",
            "sources:",
            "  payments:",
            "    type: http",
            "    base_url: " + api.url() + "/v1",
            "    auth: { type: bearer, token: \"${env:PAY_KEY}\" }",
            "    resources:",
            "      - path: /customers/{id}/invoices",
            "        records_at: /data",
            "        parent:",
            "          path: /customers",
            "          params: { limit: 20 }",
            "          records_at: /data",
            "          paginate: { type: cursor, param: starting_after, from_record: id, has_more_at:"
                + " /has_more }",
            "models:",
            "  invoice:",
            "    key: [invoice_id]",
            "    fields: { invoice_id: string, customer_id: string, customer_email: string,"
                + " amount_due: long, currency: string }",
            "conform:",
            "  - from: payments",
            "    to: invoice",
            "    fields:",
            "      invoice_id: id",
            "      customer_id: parent.id",
            "      customer_email: { from: parent.email, normalize: email }",
            "      amount_due: amount_due",
            "      currency: { from: currency, normalize: upper }",
            "sinks:",
            "  w: { type: duckdb, path: w.duckdb }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    assertOk(run(yaml));
    int invoices = 0;
    for (JsonNode customer : api.customersSince(null)) {
      invoices += ApiServer.invoicesOf(customer.get("id").asText()).size();
    }
    assertEquals(38, invoices, "two for every third of the 57 customers");
    assertEquals(List.of(invoices + "|EUR"), rows("SELECT COUNT(*), MIN(currency) FROM invoice"));
    // The parent's fields travel with each child record.
    assertEquals(
        List.of("cus_003|301"),
        rows("SELECT customer_id, amount_due FROM invoice WHERE invoice_id = 'in_3_1'"));
    assertEquals(
        List.of("0"),
        rows(
            "SELECT COUNT(*) FROM invoice WHERE customer_email IS NULL OR customer_email <>"
                + " lower(trim(customer_email))"));
    // One request per parent page, then one per customer.
    assertEquals(
        3 + 57,
        api.requests.stream().filter(r -> r.startsWith("GET /v1/customers")).count(),
        api.requests.toString());
  }

  @Test
  void aGraphQlQueryPagesThroughPageInfo() throws Exception {
    String source =
        String.join(
            "\n",
            "name: api_graphql",
            "sources:",
            "  payments:",
            "    type: http",
            "    base_url: " + api.url(),
            "    path: /graphql",
            "    query: \"query($first: Int, $after: String) { customers(first: $first, after:"
                + " $after) { nodes { id email } pageInfo { hasNextPage endCursor } } }\"",
            "    variables: { first: 25 }",
            "    records_at: /data/customers/nodes",
            "    auth: { type: bearer, token: \"${env:PAY_KEY}\" }",
            "    paginate: { type: graphql, page_info_at: /data/customers/pageInfo }",
            "models:",
            "  customer:",
            "    key: [customer_id]",
            "    fields: { customer_id: string, email: string }",
            "conform:",
            "  - { from: payments, to: customer, fields: { customer_id: id, email: { from: email,"
                + " normalize: email } } }",
            "sinks:",
            "  w: { type: duckdb, path: w.duckdb }",
            "dead_letter: { path: dead }",
            "report: { path: report }",
            "");
    assertOk(run(source));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
    assertEquals(3, api.graphqlBodies.size(), api.graphqlBodies.toString());
    assertTrue(
        api.graphqlBodies.get(0).contains("\"variables\":{\"first\":25}"),
        api.graphqlBodies.get(0));
    assertTrue(
        api.graphqlBodies.get(1).contains("\"first\":25,\"after\":\"25\""),
        api.graphqlBodies.get(1));
  }

  @Test
  void aRequestThatStillFailsIsADeadLetterWhenTheSpecSaysSo() throws Exception {
    api.serverErrors.set(1_000);
    SpecRun.Outcome outcome =
        run(customers("    on_error: dead_letter\n    max_attempts: 2\n    max_retry_time: 10s"));
    assertOk(outcome);
    assertEquals(List.of("0"), rows("SELECT COUNT(*) FROM customer"));
    String dead = deadLetters();
    assertTrue(
        dead.contains("request failed") && dead.contains("answered HTTP 500 after 2 attempts"),
        dead);
    assertTrue(
        dead.contains("GET " + api.url().replace("/", "\\/") + "\\/v1\\/customers?limit=10")
            || dead.contains("GET " + api.url() + "/v1/customers?limit=10"),
        dead);
    assertFalse(dead.contains(ApiServer.PAYMENTS_KEY), dead);
    assertEquals(2, api.requests.size(), "tried twice: " + api.requests);
  }

  @Test
  void aFailedIncrementalRunLeavesTheMarkWhereItWas() throws Exception {
    String yaml = customers("    incremental: { param: updated_since }\n    max_attempts: 1");
    assertOk(run(yaml));
    String mark = mark();
    assertTrue(mark != null && !mark.isEmpty(), "the first run committed its start");

    api.serverErrors.set(1);
    assertThrows(Exception.class, () -> run(yaml));
    assertEquals(mark, mark(), "the failed run committed no mark");

    api.requests.clear();
    assertOk(run(yaml));
    String sent = api.requests.get(0).replaceAll(".*updated_since=([^&]*).*", "$1");
    assertEquals(mark, java.net.URLDecoder.decode(sent, java.nio.charset.StandardCharsets.UTF_8));
    assertEquals(List.of("57"), rows("SELECT COUNT(*) FROM customer"));
  }

  /** The source's mark in the table sink, as the last successful run committed it. */
  private String mark() throws Exception {
    return RunState.read(
            JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
            "api_customers",
            "customer")
        .get("payments");
  }

  @Test
  void anAnnouncedRateLimitIsWaitedForBeforeItIsExceeded() throws Exception {
    // No budget in the spec: the API's X-RateLimit-Remaining and -Reset headers pace the reads.
    assertOk(
        run(
            contacts(
                String.join(
                    "\n",
                    "    path: /crm/windowed",
                    oauth(),
                    "    paginate: { type: link_header }"))));
    assertEquals(List.of("43"), rows("SELECT COUNT(*) FROM contact"));
    assertEquals(0, api.refusedForWindow.get(), "no request was refused: " + api.requests);
  }
}
