package dev.watershed.transforms.expression;

/**
 * An expression that could not be evaluated on one row: a text that is not a number where a number
 * is needed, a division by zero, a missing lookup key. The message names the value.
 */
public final class ExpressionException extends RuntimeException {
  public ExpressionException(String message) {
    super(message, null, false, false);
  }
}
