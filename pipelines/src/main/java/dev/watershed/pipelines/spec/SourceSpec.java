package dev.watershed.pipelines.spec;

import java.util.List;
import java.util.Map;

/**
 * A source as declared under {@code sources:}. File sources use {@code path}; JDBC sources use
 * {@code url}, {@code user}, {@code password} and one of {@code table} or {@code query}. {@code
 * schema} is the declared column types (empty: the schema recorded by the first run), {@code drift}
 * the policy when the source's schema changes.
 */
public record SourceSpec(
    String name,
    String type,
    int line,
    String path,
    char delimiter,
    String url,
    String user,
    String password,
    String table,
    String query,
    List<String> key,
    String initSql,
    int fetchSize,
    Map<String, String> schema,
    String drift) {

  /** Drift policies: what a run does when the source's schema changed. */
  public static final java.util.Set<String> DRIFT_POLICIES =
      java.util.Set.of("allow", "evolve", "quarantine", "fail");

  public boolean isFile() {
    return !type.equals("jdbc");
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "source " + name + " (" + type + ")";
  }
}
