package dev.watershed.pipelines.config;

import dev.watershed.io.jdbc.Dialect;
import java.util.Set;

/** {@code dead_letter:}: where records that fail a stage go. */
final class DeadLetterSection {
  private DeadLetterSection() {}

  static DeadLetterSpec deadLetter(ParseContext context, YamlObject section) {
    if (section.line() == 0) {
      return new DeadLetterSpec("jsonl", "target/dead-letter", null, null, null, null);
    }
    String type = section.string("type", "jsonl");
    Set<String> types = Set.of("jsonl", "duckdb", "postgres", "mariadb", "kafka");
    if (type.equals("kafka")) {
      section.rejectUnknown(Set.of("type", "bootstrap_servers", "topic"));
      return new DeadLetterSpec(
          type,
          null,
          section.string("bootstrap_servers", true),
          null,
          null,
          section.string("topic", true));
    }
    if (!types.contains(type)) {
      section.error(
          "type", "unknown dead-letter type '" + type + "'; allowed: " + Sections.sorted(types));
      return new DeadLetterSpec("jsonl", "target/dead-letter", null, null, null, null);
    }
    boolean server = type.equals("postgres") || type.equals("mariadb");
    section.rejectUnknown(
        server
            ? Set.of("type", "url", "user", "password", "table")
            : type.equals("duckdb") ? Set.of("type", "path", "table") : Set.of("type", "path"));
    String url = server ? section.string("url", true) : null;
    if (url != null) {
      try {
        Dialect.of(url);
      } catch (IllegalArgumentException e) {
        section.error("url", e.getMessage());
      }
    }
    return new DeadLetterSpec(
        type,
        type.equals("duckdb")
            ? section.string("path", true)
            : section.string("path", "target/dead-letter"),
        url,
        section.string("user", false),
        section.string("password", false),
        section.string("table", DeadLetterSpec.DEFAULT_TABLE));
  }
}
