package dev.watershed.pipelines.config;

import dev.watershed.transforms.identity.Similarity;
import java.util.Collection;
import java.util.Locale;

/** The name a misspelt one was probably meant to be, for "did you mean" hints in errors. */
public final class ClosestName {
  private ClosestName() {}

  /**
   * The name in {@code names} closest to {@code wanted} by edit distance (case ignored), when close
   * enough to be a likely typo: at most a third of its length, and at least 2 edits allowed; else
   * null.
   */
  public static String to(String wanted, Collection<String> names) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    String lower = wanted.toLowerCase(Locale.ROOT);
    for (String name : names) {
      int distance = Similarity.levenshtein(lower, name.toLowerCase(Locale.ROOT));
      if (distance < bestDistance) {
        best = name;
        bestDistance = distance;
      }
    }
    return best != null && bestDistance <= Math.max(2, wanted.length() / 3) ? best : null;
  }

  /** {@code "; did you mean 'x'?"} when there is a close name, else an empty string. */
  public static String hint(String wanted, Collection<String> names) {
    String closest = to(wanted, names);
    return closest == null ? "" : "; did you mean '" + closest + "'?";
  }
}
