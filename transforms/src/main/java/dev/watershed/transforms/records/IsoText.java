package dev.watershed.transforms.records;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * ISO-8601 text of instants and local date-times, exactly as {@link Instant#toString()} and {@link
 * LocalDateTime#toString()} write it, without a {@code DateTimeFormatter}: sources write every
 * timestamp they read as text (measured: the formatter was a twentieth of a database read's CPU).
 */
public final class IsoText {
  private IsoText() {}

  /** As {@link Instant#toString()}: {@code 2024-01-01T10:00:00Z}, {@code ...:00.123Z}. */
  public static String instant(Instant instant) {
    LocalDateTime utc = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0, ZoneOffset.UTC);
    int year = utc.getYear();
    if (year < 0 || year > 9999) {
      return instant.toString();
    }
    StringBuilder text = new StringBuilder(30);
    date(text, utc.toLocalDate());
    text.append('T');
    twoDigits(text, utc.getHour()).append(':');
    twoDigits(text, utc.getMinute()).append(':');
    twoDigits(text, utc.getSecond());
    fraction(text, instant.getNano());
    return text.append('Z').toString();
  }

  /** As {@link LocalDateTime#toString()}: {@code 2024-01-01T10:00}, {@code ...T10:00:05.5}. */
  public static String localDateTime(LocalDateTime dateTime) {
    int year = dateTime.getYear();
    if (year < 0 || year > 9999) {
      return dateTime.toString();
    }
    StringBuilder text = new StringBuilder(29);
    date(text, dateTime.toLocalDate());
    text.append('T');
    LocalTime time = dateTime.toLocalTime();
    twoDigits(text, time.getHour()).append(':');
    twoDigits(text, time.getMinute());
    if (time.getSecond() > 0 || time.getNano() > 0) {
      text.append(':');
      twoDigits(text, time.getSecond());
      fraction(text, time.getNano());
    }
    return text.toString();
  }

  private static void date(StringBuilder text, LocalDate date) {
    int year = date.getYear();
    text.append((char) ('0' + year / 1000))
        .append((char) ('0' + year / 100 % 10))
        .append((char) ('0' + year / 10 % 10))
        .append((char) ('0' + year % 10))
        .append('-');
    twoDigits(text, date.getMonthValue()).append('-');
    twoDigits(text, date.getDayOfMonth());
  }

  private static StringBuilder twoDigits(StringBuilder text, int value) {
    return text.append((char) ('0' + value / 10)).append((char) ('0' + value % 10));
  }

  /**
   * Nanoseconds as {@code .SSS}, {@code .SSSSSS} or {@code .SSSSSSSSS}, the fewest that hold it.
   */
  private static void fraction(StringBuilder text, int nanos) {
    if (nanos == 0) {
      return;
    }
    text.append('.');
    int digits;
    int value;
    if (nanos % 1_000_000 == 0) {
      digits = 3;
      value = nanos / 1_000_000;
    } else if (nanos % 1000 == 0) {
      digits = 6;
      value = nanos / 1000;
    } else {
      digits = 9;
      value = nanos;
    }
    for (int divisor = (int) Math.pow(10, digits - 1); divisor > 0; divisor /= 10) {
      text.append((char) ('0' + value / divisor % 10));
    }
  }
}
