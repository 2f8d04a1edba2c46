package dev.watershed.pipelines.spec;

/** Where dead letters go, under {@code dead_letter:}. */
public record DeadLetterSpec(String type, String path) {
  /** The file dead letters are written to. */
  public String file() {
    return (path.endsWith("/") ? path : path + "/") + "dead-letter.jsonl";
  }
}
