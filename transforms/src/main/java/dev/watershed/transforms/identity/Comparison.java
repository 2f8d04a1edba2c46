package dev.watershed.transforms.identity;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How one field of two records is compared: into a level, 0 being the strongest agreement and the
 * last level disagreement; {@link #MISSING} when either value is empty (it says nothing).
 *
 * <ul>
 *   <li>{@code exact}: 0 equal, 1 different;
 *   <li>{@code jaro_winkler} and {@code levenshtein} with thresholds such as {@code [0.92, 0.8]}: 0
 *       equal, 1 at or above the first threshold, 2 above the second, ..., last otherwise;
 *   <li>{@code date}: {@link Similarity#dateLevel} (equal, day/month swapped, one part differs,
 *       more);
 *   <li>{@code numeric} with a tolerance: 0 equal, 1 within the tolerance, 2 otherwise.
 * </ul>
 */
public final class Comparison implements Serializable {
  /** The level of a comparison where either value is empty. */
  public static final int MISSING = -1;

  /** Comparison methods. */
  public enum Method {
    EXACT,
    JARO_WINKLER,
    LEVENSHTEIN,
    DATE,
    NUMERIC;

    public static Method named(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown comparison '"
                + name
                + "'; allowed: exact, jaro_winkler, levenshtein, date, numeric");
      }
    }
  }

  private final String field;
  private final Method method;
  private final List<Double> thresholds;

  private Comparison(String field, Method method, List<Double> thresholds) {
    this.field = field;
    this.method = method;
    this.thresholds = List.copyOf(thresholds);
  }

  public static Comparison exact(String field) {
    return new Comparison(field, Method.EXACT, List.of());
  }

  /** Jaro-Winkler similarity levels, thresholds from high to low. */
  public static Comparison jaroWinkler(String field, double... thresholds) {
    return new Comparison(field, Method.JARO_WINKLER, toList(thresholds));
  }

  public static Comparison levenshtein(String field, double... thresholds) {
    return new Comparison(field, Method.LEVENSHTEIN, toList(thresholds));
  }

  public static Comparison date(String field) {
    return new Comparison(field, Method.DATE, List.of());
  }

  /** Numbers equal, within {@code tolerance}, or not. */
  public static Comparison numeric(String field, double tolerance) {
    return new Comparison(field, Method.NUMERIC, List.of(tolerance));
  }

  private static List<Double> toList(double[] values) {
    return Arrays.stream(values).boxed().toList();
  }

  public String field() {
    return field;
  }

  /** The number of levels, not counting {@link #MISSING}. */
  public int levels() {
    switch (method) {
      case EXACT:
        return 2;
      case DATE:
        return 4;
      case NUMERIC:
        return 3;
      default:
        return thresholds.size() + 2;
    }
  }

  /** The level of agreement of two values (null or blank: {@link #MISSING}). */
  public int level(String a, String b) {
    if (a == null || b == null || a.isBlank() || b.isBlank()) {
      return MISSING;
    }
    if (a.equals(b)) {
      return 0;
    }
    switch (method) {
      case EXACT:
        return 1;
      case DATE:
        return Similarity.dateLevel(a, b);
      case NUMERIC:
        try {
          double d = Math.abs(Double.parseDouble(a) - Double.parseDouble(b));
          return d <= thresholds.get(0) ? 1 : 2;
        } catch (NumberFormatException e) {
          return 2;
        }
      default:
        double similarity =
            method == Method.JARO_WINKLER
                ? Similarity.jaroWinkler(a, b)
                : Similarity.levenshteinSimilarity(a, b);
        for (int i = 0; i < thresholds.size(); i++) {
          if (similarity >= thresholds.get(i)) {
            return i + 1;
          }
        }
        return thresholds.size() + 1;
    }
  }

  /**
   * How alike two values are, in [0, 1], for match rules: 1 equal; Jaro-Winkler or Levenshtein
   * similarity; for dates 1, 0.75 (day and month swapped), 0.5 (one part differs) or 0; for numbers
   * 1, 0.5 (within the tolerance) or 0; null when either value is empty.
   */
  public Double similarity(String a, String b) {
    int level = level(a, b);
    if (level == MISSING) {
      return null;
    }
    switch (method) {
      case JARO_WINKLER:
        return Similarity.jaroWinkler(a, b);
      case LEVENSHTEIN:
        return Similarity.levenshteinSimilarity(a, b);
      case DATE:
        return 1.0 - level / 4.0 - (level == 3 ? 0.25 : 0);
      case NUMERIC:
        return level == 0 ? 1.0 : level == 1 ? 0.5 : 0.0;
      default:
        return level == 0 ? 1.0 : 0.0;
    }
  }

  @Override
  public String toString() {
    return method.name().toLowerCase(Locale.ROOT)
        + "("
        + field
        + (thresholds.isEmpty() ? "" : ", " + thresholds)
        + ")";
  }
}
