package dev.watershed.pipelines.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.pipelines.transform.SqlLineage.Input;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Column lineage read from a SQL model's parse tree. */
class SqlLineageTest {
  private static SqlModels.SqlModel model(String sql) {
    return new SqlModels.SqlModel(
        "m", Path.of("m.sql"), SqlTemplate.parse(sql), "view", List.of(), null, List.of());
  }

  @Test
  void joinsAndAggregates() {
    Map<String, List<Input>> lineage =
        SqlLineage.of(
            model(
                "{{ config(materialized='table') }}\n"
                    + "SELECT x.golden_id, a.currency, COUNT(*) AS accounts,"
                    + " SUM(a.balance) AS balance\n"
                    + "FROM {{ ref('account') }} a\n"
                    + "JOIN {{ ref('customer_crosswalk') }} x ON x.source_id = a.account_id\n"
                    + "GROUP BY x.golden_id, a.currency"));
    assertEquals(
        Map.of(
            "golden_id", List.of(new Input("customer_crosswalk", "golden_id", "IDENTITY")),
            "currency", List.of(new Input("account", "currency", "IDENTITY")),
            "accounts", List.of(),
            "balance", List.of(new Input("account", "balance", "sum(a.balance)"))),
        lineage);
    assertEquals(
        List.of("golden_id", "currency", "accounts", "balance"), List.copyOf(lineage.keySet()));
  }

  @Test
  void subqueriesAndUnionsAreFollowedToTheirTables() {
    Map<String, List<Input>> lineage =
        SqlLineage.of(
            model(
                "SELECT s.id, upper(s.name) AS name FROM"
                    + " (SELECT c.id, c.first || ' ' || c.last AS name FROM {{ ref('crm') }} c) s\n"
                    + "UNION ALL\n"
                    + "SELECT u.user_id, full_name FROM {{ ref('shop') }} u"));
    assertEquals(
        List.of(new Input("crm", "id", "IDENTITY"), new Input("shop", "user_id", "IDENTITY")),
        lineage.get("id"));
    assertEquals(
        List.of(
            new Input("crm", "first", "upper(s.name)"),
            new Input("crm", "last", "upper(s.name)"),
            new Input("shop", "full_name", "IDENTITY")),
        lineage.get("name"));
  }
}
