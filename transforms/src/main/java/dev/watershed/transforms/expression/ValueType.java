package dev.watershed.transforms.expression;

import java.util.Locale;

/**
 * The type of an expression's value, checked when the expression is parsed. {@link #ANY} is the
 * type of a bare {@code null}, which fits everywhere.
 */
public enum ValueType {
  TEXT,
  NUMBER,
  BOOLEAN,
  DATE,
  TIMESTAMP,
  ANY;

  /** True when a value of this type can be read where {@code wanted} is expected. */
  boolean fits(ValueType wanted) {
    return this == wanted || this == ANY || wanted == ANY;
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
