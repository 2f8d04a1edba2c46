package dev.watershed.transforms.conform;

/**
 * A value that cannot be conformed. {@link #reason()} is a short, stable category used to count
 * failures ("unparsable date"); {@link #getMessage()} is the specific detail.
 */
public final class ConformException extends Exception {
  private final String reason;

  public ConformException(String reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }

  /** The stable failure category, e.g. {@code unparsable date}. */
  public String reason() {
    return reason;
  }
}
