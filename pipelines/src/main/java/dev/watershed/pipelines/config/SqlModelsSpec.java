package dev.watershed.pipelines.config;

import java.util.List;
import java.util.Map;

/**
 * {@code models_sql:}: a folder of SQL files, each a SELECT that becomes a view or table of the
 * warehouse ({@code sink}, a DuckDB or PostgreSQL sink) after the load, in the order their {@code
 * {{ ref('...') }}}s give; and the tests on them.
 *
 * @param path the folder of {@code <model>.sql} files, relative to the spec
 * @param sink the table sink they run in
 * @param materialized the materialization of files that do not name one: {@code view}, {@code
 *     table} or {@code incremental}
 * @param tests the tests per SQL model
 * @param line where the section is, for messages
 */
public record SqlModelsSpec(
    String path, String sink, String materialized, Map<String, List<SqlTest>> tests, int line) {
  public static final List<String> MATERIALIZATIONS = List.of("view", "table", "incremental");

  /**
   * A test of a SQL model: its failing rows are those of {@code kind} on {@code column} ({@code
   * not_null}, {@code unique}, {@code accepted_values} with {@code values}, {@code relationships}
   * to {@code to}, a {@code model.column}), or those a custom {@code sql} query returns; {@code
   * fail} (the default) fails the run with exit code 3, {@code warn} only reports.
   */
  public record SqlTest(
      String name,
      String kind,
      String column,
      List<String> values,
      String to,
      String sql,
      boolean fail) {}
}
