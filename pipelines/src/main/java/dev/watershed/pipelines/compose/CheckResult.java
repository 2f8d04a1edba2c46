package dev.watershed.pipelines.compose;

/** The outcome of one quality check of a run, as written by the pipeline for the run report. */
public record CheckResult(
    String model, String rule, String onFailure, boolean passed, String observed, String detail) {
  /** True when this check keeps the run from committing anything. */
  public boolean blocks() {
    return !passed && onFailure.equals("fail");
  }
}
