package dev.watershed.transforms.drift;

import dev.watershed.transforms.conform.Normalizers;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The types a source column is seen to have, for schema drift: {@code int}, {@code long}, {@code
 * decimal}, {@code boolean}, {@code date}, {@code timestamp}, {@code string}, or {@code null} for a
 * column with no values yet.
 *
 * <p>Text sources (CSV, JSON lines) have no declared types, so a column's type is the narrowest
 * that holds all its values; JDBC sources report theirs. Types widen along {@code int -> long ->
 * decimal -> string} and {@code date -> timestamp -> string}; {@code boolean -> string}.
 */
public final class SourceTypes {
  public static final String NULL = "null";
  private static final List<String> NUMBERS = List.of("int", "long", "decimal");
  private static final Set<String> WORDS = Set.of("true", "false");

  private SourceTypes() {}

  /** The type family of a declared type: {@code decimal(12,2)} is {@code decimal}. */
  public static String family(String declared) {
    String type = declared.trim().toLowerCase(Locale.ROOT);
    return type.startsWith("decimal") ? "decimal" : type;
  }

  /**
   * The narrowest type that holds {@code text}; {@link #NULL} for an empty value. Numbers and
   * timestamps in ISO-8601 or PostgreSQL's text form are recognised without regular expressions or
   * exceptions, since every value of a sampled file passes here.
   */
  public static String infer(String text) {
    if (text == null) {
      return NULL;
    }
    String t = text.strip();
    if (t.isEmpty()) {
      return NULL;
    }
    String number = number(t);
    if (number != null) {
      return number;
    }
    if (WORDS.contains(t.toLowerCase(Locale.ROOT))) {
      return "boolean";
    }
    boolean dateShape =
        t.length() >= 10
            && Character.isDigit(t.charAt(0))
            && t.charAt(4) == '-'
            && t.charAt(7) == '-';
    if (!dateShape) {
      return "string";
    }
    if (t.length() == 10) {
      try {
        LocalDate.parse(t);
        return "date";
      } catch (DateTimeParseException e) {
        return "string";
      }
    }
    if (t.length() >= 16 && (t.charAt(10) == 'T' || t.charAt(10) == ' ')) {
      if (Normalizers.utcInstant(t) != null) {
        return "timestamp";
      }
      for (Function<String, Object> parser :
          List.<Function<String, Object>>of(
              Instant::parse,
              OffsetDateTime::parse,
              LocalDateTime::parse,
              s -> LocalDateTime.parse(s.replace(' ', 'T')))) {
        try {
          parser.apply(t);
          return "timestamp";
        } catch (DateTimeParseException e) {
          // try the next form
        }
      }
    }
    return "string";
  }

  /**
   * {@code int} or {@code long} for up to 18 digits with an optional sign, {@code decimal} for more
   * digits or digits with one point; null for anything else.
   */
  private static String number(String t) {
    int start = t.charAt(0) == '+' || t.charAt(0) == '-' ? 1 : 0;
    int digits = 0;
    int points = 0;
    for (int i = start; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c >= '0' && c <= '9') {
        digits++;
      } else if (c == '.') {
        points++;
      } else {
        return null;
      }
    }
    if (digits == 0 || points > 1) {
      return null;
    }
    if (points == 1 || digits > 18) {
      return "decimal";
    }
    long value = Long.parseLong(t.charAt(0) == '+' ? t.substring(1) : t);
    return value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE ? "int" : "long";
  }

  /** The narrowest type that holds values of both types. */
  public static String widest(String a, String b) {
    if (a.equals(NULL)) {
      return b;
    }
    if (b.equals(NULL) || a.equals(b)) {
      return a;
    }
    if (NUMBERS.contains(a) && NUMBERS.contains(b)) {
      return NUMBERS.get(Math.max(NUMBERS.indexOf(a), NUMBERS.indexOf(b)));
    }
    if (Set.of(a, b).equals(Set.of("date", "timestamp"))) {
      return "timestamp";
    }
    return "string";
  }

  /**
   * True when every value of type {@code observed} fits a column expected to be {@code expected}.
   */
  public static boolean fits(String observed, String expected) {
    return widest(observed, family(expected)).equals(family(expected));
  }
}
