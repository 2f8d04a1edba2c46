package dev.watershed.io.jdbc;

/**
 * PostgreSQL's text form of a {@code timestamptz} in UTC ({@code 2024-01-01 10:00:00.12+00}, as the
 * server writes it when the session's time zone is UTC) rewritten as {@link java.time.Instant}
 * writes it ({@code 2024-01-01T10:00:00.120Z}), by moving characters instead of parsing a date.
 */
final class PostgresText {
  private PostgresText() {}

  /** The ISO-8601 instant, or null when {@code text} is in another form or another offset. */
  static String utcTimestamp(String text) {
    int n = text.length();
    if (n < 22
        || n > 29
        || !text.endsWith("+00")
        || text.charAt(4) != '-'
        || text.charAt(7) != '-'
        || text.charAt(10) != ' '
        || text.charAt(13) != ':'
        || text.charAt(16) != ':'
        || !digits(text, 0, 4)
        || !digits(text, 5, 7)
        || !digits(text, 8, 10)
        || !digits(text, 11, 13)
        || !digits(text, 14, 16)
        || !digits(text, 17, 19)) {
      return null;
    }
    int fraction = n - 3 - 20;
    StringBuilder iso = new StringBuilder(31);
    iso.append(text, 0, 10).append('T').append(text, 11, 19);
    if (n > 22) {
      if (text.charAt(19) != '.' || fraction < 1 || fraction > 6 || !digits(text, 20, n - 3)) {
        return null;
      }
      iso.append(text, 19, n - 3);
      for (int i = fraction; i < (fraction <= 3 ? 3 : 6); i++) {
        iso.append('0');
      }
    }
    return iso.append('Z').toString();
  }

  private static boolean digits(String text, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
