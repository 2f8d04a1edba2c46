package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The README's code blocks, so that tests can hold them to what the code does. */
final class Readme {
  static final Path FILE = Customer360Test.ROOT.resolve("README.md");

  private Readme() {}

  /** The lines of the first fenced code block after the first line containing {@code marker}. */
  static List<String> blockAfter(String marker) throws IOException {
    List<String> lines = Files.readAllLines(FILE);
    int at = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains(marker)) {
        at = i;
        break;
      }
    }
    assertTrue(at >= 0, "the README has no line with: " + marker);
    int start = at;
    while (!lines.get(start).startsWith("```")) {
      start++;
    }
    List<String> block = new ArrayList<>();
    for (int i = start + 1; !lines.get(i).startsWith("```"); i++) {
      block.add(lines.get(i));
    }
    return block;
  }

  /**
   * Asserts that every line of {@code block} but those that are {@code ...} is a line of {@code
   * output} (a line ending in {@code ...}: the start of one) (trailing spaces ignored), in the
   * block's order; a time such as {@code in 7.7 s} at the end of a line matches any number of
   * seconds.
   */
  static void assertShownIn(List<String> block, String output, String what) {
    List<String> actual = output.lines().map(String::stripTrailing).toList();
    int from = 0;
    for (String line : block) {
      String shown = line.stripTrailing();
      if (shown.equals("...")) {
        continue;
      }
      // A time in seconds differs from run to run.
      String timed = shown.replaceAll(" in \\d+(\\.\\d+)? s$", "");
      int found = -1;
      for (int i = from; i < actual.size(); i++) {
        String candidate = actual.get(i);
        boolean same =
            shown.endsWith("...")
                ? candidate.startsWith(shown.substring(0, shown.length() - 3))
                : timed.equals(shown)
                    ? candidate.equals(shown)
                    : candidate.startsWith(timed)
                        && candidate.substring(timed.length()).matches(" in \\d+(\\.\\d+)? s");
        if (same) {
          found = i;
          break;
        }
      }
      int index = found;
      assertTrue(
          index >= 0,
          () -> what + ": the README shows\n  " + shown + "\nbut the output is\n" + output);
      from = found + 1;
    }
  }
}
