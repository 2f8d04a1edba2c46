package dev.watershed.transforms.conform;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.IDN;
import java.text.Normalizer;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.Year;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAccessor;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.MissingResourceException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The value normalisers behind {@link Conform}: pure functions from text to a canonical value.
 *
 * <p>Each one either returns the canonical value or throws a {@link ConformException} whose reason
 * is one of the stable categories below, so a bad value goes to the dead-letter output with a
 * reason that can be counted:
 *
 * <ul>
 *   <li>{@value #INVALID_EMAIL}, {@value #INVALID_PHONE}, {@value #UNKNOWN_COUNTRY},
 *   <li>{@value #UNPARSABLE_DATE}, {@value #UNPARSABLE_TIMESTAMP},
 *   <li>{@value #NON_NUMERIC}, {@value #NUMERIC_OVERFLOW}, {@value #INVALID_BOOLEAN}.
 * </ul>
 */
public final class Normalizers {
  public static final String INVALID_EMAIL = "invalid email";
  public static final String INVALID_PHONE = "invalid phone";
  public static final String UNKNOWN_COUNTRY = "unknown country";
  public static final String UNPARSABLE_DATE = "unparsable date";
  public static final String UNPARSABLE_TIMESTAMP = "unparsable timestamp";
  public static final String NON_NUMERIC = "non-numeric value";
  public static final String NUMERIC_OVERFLOW = "numeric overflow";
  public static final String INVALID_BOOLEAN = "invalid boolean";

  // Local part and domain as most mail systems accept them; deliberately not the full RFC 5322.
  // The local part may hold any letter or digit (RFC 6531); the domain is checked in its ASCII
  // (IDNA) form.
  private static final Pattern LOCAL_PART =
      Pattern.compile("[\\p{L}\\p{N}\\p{M}!#$%&'*+/=?^_`{|}~.-]+");
  private static final Pattern ASCII_DOMAIN =
      Pattern.compile("[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+");
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern CURRENCY = Pattern.compile("[\\p{Sc}]|\\b[A-Z]{3}\\b");
  private static final Set<String> TRUE_WORDS =
      Set.of("true", "t", "yes", "y", "1", "on", "active", "enabled");
  private static final Set<String> FALSE_WORDS =
      Set.of("false", "f", "no", "n", "0", "off", "inactive", "disabled");
  private static final Map<String, String> COUNTRIES = countryIndex();

  private Normalizers() {}

  /** Trims, and turns an empty string into null. */
  public static String trim(String value) {
    if (value == null) {
      return null;
    }
    String trimmed = value.strip();
    return trimmed.isEmpty() ? null : trimmed;
  }

  /** Collapses runs of whitespace to one space. */
  public static String collapseSpaces(String value) {
    return value == null ? null : WHITESPACE.matcher(value).replaceAll(" ");
  }

  public static String lower(String value) {
    return value == null ? null : value.toLowerCase(Locale.ROOT);
  }

  public static String upper(String value) {
    return value == null ? null : value.toUpperCase(Locale.ROOT);
  }

  /**
   * Capitalises the first letter of each word: {@code "aNNa-lena o'neil"} to {@code "Anna-Lena
   * O'Neil"}.
   */
  public static String title(String value) {
    if (value == null) {
      return null;
    }
    StringBuilder out = new StringBuilder(value.length());
    boolean startOfWord = true;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      out.append(startOfWord ? Character.toTitleCase(c) : Character.toLowerCase(c));
      startOfWord = !Character.isLetterOrDigit(c);
    }
    return out.toString();
  }

  /** Trims and lower-cases an email address, and checks its shape. */
  public static String email(String value) throws ConformException {
    String email = lower(trim(value));
    if (email == null) {
      return null;
    }
    if (email.startsWith("mailto:")) {
      email = email.substring("mailto:".length());
    }
    email = Normalizer.normalize(email, Normalizer.Form.NFC);
    int at = email.lastIndexOf('@');
    if (at <= 0
        || !LOCAL_PART.matcher(email.substring(0, at)).matches()
        || email.startsWith(".")
        || email.contains("..")
        || !asciiDomain(email.substring(at + 1))) {
      throw new ConformException(INVALID_EMAIL, "'" + value + "' is not an email address");
    }
    return email;
  }

  private static boolean asciiDomain(String domain) {
    try {
      String ascii = IDN.toASCII(domain, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
      return ASCII_DOMAIN.matcher(ascii).matches();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * A phone number in E.164 form ({@code +4930123456}); numbers without a country code are read in
   * {@code defaultRegion} (ISO 3166 alpha-2).
   */
  public static String phone(String value, String defaultRegion) throws ConformException {
    String phone = trim(value);
    if (phone == null) {
      return null;
    }
    PhoneNumberUtil util = PhoneNumberUtil.getInstance();
    try {
      PhoneNumber parsed = util.parse(phone, defaultRegion);
      if (!util.isValidNumber(parsed)) {
        throw new ConformException(
            INVALID_PHONE,
            "'" + value + "' is not a valid phone number (region " + defaultRegion + ")");
      }
      return util.format(parsed, PhoneNumberUtil.PhoneNumberFormat.E164);
    } catch (NumberParseException e) {
      throw new ConformException(
          INVALID_PHONE, "'" + value + "' is not a phone number: " + e.getMessage());
    }
  }

  /** True when {@code code} is a region phone numbers can be read in. */
  public static boolean isPhoneRegion(String code) {
    return PhoneNumberUtil.getInstance().getSupportedRegions().contains(code);
  }

  /**
   * An ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 code or a country name in English,
   * German, French or Spanish ({@code "Deutschland"}, {@code "DEU"}, {@code "germany"} to {@code
   * "DE"}).
   */
  public static String country(String value) throws ConformException {
    String country = trim(value);
    if (country == null) {
      return null;
    }
    String code = COUNTRIES.get(countryKey(country));
    if (code == null) {
      throw new ConformException(
          UNKNOWN_COUNTRY, "'" + value + "' is not a known country name or code");
    }
    return code;
  }

  /** True or false from words such as yes/no, y/n, 1/0, true/false, on/off. */
  public static Boolean bool(String value) throws ConformException {
    String word = lower(trim(value));
    if (word == null) {
      return null;
    }
    if (TRUE_WORDS.contains(word)) {
      return Boolean.TRUE;
    }
    if (FALSE_WORDS.contains(word)) {
      return Boolean.FALSE;
    }
    throw new ConformException(INVALID_BOOLEAN, "'" + value + "' is not a yes/no value");
  }

  /** A whole number that fits in a {@code long}. */
  public static Long wholeNumber(String value) throws ConformException {
    String number = trim(value);
    if (number == null) {
      return null;
    }
    try {
      return Long.parseLong(number.startsWith("+") ? number.substring(1) : number);
    } catch (NumberFormatException e) {
      throw new ConformException(NON_NUMERIC, "'" + value + "' is not a whole number");
    }
  }

  /**
   * A decimal of the given precision and scale, rounded half-up to the scale.
   *
   * <p>With {@code amount} set, currency symbols and codes ({@code $ € £ USD}), spaces and
   * thousands separators are removed first, and {@code decimalSeparator} says which of {@code .}
   * and {@code ,} separates the fraction ({@code "€ 1.234,50"} with {@code ','} is 1234.50).
   * Parentheses mark a negative amount, as in accounting exports.
   */
  public static BigDecimal decimal(
      String value, int precision, int scale, boolean amount, char decimalSeparator)
      throws ConformException {
    String text = trim(value);
    if (text == null) {
      return null;
    }
    if (amount) {
      text = amountText(text, decimalSeparator);
    }
    BigDecimal number;
    try {
      number = new BigDecimal(text);
    } catch (NumberFormatException e) {
      throw new ConformException(NON_NUMERIC, "'" + value + "' is not a number");
    }
    BigDecimal scaled = number.setScale(scale, RoundingMode.HALF_UP);
    if (scaled.precision() - scaled.scale() > precision - scale) {
      throw new ConformException(
          NUMERIC_OVERFLOW,
          "'" + value + "' does not fit decimal(" + precision + "," + scale + ")");
    }
    return scaled;
  }

  private static String amountText(String text, char decimalSeparator) {
    boolean negative = false;
    String t = text;
    if (t.startsWith("(") && t.endsWith(")")) {
      negative = true;
      t = t.substring(1, t.length() - 1);
    }
    t = CURRENCY.matcher(t).replaceAll("");
    t = WHITESPACE.matcher(t).replaceAll("").replace("'", "");
    char thousands = decimalSeparator == ',' ? '.' : ',';
    t = t.replace(String.valueOf(thousands), "");
    if (decimalSeparator == ',') {
      t = t.replace(',', '.');
    }
    if (t.endsWith("-")) {
      negative = !negative;
      t = t.substring(0, t.length() - 1);
    }
    if (t.startsWith("-")) {
      negative = !negative;
      t = t.substring(1);
    }
    return negative ? "-" + t : t;
  }

  /**
   * A date read with the first of {@code formats} (java.time patterns such as {@code dd/MM/yyyy})
   * that parses the whole value; ISO {@code yyyy-MM-dd} when no format is given. Dates that do not
   * exist (31 February) are rejected, not rolled over.
   */
  public static LocalDate date(String value, List<DateTimeFormatter> formats)
      throws ConformException {
    return date(value, formats, ZoneOffset.UTC);
  }

  /**
   * As {@link #date(String, List)}; with no format given, an ISO timestamp is also accepted (a
   * timestamp column conformed to a date field): one with an offset gives its date in {@code zone},
   * one without gives the date it names.
   */
  public static LocalDate date(String value, List<DateTimeFormatter> formats, ZoneId zone)
      throws ConformException {
    String text = trim(value);
    if (text == null) {
      return null;
    }
    // Without formats a longer text is a timestamp: no ISO date parse (and exception) for it.
    List<DateTimeFormatter> candidates =
        formats.isEmpty()
            ? (text.length() > 10 ? List.of() : List.of(DateTimeFormatter.ISO_LOCAL_DATE))
            : formats;
    for (DateTimeFormatter format : candidates) {
      try {
        return LocalDate.from(format.parse(text));
      } catch (DateTimeException e) {
        // try the next format
      }
    }
    if (formats.isEmpty() && text.length() > 10) {
      Instant instant = utcInstant(text);
      if (instant != null) {
        return LocalDate.ofInstant(instant, zone);
      }
      for (DateTimeFormatter format : ISO_TIMESTAMPS) {
        try {
          TemporalAccessor parsed = format.parse(text);
          if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
            return LocalDate.ofInstant(OffsetDateTime.from(parsed).toInstant(), zone);
          }
          return LocalDate.from(parsed);
        } catch (DateTimeException e) {
          // try the next form
        }
      }
    }
    throw new ConformException(
        UNPARSABLE_DATE, "'" + value + "' matches none of the date formats " + describe(formats));
  }

  /**
   * An instant read with the first of {@code formats} that parses the whole value. A value without
   * an offset is read in {@code zone}; a format without a time means the start of that day. With no
   * format given, ISO-8601 with or without an offset is accepted ({@code 2024-03-01T10:15:00Z},
   * {@code 2024-03-01T10:15:00}, {@code 2024-03-01 10:15:00}). Digits below the microsecond are
   * dropped.
   */
  public static Instant timestamp(String value, List<DateTimeFormatter> formats, ZoneId zone)
      throws ConformException {
    String text = trim(value);
    if (text == null) {
      return null;
    }
    if (formats.isEmpty()) {
      Instant utc = utcInstant(text);
      if (utc != null) {
        return utc;
      }
    }
    List<DateTimeFormatter> candidates = formats.isEmpty() ? ISO_TIMESTAMPS : formats;
    for (DateTimeFormatter format : candidates) {
      try {
        TemporalAccessor parsed = format.parse(text);
        // Timestamps are kept to the microsecond, as in the warehouses they are loaded into.
        if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
          return OffsetDateTime.from(parsed).toInstant().truncatedTo(ChronoUnit.MICROS);
        }
        if (parsed.isSupported(ChronoField.HOUR_OF_DAY)) {
          return LocalDateTime.from(parsed).atZone(zone).toInstant().truncatedTo(ChronoUnit.MICROS);
        }
        return LocalDate.from(parsed).atStartOfDay(zone).toInstant();
      } catch (DateTimeException e) {
        // try the next format
      }
    }
    throw new ConformException(
        UNPARSABLE_TIMESTAMP,
        "'" + value + "' matches none of the timestamp formats " + describe(formats));
  }

  /**
   * {@code uuuu-MM-ddTHH:mm[:ss[.fraction]]} followed by {@code Z} or an offset ({@code +01},
   * {@code -05:30}, {@code +0530}), with {@code T} or a space before the time: the forms JDBC and
   * JSON sources most often give ({@link Instant#toString()}, PostgreSQL's text), read without a
   * formatter; null for any other form. Values out of range (a 30th of February) are left to the
   * formatters, which reject them. Digits below the microsecond are dropped.
   */
  public static Instant utcInstant(String text) {
    int n = text.length();
    if (n < 17
        || n > 35
        || text.charAt(4) != '-'
        || text.charAt(7) != '-'
        || (text.charAt(10) != 'T' && text.charAt(10) != ' ')
        || text.charAt(13) != ':') {
      return null;
    }
    int year = digits(text, 0, 4);
    int month = digits(text, 5, 7);
    int day = digits(text, 8, 10);
    int hour = digits(text, 11, 13);
    int minute = digits(text, 14, 16);
    int second = 0;
    int nanos = 0;
    int at = 16;
    if (at < n && text.charAt(at) == ':') {
      if (at + 3 > n) {
        return null;
      }
      second = digits(text, at + 1, at + 3);
      at += 3;
      if (at < n && text.charAt(at) == '.') {
        int end = at + 1;
        while (end < n && text.charAt(end) >= '0' && text.charAt(end) <= '9') {
          end++;
        }
        int fraction = end - (at + 1);
        if (fraction < 1 || fraction > 9) {
          return null;
        }
        nanos = digits(text, at + 1, end);
        for (int i = fraction; i < 9; i++) {
          nanos *= 10;
        }
        at = end;
      }
    }
    int offsetSeconds = offsetSeconds(text, at);
    if (offsetSeconds == Integer.MIN_VALUE
        || year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > daysInMonth(year, month)
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59
        || nanos < 0) {
      return null;
    }
    long epochDay = LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(
        epochDay * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds,
        nanos - nanos % 1000);
  }

  /**
   * The offset that ends {@code text} at {@code at}: {@code Z}, {@code +HH}, {@code +HH:MM} or
   * {@code +HHMM} (or with {@code -}), in seconds; {@link Integer#MIN_VALUE} for anything else.
   */
  private static int offsetSeconds(String text, int at) {
    int n = text.length();
    if (at == n - 1 && text.charAt(at) == 'Z') {
      return 0;
    }
    if (at >= n || (text.charAt(at) != '+' && text.charAt(at) != '-')) {
      return Integer.MIN_VALUE;
    }
    int sign = text.charAt(at) == '+' ? 1 : -1;
    int rest = n - at - 1;
    int hours;
    int minutes = 0;
    if (rest == 2) {
      hours = digits(text, at + 1, at + 3);
    } else if (rest == 4) {
      hours = digits(text, at + 1, at + 3);
      minutes = digits(text, at + 3, at + 5);
    } else if (rest == 5 && text.charAt(at + 3) == ':') {
      hours = digits(text, at + 1, at + 3);
      minutes = digits(text, at + 4, at + 6);
    } else {
      return Integer.MIN_VALUE;
    }
    if (hours < 0 || hours > 18 || minutes < 0 || minutes > 59) {
      return Integer.MIN_VALUE;
    }
    return sign * (hours * 3600 + minutes * 60);
  }

  private static int daysInMonth(int year, int month) {
    if (month == 2) {
      return Year.isLeap(year) ? 29 : 28;
    }
    return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
  }

  /** The number written in text[from, to), or -1 when a character is not a digit. */
  private static int digits(String text, int from, int to) {
    int value = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  /**
   * A strict formatter for a java.time pattern; {@code uuuu} is used for years so that dates are
   * checked.
   */
  public static DateTimeFormatter formatter(String pattern) {
    return new DateTimeFormatterBuilder()
        .parseCaseInsensitive()
        .appendPattern(pattern.replace("yyyy", "uuuu").replace("yy", "uu"))
        .toFormatter(Locale.ENGLISH)
        .withResolverStyle(ResolverStyle.STRICT);
  }

  private static final List<DateTimeFormatter> ISO_TIMESTAMPS =
      List.of(
          DateTimeFormatter.ISO_OFFSET_DATE_TIME,
          DateTimeFormatter.ISO_LOCAL_DATE_TIME,
          formatter("yyyy-MM-dd HH:mm[:ss][.SSS][XXX]"),
          // PostgreSQL's text form: 2024-01-01 10:00:00.123456+00 (fraction 1-9, offset +HH).
          new DateTimeFormatterBuilder()
              .appendPattern("uuuu-MM-dd HH:mm:ss")
              .optionalStart()
              .appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true)
              .optionalEnd()
              .appendOffset("+HH", "Z")
              .toFormatter(Locale.ENGLISH)
              .withResolverStyle(ResolverStyle.STRICT),
          DateTimeFormatter.ISO_LOCAL_DATE);

  private static String describe(List<DateTimeFormatter> formats) {
    return formats.isEmpty() ? "[ISO-8601]" : formats.size() + " declared in the spec";
  }

  private static String countryKey(String name) {
    String normalized = Normalizer.normalize(name, Normalizer.Form.NFD).replaceAll("\\p{M}", "");
    return normalized.toLowerCase(Locale.ROOT).replaceAll("[^a-z]", "");
  }

  private static Map<String, String> countryIndex() {
    Map<String, String> index = new HashMap<>();
    List<Locale> languages =
        List.of(Locale.ENGLISH, Locale.GERMAN, Locale.FRENCH, new Locale("es"));
    for (String code : Locale.getISOCountries()) {
      Locale country = new Locale("", code);
      index.put(countryKey(code), code);
      try {
        index.put(countryKey(country.getISO3Country()), code);
      } catch (MissingResourceException e) {
        // a few territories have no alpha-3 code in the JDK
      }
      for (Locale language : languages) {
        index.putIfAbsent(countryKey(country.getDisplayCountry(language)), code);
      }
    }
    // Common names that differ from the JDK's display names.
    index.put("uk", "GB");
    index.put("greatbritain", "GB");
    index.put("england", "GB");
    index.put("usa", "US");
    index.put("unitedstatesofamerica", "US");
    index.put("america", "US");
    index.put("holland", "NL");
    index.put("thenetherlands", "NL");
    index.put("czechrepublic", "CZ");
    index.put("southkorea", "KR");
    index.put("russia", "RU");
    return Map.copyOf(index);
  }
}
