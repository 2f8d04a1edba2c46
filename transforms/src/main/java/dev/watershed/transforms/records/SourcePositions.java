package dev.watershed.transforms.records;

import java.io.Serializable;
import java.util.Comparator;

/**
 * Orders {@value RawRecords#POSITION} values the way their sources wrote them: {@code
 * crm_contacts.csv:9} before {@code crm_contacts.csv:10}, {@code orders/0@99} before {@code
 * orders/0@100}, {@code public.accounts id=9} before {@code public.accounts id=10}.
 *
 * <p>Positions are compared piece by piece: runs of digits as numbers (of any length, leading zeros
 * ignored), everything else as text. Within one file, partition or table that is read order; across
 * files or partitions it is a fixed, deterministic order. Equal numbers written differently ({@code
 * 007} and {@code 7}) fall back to plain text order, so the order is total.
 */
public final class SourcePositions implements Comparator<String>, Serializable {
  private static final SourcePositions INSTANCE = new SourcePositions();

  private SourcePositions() {}

  /** The comparator; nulls first. */
  public static SourcePositions order() {
    return INSTANCE;
  }

  @Override
  public int compare(String a, String b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char x = a.charAt(i);
      char y = b.charAt(j);
      if (isDigit(x) && isDigit(y)) {
        int endA = digitsEnd(a, i);
        int endB = digitsEnd(b, j);
        int byNumber =
            compareDigits(a, skipZeros(a, i, endA), endA, b, skipZeros(b, j, endB), endB);
        if (byNumber != 0) {
          return byNumber;
        }
        i = endA;
        j = endB;
      } else {
        if (x != y) {
          return Character.compare(x, y);
        }
        i++;
        j++;
      }
    }
    int byLength = Integer.compare(a.length() - i, b.length() - j);
    return byLength != 0 ? byLength : a.compareTo(b);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int digitsEnd(String s, int from) {
    int end = from;
    while (end < s.length() && isDigit(s.charAt(end))) {
      end++;
    }
    return end;
  }

  private static int skipZeros(String s, int from, int end) {
    while (from < end - 1 && s.charAt(from) == '0') {
      from++;
    }
    return from;
  }

  /** Compares two digit runs without leading zeros: the longer is larger, else digit by digit. */
  private static int compareDigits(String a, int i, int endA, String b, int j, int endB) {
    int byLength = Integer.compare(endA - i, endB - j);
    if (byLength != 0) {
      return byLength;
    }
    for (; i < endA; i++, j++) {
      int c = Character.compare(a.charAt(i), b.charAt(j));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }
}
