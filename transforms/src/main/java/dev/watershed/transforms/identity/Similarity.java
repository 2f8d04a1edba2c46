package dev.watershed.transforms.identity;

import java.util.Locale;

/** String and value similarities used to compare candidate records. All are symmetric. */
public final class Similarity {
  private Similarity() {}

  /**
   * Jaro-Winkler similarity in [0, 1], as Winkler defined it (and Commons Text and DuckDB, which
   * Splink uses, compute it): the Jaro similarity, raised by 0.1 per common prefix character (up to
   * 4) only when it is above {@value #BOOST_THRESHOLD}; a weaker Jaro similarity is returned as it
   * is.
   */
  public static double jaroWinkler(String a, String b) {
    return jaroWinklerOf(a, b);
  }

  /** The Jaro similarity above which a common prefix raises the score (Winkler's threshold). */
  public static final double BOOST_THRESHOLD = 0.7;

  private static double jaroWinklerOf(String a, String b) {
    if (a.equals(b)) {
      return 1.0;
    }
    int la = a.length();
    int lb = b.length();
    if (la == 0 || lb == 0) {
      return 0.0;
    }
    int window = Math.max(0, Math.max(la, lb) / 2 - 1);
    boolean[] matchedA = new boolean[la];
    boolean[] matchedB = new boolean[lb];
    int matches = 0;
    for (int i = 0; i < la; i++) {
      int from = Math.max(0, i - window);
      int to = Math.min(lb - 1, i + window);
      for (int j = from; j <= to; j++) {
        if (!matchedB[j] && a.charAt(i) == b.charAt(j)) {
          matchedA[i] = true;
          matchedB[j] = true;
          matches++;
          break;
        }
      }
    }
    if (matches == 0) {
      return 0.0;
    }
    int transpositions = 0;
    int k = 0;
    for (int i = 0; i < la; i++) {
      if (matchedA[i]) {
        while (!matchedB[k]) {
          k++;
        }
        if (a.charAt(i) != b.charAt(k)) {
          transpositions++;
        }
        k++;
      }
    }
    double m = matches;
    double jaro = (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
    int prefix = 0;
    while (prefix < Math.min(4, Math.min(la, lb)) && a.charAt(prefix) == b.charAt(prefix)) {
      prefix++;
    }
    return jaro > BOOST_THRESHOLD ? jaro + prefix * 0.1 * (1 - jaro) : jaro;
  }

  /** Levenshtein edit distance. */
  public static int levenshtein(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        current[j] =
            Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }

  /** 1 minus the edit distance over the longer length, in [0, 1]. */
  public static double levenshteinSimilarity(String a, String b) {
    int longest = Math.max(a.length(), b.length());
    return longest == 0 ? 1.0 : 1.0 - (double) levenshtein(a, b) / longest;
  }

  /** American Soundex code of a name ({@code Robert} and {@code Rupert} are {@code R163}). */
  public static String soundex(String name) {
    String s = name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z]", "");
    if (s.isEmpty()) {
      return "";
    }
    String codes = "01230120022455012623010202";
    StringBuilder out = new StringBuilder().append(s.charAt(0));
    char last = codes.charAt(s.charAt(0) - 'A');
    for (int i = 1; i < s.length() && out.length() < 4; i++) {
      char c = s.charAt(i);
      char code = codes.charAt(c - 'A');
      if (code != '0' && code != last) {
        out.append(code);
      }
      if (c != 'H' && c != 'W') {
        last = code;
      }
    }
    while (out.length() < 4) {
      out.append('0');
    }
    return out.toString();
  }

  /**
   * How close two dates written {@code yyyymmdd} or {@code yyyy-mm-dd} are: 0 equal, 1 day and
   * month swapped, 2 one of year, month or day differs, 3 more.
   */
  public static int dateLevel(String a, String b) {
    String x = a.replace("-", "");
    String y = b.replace("-", "");
    if (x.equals(y)) {
      return 0;
    }
    if (x.length() != 8 || y.length() != 8) {
      return 3;
    }
    String ya = x.substring(0, 4);
    String ma = x.substring(4, 6);
    String da = x.substring(6, 8);
    String yb = y.substring(0, 4);
    String mb = y.substring(4, 6);
    String db = y.substring(6, 8);
    if (ya.equals(yb) && ma.equals(db) && da.equals(mb)) {
      return 1;
    }
    int same = (ya.equals(yb) ? 1 : 0) + (ma.equals(mb) ? 1 : 0) + (da.equals(db) ? 1 : 0);
    return same == 2 ? 2 : 3;
  }
}
