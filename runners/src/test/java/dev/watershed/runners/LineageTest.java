package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's OpenLineage events (lineage.jsonl beside the run report): START and COMPLETE or FAIL,
 * each valid against OpenLineage's JSON schemas (test-data/openlineage), with the sources as
 * inputs, the sinks' models as outputs and the column lineage the conform mappings give.
 */
class LineageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SCHEMAS = Customer360Test.ROOT.resolve("test-data/openlineage");
  private static final String SECRET = "lineage-s3cret";

  @TempDir Path folder;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int watershed(String... args) {
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("LINEAGE_PASSWORD", SECRET),
            folder)
        .execute(args);
  }

  @Test
  void aRunEmitsStartAndCompleteWithColumnLineage() throws Exception {
    Files.writeString(
        folder.resolve("people.csv"),
        "id,email,first,last\n1, Ann@Example.com ,Ann,Lee\n2,ben@example.com,Ben,Ode\n");
    Files.writeString(
        folder.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: people",
            "sources:",
            "  crm: { type: csv, path: people.csv }",
            "models:",
            "  person:",
            "    key: [person_id]",
            "    fields: { person_id: string, email: string, name: string, origin: string,"
                + " crm_id: long }",
            "conform:",
            "  - from: crm",
            "    to: person",
            "    fields:",
            "      person_id: { from: id, prefix: \"p-\" }",
            "      email: { from: email, normalize: email }",
            "      name: { expr: \"concat_ws(' ', first, last)\" }",
            "      origin: { value: crm }",
            "      crm_id: id",
            "quality:",
            "  person:",
            "    - not_null: email",
            "    - expression: \"name <> 'Ben Ode'\"",
            "      name: no_ben",
            "      on_failure: warn",
            "    - row_count: { min: 1 }",
            "sinks:",
            "  warehouse: { type: duckdb, path: w.duckdb }",
            "  lake: { type: parquet, path: lake }",
            ""));
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);

    List<JsonNode> all = events(folder.resolve("target/report/lineage.jsonl"));
    // The quality rules: a child job's run, between the spec run's START and COMPLETE.
    List<JsonNode> quality =
        all.stream()
            .filter(e -> e.path("job").path("name").asText().equals("people.quality"))
            .toList();
    List<JsonNode> events =
        all.stream().filter(e -> e.path("job").path("name").asText().equals("people")).toList();
    assertEquals(4, all.size());
    assertEquals(List.of("START", "COMPLETE"), types(quality));
    assertEquals(List.of("START", "COMPLETE"), types(events));
    for (JsonNode event : quality) {
      assertValid(event);
      assertEquals(
          events.get(0).path("run").path("runId"),
          event.path("run").path("facets").path("parent").path("run").path("runId"));
      assertEquals(
          "people",
          event.path("run").path("facets").path("parent").path("job").path("name").asText());
    }
    JsonNode checkedData = quality.get(1).path("inputs").get(0);
    assertEquals("main.person", checkedData.path("name").asText());
    // Each rule with its result (no_ben failed: Ben; it only warns, so the run completed).
    assertEquals(
        List.of("not_null(email) email true", "no_ben null false", "row_count null true"),
        assertions(checkedData.path("inputFacets").path("dataQualityAssertions")));
    assertEquals(events.get(0).path("run").path("runId"), events.get(1).path("run").path("runId"));
    // The check can fail: an event without its producer, a facet with a wrong type.
    JsonNode broken = events.get(0).deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) broken).remove("producer");
    org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class, () -> assertValid(broken));
    JsonNode badFacet = events.get(1).deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode)
            badFacet.path("outputs").get(0).path("outputFacets").path("outputStatistics"))
        .put("rowCount", "two");
    org.junit.jupiter.api.Assertions.assertThrows(
        AssertionError.class, () -> assertValid(badFacet));
    for (JsonNode event : events) {
      assertValid(event);
      assertEquals("watershed", event.path("job").path("namespace").asText());
      assertEquals("people", event.path("job").path("name").asText());
    }
    JsonNode complete = events.get(1);
    JsonNode input = complete.path("inputs").get(0);
    assertEquals("file", input.path("namespace").asText());
    assertEquals(folder.resolve("people.csv").toRealPath().toString(), input.path("name").asText());
    JsonNode output = complete.path("outputs").get(0);
    assertEquals("duckdb://" + folder.resolve("w.duckdb"), output.path("namespace").asText());
    assertEquals("main.person", output.path("name").asText());
    assertEquals(2, output.path("outputFacets").path("outputStatistics").path("rowCount").asLong());
    assertTrue(
        output.path("outputFacets").path("outputStatistics").path("size").isMissingNode(),
        "a table's bytes written are not known");
    // A file sink's: the bytes of the files it published.
    JsonNode lake = complete.path("outputs").get(1);
    long bytes;
    try (Stream<Path> files = Files.walk(folder.resolve("lake"))) {
      bytes =
          files
              .filter(f -> f.toString().endsWith(".parquet"))
              .mapToLong(f -> f.toFile().length())
              .sum();
    }
    assertTrue(bytes > 0);
    assertEquals(
        bytes,
        lake.path("outputFacets").path("outputStatistics").path("size").asLong(),
        lake::toString);
    assertEquals(2, lake.path("outputFacets").path("outputStatistics").path("rowCount").asLong());

    // Every field: the source columns it comes from, and how.
    Map<String, String> lineage = columnLineage(output);

    // The same in the terminal, from the spec alone.
    out.reset();
    assertEquals(Watershed.OK, watershed("lineage", "spec.yaml"), this::output);
    assertEquals(
        List.of(
            "person",
            "  -> warehouse: duckdb://" + folder.resolve("w.duckdb") + " main.person",
            "  -> lake: file " + folder.resolve("lake/person"),
            "  person.person_id",
            "    <- crm.id   prefix 'p-'",
            "  person.email",
            "    <- crm.email   normalize email",
            "  person.name",
            "    <- crm.first   expression concat_ws(' ', first, last)",
            "    <- crm.last   expression concat_ws(' ', first, last)",
            "  person.origin",
            "    <- crm: constant crm",
            "  person.crm_id",
            "    <- crm.id"),
        out.toString(StandardCharsets.UTF_8).lines().toList());
    out.reset();
    assertEquals(Watershed.OK, watershed("lineage", "spec.yaml", "person.email"), this::output);
    assertEquals(
        List.of(
            "person",
            "  -> warehouse: duckdb://" + folder.resolve("w.duckdb") + " main.person",
            "  -> lake: file " + folder.resolve("lake/person"),
            "  person.email",
            "    <- crm.email   normalize email"),
        out.toString(StandardCharsets.UTF_8).lines().toList());
    err.reset();
    assertEquals(Watershed.SPEC_ERROR, watershed("lineage", "spec.yaml", "person.mail"));
    assertTrue(
        output().contains("no field 'mail' in model 'person'; fields: person_id, email, name,"),
        this::output);
    assertEquals(
        Map.of(
            "person_id", "id TRANSFORMATION (prefix 'p-')",
            "email", "email TRANSFORMATION (normalize email)",
            "name",
                "first TRANSFORMATION (expression concat_ws(' ', first, last));"
                    + " last TRANSFORMATION (expression concat_ws(' ', first, last))",
            "origin", "",
            "crm_id", "id IDENTITY"),
        lineage);
  }

  @Test
  void aBlockedRunsQualityJobFailsWithTheRuleThatFailed() throws Exception {
    Files.writeString(folder.resolve("people.csv"), "id,email\n1,ann@example.com\n2,\n");
    Files.writeString(
        folder.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: few",
            "sources: { crm: { type: csv, path: people.csv } }",
            "models: { person: { key: [id], fields: { id: long, email: string } } }",
            "conform: [ { from: crm, to: person, fields: { id: id, email: email } } ]",
            "quality:",
            "  person:",
            "    - not_null: email",
            "      on_failure: warn",
            "    - row_count: { min: 5 }",
            "sinks: { warehouse: { type: duckdb, path: w.duckdb } }",
            ""));
    assertEquals(Watershed.QUALITY_FAILED, watershed("run", "spec.yaml", "--runner=direct"));
    List<JsonNode> events = events(folder.resolve("target/report/lineage.jsonl"));
    assertEquals(
        List.of("few START", "few.quality START", "few.quality FAIL", "few FAIL"),
        events.stream()
            .map(e -> e.path("job").path("name").asText() + " " + e.path("eventType").asText())
            .toList());
    for (JsonNode event : events) {
      assertValid(event);
    }
    assertEquals(
        List.of("not_null(email) email false", "row_count null false"),
        assertions(
            events.get(2).path("inputs").get(0).path("inputFacets").path("dataQualityAssertions")));
  }

  @Test
  void aFailedRunEmitsFailWithItsErrorAndNoSecret() throws Exception {
    Files.writeString(
        folder.resolve("spec.yaml"),
        String.join(
            "\n",
            "name: down",
            "sources:",
            "  db: { type: jdbc, url: \"jdbc:postgresql://127.0.0.1:9/nowhere\", user: etl,"
                + " password: \"${env:LINEAGE_PASSWORD}\", table: people }",
            "models:",
            "  person: { key: [id], fields: { id: long } }",
            "conform: [ { from: db, to: person, fields: { id: id } } ]",
            "sinks:",
            "  warehouse: { type: postgres, url: \"jdbc:postgresql://127.0.0.1:5432/test\","
                + " user: postgres, password: \"${env:LINEAGE_PASSWORD}\" }",
            ""));
    assertEquals(Watershed.FAILED, watershed("run", "spec.yaml", "--runner=direct"));
    Path file = folder.resolve("target/report/lineage.jsonl");
    List<JsonNode> events = events(file);
    assertEquals(List.of("FAIL"), types(events));
    assertValid(events.get(0));
    JsonNode error = events.get(0).path("run").path("facets").path("errorMessage");
    assertTrue(error.path("message").asText().contains("sources.db"), error.toString());
    assertEquals(
        "postgres://127.0.0.1:9", events.get(0).path("inputs").get(0).path("namespace").asText());
    assertEquals(
        "nowhere.public.people", events.get(0).path("inputs").get(0).path("name").asText());
    assertFalse(Files.readString(file).contains(SECRET), "no secret in the events");
  }

  @Test
  void eventsAreAlsoPostedToAnOpenLineageApiWithTheKey() throws Exception {
    List<String> bodies = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> auth = new java.util.concurrent.CopyOnWriteArrayList<>();
    com.sun.net.httpserver.HttpServer api =
        com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    api.createContext(
        "/api/v1/lineage",
        exchange -> {
          bodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          auth.add(exchange.getRequestHeaders().getFirst("Authorization"));
          exchange.sendResponseHeaders(201, -1);
          exchange.close();
        });
    api.start();
    try {
      Files.writeString(folder.resolve("people.csv"), "id,email\n1,a@example.com\n");
      String spec =
          String.join(
              "\n",
              "name: posted",
              "sources: { crm: { type: csv, path: people.csv } }",
              "models: { person: { key: [id], fields: { id: long, email: string } } }",
              "conform: [ { from: crm, to: person, fields: { id: id, email: email } } ]",
              "sinks: { warehouse: { type: duckdb, path: w.duckdb } }",
              "lineage:",
              "  path: events/lineage.jsonl",
              "  url: \"http://127.0.0.1:" + api.getAddress().getPort() + "\"",
              "  api_key: \"${env:LINEAGE_PASSWORD}\"",
              "");
      Files.writeString(folder.resolve("spec.yaml"), spec);
      assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
      List<JsonNode> written = events(folder.resolve("events/lineage.jsonl"));
      assertEquals(List.of("START", "COMPLETE"), types(written));
      assertEquals(2, bodies.size(), bodies.toString());
      for (int i = 0; i < 2; i++) {
        JsonNode posted = JSON.readTree(bodies.get(i));
        assertValid(posted);
        assertEquals(written.get(i), posted);
        assertEquals("Bearer " + SECRET, auth.get(i));
      }
    } finally {
      api.stop(0);
    }
    // The API down: the run goes on, says so once per event, and never shows the key.
    err.reset();
    assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
    assertTrue(
        output().contains("warning: could not send the START lineage event to http://127.0.0.1:"),
        this::output);
    assertFalse(output().contains(SECRET), this::output);
    assertEquals(4, events(folder.resolve("events/lineage.jsonl")).size());
  }

  @Test
  void eventsAreAlsoSentToAKafkaTopicKeyedByTheJob() throws Exception {
    try (dev.watershed.io.kafka.LocalKafka kafka = dev.watershed.io.kafka.LocalKafka.start()) {
      kafka.createTopic("lineage", 1);
      Files.writeString(folder.resolve("people.csv"), "id,email\n1,a@example.com\n");
      Files.writeString(
          folder.resolve("spec.yaml"),
          String.join(
              "\n",
              "name: topical",
              "sources: { crm: { type: csv, path: people.csv } }",
              "models: { person: { key: [id], fields: { id: long, email: string } } }",
              "conform: [ { from: crm, to: person, fields: { id: id, email: email } } ]",
              "sinks: { warehouse: { type: duckdb, path: w.duckdb } }",
              "lineage: { bootstrap_servers: \""
                  + kafka.bootstrapServers()
                  + "\", topic: lineage }",
              ""));
      assertEquals(Watershed.OK, watershed("run", "spec.yaml", "--runner=direct"), this::output);
      List<JsonNode> written = events(folder.resolve("target/report/lineage.jsonl"));
      List<org.apache.kafka.clients.consumer.ConsumerRecord<String, String>> received =
          new ArrayList<>();
      try (org.apache.kafka.clients.consumer.KafkaConsumer<String, String> consumer =
          new org.apache.kafka.clients.consumer.KafkaConsumer<>(
              Map.of("bootstrap.servers", kafka.bootstrapServers()),
              new org.apache.kafka.common.serialization.StringDeserializer(),
              new org.apache.kafka.common.serialization.StringDeserializer())) {
        org.apache.kafka.common.TopicPartition partition =
            new org.apache.kafka.common.TopicPartition("lineage", 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        // Both events were acknowledged before the run ended: they are all there to read.
        while (consumer.position(partition)
            < consumer.endOffsets(List.of(partition)).get(partition)) {
          consumer.poll(java.time.Duration.ofMillis(200)).forEach(received::add);
        }
      }
      assertEquals(2, received.size(), received.toString());
      for (int i = 0; i < 2; i++) {
        assertEquals("watershed/topical", received.get(i).key());
        JsonNode event = JSON.readTree(received.get(i).value());
        assertValid(event);
        assertEquals(written.get(i), event);
      }
    }
  }

  /** customer-360's events: valid, and the column lineage of the warehouse's models. */
  static void assertCustomer360Lineage(Path file) throws IOException {
    List<JsonNode> all = events(file);
    for (JsonNode event : all) {
      assertValid(event);
    }
    List<JsonNode> events =
        all.stream()
            .filter(e -> !e.path("job").path("name").asText().endsWith(".quality"))
            .toList();
    assertEquals(List.of("START", "COMPLETE"), types(events));
    // The quality rules: the checked tables with every rule's result (unique(email) warns: the
    // summary counts 1246 rows sharing an e-mail address with another customer).
    List<JsonNode> quality =
        all.stream().filter(e -> e.path("job").path("name").asText().endsWith(".quality")).toList();
    assertEquals(List.of("START", "COMPLETE"), types(quality));
    Map<String, List<String>> checked = new TreeMap<>();
    for (JsonNode input : quality.get(1).path("inputs")) {
      if (input.path("namespace").asText().startsWith("duckdb://")) {
        checked.put(
            input.path("name").asText(),
            assertions(input.path("inputFacets").path("dataQualityAssertions")));
      }
    }
    assertEquals(
        Map.of(
            "main.customer",
                List.of(
                    "not_null(email) email true",
                    "unique(email) email false",
                    "row_count null true"),
            "main.account",
                List.of("accepted_values(plan) plan true", "range(balance) balance true"),
            "main.ticket",
                List.of(
                    "closed_tickets_have_resolution null true",
                    "null_rate(requester_phone) requester_phone true")),
        checked);
    Map<String, JsonNode> outputs = new TreeMap<>();
    for (JsonNode output : events.get(1).path("outputs")) {
      if (output.path("namespace").asText().startsWith("duckdb://")) {
        outputs.put(output.path("name").asText(), output);
      }
    }
    Map<String, String> customer = columnLineage(outputs.get("main.customer"));
    assertEquals(
        "contact_id TRANSFORMATION (expression 'crm-' || contact_id);"
            + " user_id TRANSFORMATION (prefix 'shop-')",
        customer.get("customer_id"));
    assertEquals("", customer.get("source_system"));
    assertEquals(
        "email_address TRANSFORMATION (normalize email); email TRANSFORMATION (normalize email)",
        customer.get("email"));
    assertEquals(
        "country TRANSFORMATION (lookup, normalize country);"
            + " country_code TRANSFORMATION (normalize country)",
        customer.get("country"));
    assertEquals("updated_at IDENTITY; updated_at IDENTITY", customer.get("updated_at"));
    assertEquals(
        "requester.email TRANSFORMATION (normalize email)",
        columnLineage(outputs.get("main.ticket")).get("requester_email"));
    // The SQL models, from their parsed SQL: columns of the warehouse's tables.
    JsonNode balanceModel = outputs.get("main.balance_per_golden_customer");
    assertEquals(
        Map.of(
            "golden_id", "golden_id IDENTITY",
            "currency", "currency IDENTITY",
            "accounts", "",
            "balance", "balance TRANSFORMATION (sum(a.balance))"),
        columnLineage(balanceModel));
    assertEquals(
        "main.customer_crosswalk",
        balanceModel
            .path("facets")
            .path("columnLineage")
            .path("fields")
            .path("golden_id")
            .path("inputFields")
            .get(0)
            .path("name")
            .asText());
    assertTrue(
        balanceModel.path("outputFacets").path("outputStatistics").path("rowCount").asLong() > 0,
        balanceModel::toString);
    assertEquals(
        "open_tickets_per_golden_customer",
        outputs
            .get("main.open_tickets_per_golden_customer")
            .path("name")
            .asText()
            .replace("main.", ""));
  }

  /** Per output field: its input fields, each as {@code field SUBTYPE (description)}. */
  private static Map<String, String> columnLineage(JsonNode output) {
    Map<String, String> lineage = new TreeMap<>();
    output
        .path("facets")
        .path("columnLineage")
        .path("fields")
        .fields()
        .forEachRemaining(
            field -> {
              List<String> inputs = new ArrayList<>();
              for (JsonNode from : field.getValue().path("inputFields")) {
                JsonNode how = from.path("transformations").get(0);
                inputs.add(
                    from.path("field").asText()
                        + " "
                        + how.path("subtype").asText()
                        + (how.path("description").asText().isEmpty()
                            ? ""
                            : " (" + how.path("description").asText() + ")"));
              }
              lineage.put(field.getKey(), String.join("; ", inputs));
            });
    return lineage;
  }

  private String output() {
    return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
  }

  private static List<JsonNode> events(Path file) throws IOException {
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (!line.isBlank()) {
        events.add(JSON.readTree(line));
      }
    }
    return events;
  }

  private static List<String> assertions(JsonNode facet) {
    List<String> out = new ArrayList<>();
    for (JsonNode each : facet.path("assertions")) {
      out.add(
          each.path("assertion").asText()
              + " "
              + (each.has("column") ? each.path("column").asText() : "null")
              + " "
              + each.path("success").asBoolean());
    }
    return out;
  }

  private static List<String> types(List<JsonNode> events) {
    return events.stream().map(e -> e.path("eventType").asText()).toList();
  }

  /** The event against OpenLineage's RunEvent schema, each facet against its own schema. */
  static void assertValid(JsonNode event) throws IOException {
    Map<String, String> byId = new HashMap<>();
    Map<String, String> idByFile = new HashMap<>();
    try (Stream<Path> files = Files.list(SCHEMAS)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".json")).toList()) {
        String text = Files.readString(file);
        String id = JSON.readTree(text).path("$id").asText();
        byId.put(id, text);
        idByFile.put(file.getFileName().toString(), id);
      }
    }
    SchemaRegistry registry =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12, builder -> builder.schemas(byId));
    List<String> problems = new ArrayList<>();
    check(
        registry,
        event,
        "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        problems);
    List<JsonNode> facets = new ArrayList<>();
    collectFacets(event, facets);
    assertFalse(facets.isEmpty());
    for (JsonNode facet : facets) {
      String url = facet.path("_schemaURL").asText();
      String file = url.replaceFirst("#.*$", "").replaceFirst("^.*/", "");
      assertEquals(
          url.replaceFirst("#.*$", ""),
          idByFile.get(file),
          "test-data/openlineage holds " + file + " at the version the client points at");
      check(registry, facet, url, problems);
    }
    assertTrue(problems.isEmpty(), problems + "\n" + event.toPrettyString());
  }

  private static void check(SchemaRegistry registry, JsonNode node, String at, List<String> out) {
    Schema schema = registry.getSchema(SchemaLocation.of(at));
    for (Error error : schema.validate(node.toString(), InputFormat.JSON)) {
      out.add(at + ": " + error);
    }
  }

  /** Every facet of the event: objects under a {@code facets}-like key that name their schema. */
  private static void collectFacets(JsonNode node, List<JsonNode> out) {
    if (node.isObject()) {
      if (node.has("_schemaURL") && node.has("_producer")) {
        out.add(node);
      }
      node.elements().forEachRemaining(child -> collectFacets(child, out));
    } else if (node.isArray()) {
      node.elements().forEachRemaining(child -> collectFacets(child, out));
    }
  }
}
