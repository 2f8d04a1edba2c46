package dev.watershed.pipelines.config;

/** One problem in a spec: the YAML path, the line it is on, and what to do about it. */
public record SpecError(String path, int line, String message) {
  @Override
  public String toString() {
    return (line > 0 ? "line " + line + ": " : "") + path + ": " + message;
  }
}
