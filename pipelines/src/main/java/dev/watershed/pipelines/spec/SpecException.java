package dev.watershed.pipelines.spec;

import java.util.List;
import java.util.stream.Collectors;

/** A spec that cannot run, with every problem found in it. */
public final class SpecException extends Exception {
  private final List<SpecError> errors;

  public SpecException(List<SpecError> errors) {
    super(
        errors.stream().map(SpecError::toString).collect(Collectors.joining("\n")),
        null,
        false,
        false);
    this.errors = List.copyOf(errors);
  }

  public List<SpecError> errors() {
    return errors;
  }
}
