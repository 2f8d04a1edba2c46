package dev.watershed.transforms.conform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class NormalizersTest {
  private static final List<DateTimeFormatter> DATE_FORMATS =
      List.of(
          Normalizers.formatter("yyyy-MM-dd"),
          Normalizers.formatter("dd/MM/yyyy"),
          Normalizers.formatter("MMM d, yyyy"));

  private static String reason(org.junit.jupiter.api.function.Executable call) {
    return assertThrows(ConformException.class, call).reason();
  }

  @Test
  void trimTurnsBlankIntoNull() {
    assertEquals("a b", Normalizers.trim("  a b \t"));
    assertNull(Normalizers.trim("   "));
    assertNull(Normalizers.trim(null));
  }

  @Test
  void caseNormalisers() {
    assertEquals("anna", Normalizers.lower("AnNa"));
    assertEquals("ANNA", Normalizers.upper("AnNa"));
    assertEquals("Anna-Lena O'Neil", Normalizers.title("aNNa-lena o'neil"));
    assertEquals("a b c", Normalizers.collapseSpaces("a  b\t\tc"));
  }

  @ParameterizedTest
  @CsvSource({
    "'  Anna.Schmidt@Example.COM ', anna.schmidt@example.com",
    "mailto:ben@mail.example.org, ben@mail.example.org",
    "o'neil+tag@example.co.uk, o'neil+tag@example.co.uk"
  })
  void emailIsTrimmedAndLowerCased(String raw, String expected) throws ConformException {
    assertEquals(expected, Normalizers.email(raw));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"anna at example.com", "anna@", "@example.com", "anna@example", "a b@example.com"})
  void invalidEmailsAreRejected(String raw) {
    assertEquals(Normalizers.INVALID_EMAIL, reason(() -> Normalizers.email(raw)));
  }

  @ParameterizedTest
  @CsvSource({
    "'+49 30 1234567', DE, +49301234567",
    "'030 1234567', DE, +49301234567",
    "'(030) 1234567', DE, +49301234567",
    "'0049 30 1234567', DE, +49301234567",
    "'+1 (415) 246-1234', DE, +14152461234",
    "'(415) 246-1234', US, +14152461234",
    "'+44 (0)20 79460123', DE, +442079460123"
  })
  void phonesBecomeE164(String raw, String region, String expected) throws ConformException {
    assertEquals(expected, Normalizers.phone(raw, region));
  }

  @ParameterizedTest
  @ValueSource(strings = {"12", "not a phone", "+49 30"})
  void invalidPhonesAreRejected(String raw) {
    assertEquals(Normalizers.INVALID_PHONE, reason(() -> Normalizers.phone(raw, "DE")));
  }

  @ParameterizedTest
  @CsvSource({
    "Germany, DE",
    "deutschland, DE",
    "DEU, DE",
    "' de ', DE",
    "United States of America, US",
    "USA, US",
    "UK, GB",
    "Great Britain, GB",
    "Holland, NL",
    "Côte d’Ivoire, CI",
    "france, FR"
  })
  void countriesBecomeIsoAlpha2(String raw, String expected) throws ConformException {
    assertEquals(expected, Normalizers.country(raw));
  }

  @Test
  void unknownCountryIsRejected() {
    assertEquals(Normalizers.UNKNOWN_COUNTRY, reason(() -> Normalizers.country("Atlantis")));
  }

  @ParameterizedTest
  @CsvSource({
    "yes, true",
    "Y, true",
    "1, true",
    "TRUE, true",
    "on, true",
    "no, false",
    "N, false",
    "0, false",
    "off, false"
  })
  void booleanWords(String raw, boolean expected) throws ConformException {
    assertEquals(expected, Normalizers.bool(raw));
  }

  @Test
  void unknownBooleanWordIsRejected() {
    assertEquals(Normalizers.INVALID_BOOLEAN, reason(() -> Normalizers.bool("maybe")));
  }

  @ParameterizedTest
  @CsvSource({
    "'$1,234.50', '.', 1234.50",
    "'1,234.50 USD', '.', 1234.50",
    "'USD 12', '.', 12.00",
    "'($12.30)', '.', -12.30",
    "'€ 1.234,56', ',', 1234.56",
    "'-0.005', '.', -0.01",
    "'99.995', '.', 100.00"
  })
  void amountsWithCurrencySymbolsAndSeparators(String raw, char separator, String expected)
      throws ConformException {
    assertEquals(new BigDecimal(expected), Normalizers.decimal(raw, 12, 2, true, separator));
  }

  @Test
  void decimalsAreCheckedForNumbersAndPrecision() {
    assertEquals(
        Normalizers.NON_NUMERIC, reason(() -> Normalizers.decimal("n/a", 12, 2, true, '.')));
    assertEquals(
        Normalizers.NON_NUMERIC, reason(() -> Normalizers.decimal("$1,234.50", 12, 2, false, '.')));
    assertEquals(
        Normalizers.NUMERIC_OVERFLOW, reason(() -> Normalizers.decimal("12345", 5, 2, false, '.')));
  }

  @Test
  void wholeNumbers() throws ConformException {
    assertEquals(42L, Normalizers.wholeNumber(" +42 "));
    assertEquals(Normalizers.NON_NUMERIC, reason(() -> Normalizers.wholeNumber("4.2")));
  }

  @ParameterizedTest
  @CsvSource({
    "2023-04-05, 2023-04-05",
    "05/04/2023, 2023-04-05",
    "'Apr 5, 2023', 2023-04-05",
    "'apr 15, 2023', 2023-04-15"
  })
  void datesFromDeclaredFormats(String raw, String expected) throws ConformException {
    assertEquals(LocalDate.parse(expected), Normalizers.date(raw, DATE_FORMATS));
  }

  @ParameterizedTest
  @ValueSource(strings = {"31/02/2023", "2023-13-45", "someday", "2023/04/05"})
  void impossibleOrUnknownDatesAreRejected(String raw) {
    assertEquals(Normalizers.UNPARSABLE_DATE, reason(() -> Normalizers.date(raw, DATE_FORMATS)));
  }

  @Test
  void utcTimestampsReadWithoutAFormatterAgreeWithInstantParse() throws ConformException {
    for (String text :
        List.of(
            "2024-03-01T10:15Z",
            "2024-03-01T10:15:07Z",
            "2024-03-01T10:15:07.5Z",
            "2024-12-31T23:59:59.123456Z",
            "1999-01-28T00:00:00.000000001Z")) {
      assertEquals(
          java.time.OffsetDateTime.parse(text)
              .toInstant()
              .truncatedTo(java.time.temporal.ChronoUnit.MICROS),
          Normalizers.timestamp(text, List.of(), ZoneId.of("UTC")),
          text);
    }
    // Offsets and PostgreSQL's text form are read without a formatter too.
    assertEquals(
        java.time.Instant.parse("2024-03-01T09:15:07Z"),
        Normalizers.utcInstant("2024-03-01T10:15:07+01:00"));
    assertEquals(
        java.time.Instant.parse("2024-03-01T15:45:07.5Z"),
        Normalizers.utcInstant("2024-03-01 10:15:07.5-0530"));
    assertEquals(
        java.time.Instant.parse("2024-03-01T10:15:07.123456Z"),
        Normalizers.utcInstant("2024-03-01 10:15:07.123456789+00"));
    // Every day of a leap and a common year, against java.time.
    for (java.time.LocalDate day = java.time.LocalDate.of(2023, 1, 1);
        day.getYear() < 2025;
        day = day.plusDays(1)) {
      String text = day + "T23:59:59.999Z";
      assertEquals(java.time.Instant.parse(text), Normalizers.utcInstant(text), text);
    }
    // Days a month lacks, times without an offset and other shapes go to the strict formatters.
    assertEquals(null, Normalizers.utcInstant("2023-02-29T10:15:07Z"));
    assertEquals(null, Normalizers.utcInstant("2024-04-31T10:15:07Z"));
    assertEquals(null, Normalizers.utcInstant("2024-03-01T10:15:07"));
    assertEquals(null, Normalizers.utcInstant("2024-03-01T10:15:07+1"));
    assertEquals(null, Normalizers.utcInstant("2024-03-01T10:15:07+19:00"));
    assertEquals(
        java.time.Instant.parse("2024-02-29T10:15:07Z"),
        Normalizers.timestamp("2024-02-29T10:15:07Z", List.of(), ZoneId.of("UTC")));
    ConformException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            ConformException.class,
            () -> Normalizers.timestamp("2023-02-29T10:15:07Z", List.of(), ZoneId.of("UTC")));
    assertEquals("unparsable timestamp", e.reason());
    assertEquals(null, Normalizers.utcInstant("2024-13-01T10:15:07Z"));
    // PostgreSQL's text form, as its CSV exports write it.
    assertEquals(
        java.time.Instant.parse("2024-01-01T09:01:00Z"),
        Normalizers.timestamp("2024-01-01 10:01:00+01", List.of(), ZoneId.of("UTC")));
    assertEquals(
        java.time.Instant.parse("2024-01-01T00:01:00.123456Z"),
        Normalizers.timestamp("2024-01-01 00:01:00.123456+00", List.of(), ZoneId.of("UTC")));
    assertEquals(null, Normalizers.utcInstant("2024-03-01T10:15:07.Z"));
  }

  @Test
  void timestampsWithAndWithoutOffsets() throws ConformException {
    ZoneId utc = ZoneOffset.UTC;
    assertEquals(
        Instant.parse("2024-03-01T10:15:00Z"),
        Normalizers.timestamp("2024-03-01T10:15:00Z", List.of(), utc));
    assertEquals(
        Instant.parse("2024-03-01T09:15:00Z"),
        Normalizers.timestamp("2024-03-01T10:15:00+01:00", List.of(), utc));
    assertEquals(
        Instant.parse("2024-03-01T10:15:00Z"),
        Normalizers.timestamp("2024-03-01 10:15:00", List.of(), utc));
    assertEquals(
        Instant.parse("2024-03-01T09:15:00Z"),
        Normalizers.timestamp("2024-03-01 10:15", List.of(), ZoneId.of("Europe/Berlin")));
    assertEquals(
        Instant.parse("2024-03-01T10:15:00Z"),
        Normalizers.timestamp(
            "01.03.2024 10:15", List.of(Normalizers.formatter("dd.MM.yyyy HH:mm")), utc));
    assertEquals(
        Instant.parse("2024-03-01T10:15:00.123456Z"),
        Normalizers.timestamp("2024-03-01T10:15:00.123456789Z", List.of(), utc));
    assertEquals(
        Normalizers.UNPARSABLE_TIMESTAMP,
        reason(() -> Normalizers.timestamp("yesterday", List.of(), utc)));
    assertEquals(
        Normalizers.UNPARSABLE_TIMESTAMP,
        reason(() -> Normalizers.timestamp("2024-02-30 10:00:00", List.of(), utc)));
  }
}
