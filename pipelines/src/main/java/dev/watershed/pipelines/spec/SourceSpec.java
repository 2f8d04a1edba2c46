package dev.watershed.pipelines.spec;

import java.util.List;

/**
 * A source as declared under {@code sources:}. File sources use {@code path}; JDBC sources use
 * {@code url}, {@code user}, {@code password} and one of {@code table} or {@code query}.
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
    int fetchSize) {

  public boolean isFile() {
    return !type.equals("jdbc");
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "source " + name + " (" + type + ")";
  }
}
