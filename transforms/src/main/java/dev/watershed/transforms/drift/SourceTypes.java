package dev.watershed.transforms.drift;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Set;

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

  /** The narrowest type that holds {@code text}; {@link #NULL} for an empty value. */
  public static String infer(String text) {
    if (text == null || text.isBlank()) {
      return NULL;
    }
    String t = text.strip();
    if (t.matches("[+-]?\\d{1,18}")) {
      long value = Long.parseLong(t.startsWith("+") ? t.substring(1) : t);
      return value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE ? "int" : "long";
    }
    if (t.matches("[+-]?\\d*\\.\\d+|[+-]?\\d+\\.\\d*|[+-]?\\d{19,}")) {
      try {
        new BigDecimal(t);
        return "decimal";
      } catch (NumberFormatException e) {
        return "string";
      }
    }
    if (WORDS.contains(t.toLowerCase(Locale.ROOT))) {
      return "boolean";
    }
    if (t.length() == 10) {
      try {
        LocalDate.parse(t);
        return "date";
      } catch (DateTimeParseException e) {
        return "string";
      }
    }
    if (t.length() >= 16 && Character.isDigit(t.charAt(0))) {
      for (java.util.function.Function<String, Object> parser :
          List.<java.util.function.Function<String, Object>>of(
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
