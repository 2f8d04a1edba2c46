package dev.watershed.pipelines.config;

import dev.watershed.transforms.conform.FieldRule;
import java.util.Map;

/**
 * One entry under {@code conform:}: how records of a source become rows of a model; {@code
 * fieldLines} holds the spec line of each field's rule, for messages about it.
 */
public record ConformSpec(
    String from,
    String to,
    Map<String, FieldRule> fields,
    int line,
    Map<String, Integer> fieldLines) {

  /** The spec line of {@code field}'s rule, or the entry's line. */
  public int lineOf(String field) {
    return fieldLines.getOrDefault(field, line);
  }
}
