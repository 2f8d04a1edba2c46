package dev.watershed.pipelines.config;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** A spec that cannot run, with every problem found in it. */
public final class SpecException extends Exception {
  private final List<SpecError> errors;
  private final Set<String> secrets;

  public SpecException(List<SpecError> errors) {
    this(errors, Set.of());
  }

  /**
   * A spec with problems, and the secrets resolved from it before they were found: a message may
   * quote a value that holds one (an invalid URL with a password), so they are masked all the same.
   */
  public SpecException(List<SpecError> errors, Set<String> secrets) {
    super(
        errors.stream().map(SpecError::toString).collect(Collectors.joining("\n")),
        null,
        false,
        false);
    this.errors = List.copyOf(errors);
    this.secrets = Set.copyOf(secrets);
  }

  /** The values of {@code ${env:...}} and {@code ${file:...}} references read before failing. */
  public Set<String> secrets() {
    return secrets;
  }

  public List<SpecError> errors() {
    return errors;
  }
}
