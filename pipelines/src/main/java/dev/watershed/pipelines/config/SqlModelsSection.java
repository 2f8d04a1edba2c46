package dev.watershed.pipelines.config;

import dev.watershed.pipelines.config.SqlModelsSpec.SqlTest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Parses {@code models_sql:}: either the folder alone ({@code models_sql: models/}) or
 *
 * <pre>
 * models_sql:
 *   path: models/              # one SELECT per file; the file name is the model's
 *   sink: warehouse            # default: the first DuckDB or PostgreSQL sink
 *   materialized: view         # for files without {{ config(materialized=...) }}
 *   tests:
 *     balance_per_customer:
 *       - not_null: golden_id
 *       - unique: golden_id
 *       - accepted_values: { column: currency, values: [USD, EUR] }
 *       - relationships: { column: golden_id, to: customer_golden.golden_id }
 *       - sql: "SELECT * FROM {{ ref('balance_per_customer') }} WHERE balance &lt; -100000"
 *         name: no_huge_debts
 *         on_failure: warn       # fail (the default: exit code 3) or warn
 * </pre>
 */
final class SqlModelsSection {
  private static final Set<String> KINDS =
      Set.of("not_null", "unique", "accepted_values", "relationships", "sql");

  private SqlModelsSection() {}

  /** The section, or null when the spec has none. */
  static SqlModelsSpec parse(YamlObject top, Map<String, SinkConfig> sinks) {
    if (!top.has("models_sql")) {
      return null;
    }
    int line = top.lineOf("models_sql");
    if (top.node("models_sql") instanceof ScalarNode) {
      return new SqlModelsSpec(
          top.string("models_sql", true), defaultSink(top, sinks, null), "view", Map.of(), line);
    }
    YamlObject section = top.object("models_sql", false);
    section.rejectUnknown(Set.of("path", "sink", "materialized", "tests"));
    String path = section.string("path", true);
    String sink = defaultSink(section, sinks, section.string("sink", null));
    String materialized = section.string("materialized", "view");
    if (!SqlModelsSpec.MATERIALIZATIONS.contains(materialized)) {
      section.error(
          "materialized",
          "'"
              + materialized
              + "' is not a materialization; use "
              + String.join(", ", SqlModelsSpec.MATERIALIZATIONS));
    }
    Map<String, List<SqlTest>> tests = new LinkedHashMap<>();
    YamlObject testSection = section.object("tests", false);
    for (String model : testSection.keys()) {
      List<SqlTest> modelTests = new ArrayList<>();
      for (YamlObject item : testSection.list(model)) {
        SqlTest test = test(item);
        if (test != null) {
          modelTests.add(test);
        }
      }
      tests.put(model, List.copyOf(modelTests));
    }
    return new SqlModelsSpec(path, sink, materialized, tests, line);
  }

  private static String defaultSink(YamlObject at, Map<String, SinkConfig> sinks, String named) {
    if (named != null) {
      SinkConfig sink = sinks.get(named);
      if (sink == null) {
        at.error(
            "sink", "no sink named '" + named + "'; sinks: " + String.join(", ", sinks.keySet()));
      } else if (!inWarehouse(sink)) {
        at.error(
            "sink",
            "SQL models run in a DuckDB or PostgreSQL sink; '" + named + "' is " + sink.type());
      }
      return named;
    }
    for (SinkConfig sink : sinks.values()) {
      if (inWarehouse(sink)) {
        return sink.name();
      }
    }
    at.error(null, "SQL models run in a DuckDB or PostgreSQL sink, and the spec has none");
    return null;
  }

  private static boolean inWarehouse(SinkConfig sink) {
    return sink instanceof TableSink && Set.of("duckdb", "postgres").contains(sink.type());
  }

  private static SqlTest test(YamlObject item) {
    List<String> kinds = item.keys().stream().filter(KINDS::contains).toList();
    item.rejectUnknown(
        Set.of(
            "not_null", "unique", "accepted_values", "relationships", "sql", "name", "on_failure"));
    if (kinds.size() != 1) {
      item.error(
          null,
          "a test is one of "
              + String.join(", ", new java.util.TreeSet<>(KINDS))
              + (kinds.isEmpty() ? "" : "; this names " + String.join(" and ", kinds)));
      return null;
    }
    String kind = kinds.get(0);
    String onFailure = item.string("on_failure", "fail");
    if (!onFailure.equals("fail") && !onFailure.equals("warn")) {
      item.error("on_failure", "'" + onFailure + "' is not fail or warn");
    }
    String column = null;
    List<String> values = List.of();
    String to = null;
    String sql = null;
    switch (kind) {
      case "not_null", "unique" -> column = item.string(kind, true);
      case "accepted_values" -> {
        YamlObject spec = item.object(kind, true);
        spec.rejectUnknown(Set.of("column", "values"));
        column = spec.string("column", true);
        values = spec.strings("values");
        if (values.isEmpty()) {
          spec.error("values", "accepted_values needs the values: a list");
        }
      }
      case "relationships" -> {
        YamlObject spec = item.object(kind, true);
        spec.rejectUnknown(Set.of("column", "to"));
        column = spec.string("column", true);
        to = spec.string("to", true);
        if (to != null && !to.matches("[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*")) {
          spec.error("to", "'" + to + "' is not model.column");
        }
      }
      default -> sql = item.string(kind, true);
    }
    String name =
        item.string(
            "name",
            kind.equals("sql") ? "sql_test" : kind + "(" + (column == null ? "" : column) + ")");
    return new SqlTest(name, kind, column, values, to, sql, onFailure.equals("fail"));
  }
}
