package dev.watershed.pipelines.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.transforms.quality.QualityRule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The spec's JSON Schema (draft 07), generated from the {@link Registry} (every source and sink
 * type's keys) and the sections' keys, so editors with the YAML language server complete and check
 * a spec as it is typed. {@code docs/spec.schema.json} is its output, kept current by a test;
 * {@code validate} stays the authority (it checks references, files and columns too).
 *
 * <pre>{@code
 * # yaml-language-server: $schema=../../docs/spec.schema.json
 * }</pre>
 */
public final class SpecSchema {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private static final List<Key> TOP =
      List.of(
          Key.string("name", "the pipeline's name: letters, digits and _"),
          Key.oneOf("mode", "how it runs (default batch)", "batch", "micro-batch", "streaming"),
          Key.duration("every", "micro-batch: how often a batch runs (default 30s)"),
          Key.object(
              "streaming",
              "streaming mode's timing",
              Key.duration("checkpoint_every", "how often a checkpoint commits (default 10s)"),
              Key.duration("state_ttl", "how long dedupe state is kept per key (default 24h)")),
          Key.object(
              "report", "the run report", Key.string("path", "its folder (default target/report)")),
          Key.object(
              "lineage",
              "where the run's OpenLineage events go",
              Key.string("path", "a JSON lines file (default lineage.jsonl beside the run report)"),
              Key.string("url", "also POST them to this OpenLineage HTTP API, such as Marquez's"),
              Key.string("endpoint", "the API's path (default /api/v1/lineage)"),
              Key.string("api_key", "a bearer token, from ${env:...}"),
              Key.duration("timeout", "how long sending one event may take (default 5s)"),
              Key.string("bootstrap_servers", "also send them to a Kafka topic on this broker"),
              Key.string("topic", "that topic (keyed by the job: a run's events in order)"),
              Key.duration(
                  "running_every", "how often a streaming run says RUNNING (default 1m)")));

  private static final List<Key> FIELD_RULE =
      List.of(
          Key.string("from", "the source column"),
          Key.string("value", "a constant instead of a column"),
          Key.string("prefix", "text put before the value (string fields)"),
          Key.strings(
              "normalize",
              "normalisers in order: trim, lower, upper, email, phone, country, amount, boolean,"
                  + " ..."),
          Key.string("region", "the phone region of numbers without a country code, such as DE"),
          Key.strings("formats", "date and time formats to try, such as dd.MM.yyyy"),
          Key.string("zone", "the time zone of timestamps without one, such as Europe/Berlin"),
          Key.oneOf("decimal_separator", "the decimal separator of numbers", ".", ","),
          Key.string("expr", "a SQL expression over the source's columns, such as upper(name)"),
          Key.object(
              "lookup",
              "replace the value from a lookup table",
              Key.string("table", "the table, declared under lookups:"),
              Key.string("key", "the column the value is matched in (default: the table's key)"),
              Key.string("value", "the column that replaces it"),
              Key.oneOf(
                  "on_missing",
                  "a value the table lacks (default error)",
                  "error",
                  "null",
                  "keep")),
          Key.string("region_from", "the column holding each record's country, for phones"),
          Key.string("locale", "the locale numbers are written in, such as de-DE"),
          Key.oneOf(
              "on_error",
              "a value that cannot be conformed (default dead_letter: the whole record)",
              "dead_letter",
              "null",
              "keep_raw"));

  private static final List<Key> LOOKUP =
      List.of(
          Key.string("file", "a CSV file with a header"),
          Key.string("url", "or a database's JDBC URL"),
          Key.string("user", "the database user"),
          Key.string("password", "the password; write it as ${env:NAME} or ${file:PATH}"),
          Key.string("table", "the database table"),
          Key.string("query", "or a query"),
          Key.string("key", "the column values are matched in (default: the first)"));

  private static final List<Key> DEDUPE =
      List.of(
          Key.strings("key", "the fields that identify a duplicate (default: the model key)"),
          Key.oneOf("keep", "which duplicate stays (default latest)", "latest", "first"),
          Key.string("order_by", "the field whose greatest value is the latest"),
          Key.strings("tie_break", "fields ordering duplicates of equal order_by"));

  private static final List<Key> IDENTITY =
      List.of(
          Key.strings("blocking", "blocking keys: field, field+field, field:prefix-length"),
          Key.string("threshold", "the match probability at or above which records match"),
          Key.string("prior", "the prior probability that two records match"),
          Key.string("match", "a match rule instead of weights, such as email or (name and zip)"),
          Key.strings("order_by", "survivorship: the order records are preferred in"),
          Key.map("survivorship", "the rule per field: most_recent, most_frequent, source, ..."),
          Key.strings("source_priority", "sources in order of trust, for the source rule"),
          Key.maps(
              "include",
              "other models matched with this one: model: { this model's field: the other's }"));

  private static final Key COMPARE =
      Key.object(
          "compare",
          "a comparison",
          Key.string("field", "the field compared"),
          Key.string("method", "exact (default), jaro_winkler, levenshtein, numeric, date, ..."),
          Key.strings("thresholds", "similarity levels for the similar methods"),
          Key.string("tolerance", "numeric and date: the largest difference that agrees"),
          Key.strings("m", "m probabilities per level"),
          Key.strings("u", "u probabilities per level"));

  private static final List<Key> HISTORY =
      List.of(
          Key.strings("scd2", "the fields whose changes make a new version"),
          Key.oneOf(
              "strategy",
              "how changes are detected: check (compare values), timestamp, changes (a change"
                  + " stream)",
              "check",
              "timestamp",
              "changes"),
          Key.string("updated_at", "timestamp strategy: the field holding the change time"),
          Key.oneOf(
              "deletes",
              "keys missing from a snapshot: ignore (default), invalidate, new_record",
              "ignore",
              "invalidate",
              "new_record"));

  private static final List<Key> DEAD_LETTER =
      List.of(
          Key.oneOf(
              "type",
              "where dead letters go (default jsonl)",
              "jsonl",
              "duckdb",
              "postgres",
              "mariadb",
              "kafka"),
          Key.string("path", "jsonl: the folder; duckdb: the database file"),
          Key.string("url", "postgres, mariadb: the JDBC URL"),
          Key.string("user", "the database user"),
          Key.string("password", "the password; write it as ${env:NAME} or ${file:PATH}"),
          Key.string("table", "the table (default _watershed_dead_letters)"),
          Key.string("bootstrap_servers", "kafka: the brokers"),
          Key.string("topic", "kafka: the topic"));

  private SpecSchema() {}

  /** The schema as pretty-printed JSON. */
  public static String json() {
    return json(generate());
  }

  static String json(ObjectNode schema) {
    try {
      return JSON.writeValueAsString(schema) + "\n";
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The schema of every registered type. */
  public static ObjectNode generate() {
    return generate(Registry.sources().values(), Registry.sinks().values());
  }

  /** The schema of the types given. */
  static ObjectNode generate(Collection<SourceType> sourceTypes, Collection<SinkType> sinkTypes) {
    ObjectNode schema = JSON.createObjectNode();
    schema.put("$schema", "http://json-schema.org/draft-07/schema#");
    schema.put("$id", "https://watershed.dev/spec.schema.json");
    schema.put("title", "Watershed integration spec");
    schema.put("type", "object");
    schema.put("additionalProperties", false);
    ArrayNode required = schema.putArray("required");
    for (String key : List.of("name", "sources", "models", "conform", "sinks")) {
      required.add(key);
    }
    ObjectNode properties = schema.putObject("properties");
    for (Key key : TOP) {
      properties.set(key.name(), keySchema(key));
    }
    properties.set("sources", typed("the sources, by name", sourceTypes(sourceTypes)));
    properties.set("sinks", typed("the sinks, by name", sinkTypes(sinkTypes)));
    properties.set("models", models());
    properties.set("lookups", byModel("lookup tables, by name", block(LOOKUP)));
    properties.set("conform", conform());
    ObjectNode dedupe = block(DEDUPE);
    ObjectNode prefer = ((ObjectNode) dedupe.get("properties")).putObject("prefer");
    prefer.put("type", "object");
    prefer.put("description", "per field, the sources whose value wins, first first");
    ObjectNode sources = prefer.putObject("additionalProperties");
    sources.put("type", "array");
    sources.set("items", scalar());
    properties.set("dedupe", byModel("dedupe rules, by model", dedupe));
    properties.set("quality", quality());
    properties.set("models_sql", sqlModels());
    ObjectNode identity = block(IDENTITY);
    ObjectNode compare = (ObjectNode) identity.get("properties");
    ObjectNode list = compare.putObject("compare");
    list.put("type", "array");
    list.put("description", "the comparisons, each a field and a method");
    list.set("items", keySchema(COMPARE));
    properties.set("identity", byModel("identity resolution, by model", identity));
    properties.set("history", byModel("SCD2 history, by model", block(HISTORY)));
    ObjectNode deadLetter = block(DEAD_LETTER);
    deadLetter.put("description", "where records that fail a stage go (default JSON lines)");
    properties.set("dead_letter", deadLetter);
    return schema;
  }

  /** One entry per type: its name, description and keys (the common ones first). */
  private record TypeKeys(String name, String description, List<Key> keys) {}

  private static List<TypeKeys> sourceTypes(Collection<SourceType> types) {
    List<TypeKeys> out = new ArrayList<>();
    for (SourceType type : types) {
      List<Key> keys = new ArrayList<>(SourcesSection.COMMON);
      keys.addAll(type.keys());
      out.add(new TypeKeys(type.name(), type.description(), keys));
    }
    return out;
  }

  private static List<TypeKeys> sinkTypes(Collection<SinkType> types) {
    List<TypeKeys> out = new ArrayList<>();
    for (SinkType type : types) {
      List<Key> keys = new ArrayList<>(SinksSection.COMMON);
      keys.addAll(type.keys());
      out.add(new TypeKeys(type.name(), type.description(), keys));
    }
    return out;
  }

  /**
   * A mapping of names to blocks whose {@code type:} chooses the keys: each type's keys apply when
   * its name is the type (if/then), so an editor offers exactly them.
   */
  private static ObjectNode typed(String description, List<TypeKeys> types) {
    ObjectNode section = JSON.createObjectNode();
    section.put("type", "object");
    section.put("description", description);
    section.put("minProperties", 1);
    ObjectNode entry = section.putObject("additionalProperties");
    entry.put("type", "object");
    entry.putArray("required").add("type");
    ObjectNode typeKey = entry.putObject("properties").putObject("type");
    StringBuilder choices = new StringBuilder("the type:");
    ArrayNode names = typeKey.putArray("enum");
    for (TypeKeys type : types) {
      names.add(type.name());
      choices.append("\n- ").append(type.name()).append(": ").append(type.description());
    }
    typeKey.put("description", choices.toString());
    ArrayNode all = entry.putArray("allOf");
    for (TypeKeys type : types) {
      ObjectNode rule = all.addObject();
      rule.putObject("if").putObject("properties").putObject("type").put("const", type.name());
      ObjectNode then = rule.putObject("then");
      then.put("description", type.description());
      then.put("additionalProperties", false);
      ObjectNode keys = then.putObject("properties");
      keys.putObject("type").put("const", type.name());
      for (Key key : type.keys()) {
        keys.set(key.name(), keySchema(key));
      }
    }
    return section;
  }

  private static ObjectNode models() {
    ObjectNode model = JSON.createObjectNode();
    model.put("type", "object");
    model.put("additionalProperties", false);
    model.putArray("required").add("fields");
    ObjectNode properties = model.putObject("properties");
    properties.set("key", keySchema(Key.strings("key", "the fields that identify a record")));
    properties.set(
        "fields",
        keySchema(
            Key.map(
                "fields",
                "the fields and their types: string, int, long, double, boolean, date, timestamp,"
                    + " decimal(p,s)")));
    return byModel("the canonical models, by name", model);
  }

  private static ObjectNode conform() {
    ObjectNode conform = JSON.createObjectNode();
    conform.put("type", "array");
    conform.put("description", "how each source's columns become a model's fields");
    ObjectNode entry = conform.putObject("items");
    entry.put("type", "object");
    entry.put("additionalProperties", false);
    ArrayNode required = entry.putArray("required");
    required.add("from").add("to").add("fields");
    ObjectNode properties = entry.putObject("properties");
    properties.set("from", keySchema(Key.string("from", "the source")));
    properties.set("to", keySchema(Key.string("to", "the model")));
    ObjectNode fields = properties.putObject("fields");
    fields.put("type", "object");
    fields.put("description", "each model field: a source column, or a rule");
    ObjectNode rule = fields.putObject("additionalProperties");
    ArrayNode either = rule.putArray("anyOf");
    either.add(scalar());
    either.add(block(FIELD_RULE));
    return conform;
  }

  private static ObjectNode quality() {
    ObjectNode item = JSON.createObjectNode();
    item.put("type", "object");
    item.put("description", "one rule, with its name and what a failure does");
    ObjectNode properties = item.putObject("properties");
    StringBuilder kinds = new StringBuilder();
    for (QualityRule.Kind kind : QualityRule.Kind.values()) {
      properties.putObject(kind.specName()).put("description", "a " + kind.specName() + " rule");
      kinds.append(kinds.length() == 0 ? "" : ", ").append(kind.specName());
    }
    properties.set("name", keySchema(Key.string("name", "the rule's name in the report")));
    properties.set(
        "on_failure",
        keySchema(
            Key.oneOf(
                "on_failure",
                "what a failing row or rule does",
                "fail",
                "warn",
                "dead_letter",
                "drop")));
    item.put("additionalProperties", false);
    item.put("minProperties", 1);
    ObjectNode rules = JSON.createObjectNode();
    rules.put("type", "array");
    rules.put("description", "rules: " + kinds);
    rules.set("items", item);
    return byModel("quality rules, by model", rules);
  }

  /** {@code models_sql:}: the folder alone, or the folder with its sink and tests. */
  private static ObjectNode sqlModels() {
    ObjectNode item = JSON.createObjectNode();
    item.put("type", "object");
    item.put("description", "one test, with its name and what a failure does");
    ObjectNode properties = item.putObject("properties");
    for (String kind : List.of("not_null", "unique", "accepted_values", "relationships", "sql")) {
      properties.putObject(kind).put("description", "a " + kind + " test");
    }
    properties.set("name", keySchema(Key.string("name", "the test's name in the report")));
    properties.set(
        "on_failure",
        keySchema(
            Key.oneOf("on_failure", "fail (exit code 3, the default) or warn", "fail", "warn")));
    item.put("additionalProperties", false);
    item.put("minProperties", 1);
    ObjectNode tests = JSON.createObjectNode();
    tests.put("type", "array");
    tests.set("items", item);
    ObjectNode section =
        block(
            List.of(
                Key.string("path", "the folder of .sql files, one SELECT each"),
                Key.string(
                    "sink", "the DuckDB or PostgreSQL sink they run in (default: the first)"),
                Key.oneOf(
                    "materialized",
                    "for files without config(materialized=...) (default view)",
                    "view",
                    "table",
                    "incremental")));
    ((ObjectNode) section.get("properties")).set("tests", byModel("tests, by SQL model", tests));
    ObjectNode either = JSON.createObjectNode();
    either.put("description", "SQL models built in the warehouse after the load (ELT)");
    ArrayNode anyOf = either.putArray("anyOf");
    anyOf.add(scalar());
    anyOf.add(section);
    return either;
  }

  private static ObjectNode byModel(String description, ObjectNode entry) {
    ObjectNode section = JSON.createObjectNode();
    section.put("type", "object");
    section.put("description", description);
    section.set("additionalProperties", entry);
    return section;
  }

  private static ObjectNode block(List<Key> keys) {
    ObjectNode block = JSON.createObjectNode();
    block.put("type", "object");
    block.put("additionalProperties", false);
    ObjectNode properties = block.putObject("properties");
    for (Key key : keys) {
      properties.set(key.name(), keySchema(key));
    }
    return block;
  }

  /** A YAML scalar the parser reads as text (a number or a boolean is text too). */
  private static ObjectNode scalar() {
    ObjectNode node = JSON.createObjectNode();
    node.putArray("type").add("string").add("number").add("boolean");
    return node;
  }

  private static ObjectNode keySchema(Key key) {
    ObjectNode node;
    switch (key.kind()) {
      case INTEGER:
        node = JSON.createObjectNode();
        node.putArray("type").add("integer").add("string");
        break;
      case BOOLEAN:
        node = JSON.createObjectNode();
        node.putArray("type").add("boolean").add("string");
        break;
      case DURATION:
        node = JSON.createObjectNode();
        node.put("type", "string");
        node.put("pattern", "^\\s*(\\d+\\s*(ms|s|m|h|d)|\\$\\{.*\\})\\s*$");
        break;
      case STRINGS:
        node = JSON.createObjectNode();
        ArrayNode either = node.putArray("anyOf");
        either.add(scalar());
        either.addObject().put("type", "array").set("items", scalar());
        break;
      case OBJECT:
        node = block(key.children());
        break;
      case MAP:
        node = JSON.createObjectNode();
        node.put("type", "object");
        node.set("additionalProperties", scalar());
        break;
      case OBJECTS:
        node = JSON.createObjectNode();
        node.put("type", "array");
        node.set("items", block(key.children()));
        break;
      case MAPS:
        node = JSON.createObjectNode();
        node.put("type", "object");
        ObjectNode mapping = node.putObject("additionalProperties");
        mapping.put("type", "object");
        mapping.set("additionalProperties", scalar());
        break;
      case STRING_OR_MAP:
        node = JSON.createObjectNode();
        ArrayNode oneOrMap = node.putArray("anyOf");
        oneOrMap.add(scalar());
        oneOrMap.addObject().put("type", "object").set("additionalProperties", scalar());
        break;
      default:
        node = key.allowed().isEmpty() ? scalar() : JSON.createObjectNode();
        if (!key.allowed().isEmpty()) {
          ArrayNode values = node.putArray("enum");
          key.allowed().forEach(values::add);
        }
    }
    node.put("description", key.description());
    return node;
  }

  /** Writes the schema to the file given, for {@code docs/spec.schema.json}. */
  public static void main(String[] args) throws Exception {
    Files.writeString(Path.of(args[0]), json());
  }
}
