package dev.watershed.transforms.expression;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SqlExpressionTest {
  private static final Map<String, Object> ROW = new HashMap<>();

  static {
    ROW.put("first_name", "Ada");
    ROW.put("last_name", "Lovelace");
    ROW.put("middle", null);
    ROW.put("amount", "12.50");
    ROW.put("qty", "3");
    ROW.put("country", "Deutschland");
    ROW.put("signed_up", "2024-03-05T23:30:00Z");
    ROW.put("born", "05.11.1815");
    ROW.put("status", "ACTIVE");
    ROW.put("First Name", "Quoted");
    ROW.put("date", "2024-01-02");
    ROW.put("value", "7");
  }

  private static final LookupTable COUNTRIES =
      LookupTable.of(
          "country_codes",
          "name",
          List.of("name", "iso2"),
          List.of(
              Map.of("name", "Deutschland", "iso2", "DE"),
              Map.of("name", "United Kingdom", "iso2", "GB")));

  private static SqlExpression parse(String text) {
    return SqlExpression.parse(
        text,
        column -> ROW.containsKey(column) ? ValueType.TEXT : null,
        Map.of("country_codes", COUNTRIES));
  }

  private static Object eval(String text) {
    return parse(text).eval(ROW::get);
  }

  @Test
  void textFunctions() {
    assertEquals("Ada Lovelace", eval("concat_ws(' ', first_name, middle, last_name)"));
    assertEquals("AdaLovelace", eval("concat(first_name, middle, last_name)"));
    assertNull(eval("first_name || middle"));
    assertEquals("Ada Lovelace", eval("first_name || ' ' || last_name"));
    assertEquals("LOVELACE", eval("upper(last_name)"));
    assertEquals("lovelace", eval("lower(last_name)"));
    assertEquals("Hello World", eval("initcap('hELLO world')"));
    assertEquals("x", eval("trim('  x ')"));
    assertEquals("x--", eval("trim(leading '-' from '--x--')"));
    assertEquals("Love", eval("substring(last_name from 1 for 4)"));
    assertEquals("lace", eval("substr(last_name, 5)"));
    assertEquals("Lo", eval("left(last_name, 2)"));
    assertEquals("ce", eval("right(last_name, 2)"));
    assertEquals("00042", eval("lpad('42', 5, '0')"));
    assertEquals("b", eval("split_part('a-b-c', '-', 2)"));
    assertEquals(new BigDecimal(8), eval("length(last_name)"));
    assertEquals(new BigDecimal(5), eval("position('lace' in last_name)"));
    assertEquals("0301234", eval("regexp_replace('030-1234', '[^0-9]', '')"));
    assertEquals("Quoted", eval("\"First Name\""));
    // Columns named like SQL keywords need no quotes.
    assertEquals(Boolean.TRUE, eval("date >= '2024-01-01' and value * 2 = 14"));
  }

  @Test
  void numbersFromTextColumns() {
    assertEquals(new BigDecimal("37.50"), eval("amount * qty"));
    assertEquals(new BigDecimal("13"), eval("round(amount)"));
    assertEquals(new BigDecimal("12.5"), eval("cast(amount as decimal(10,1))"));
    assertEquals(new BigDecimal("4.166666666666667"), eval("amount / qty"));
    assertEquals(new BigDecimal("-3"), eval("-qty"));
    assertEquals(Boolean.TRUE, eval("amount > 10 and qty between 1 and 5"));
    ExpressionException e = assertThrows(ExpressionException.class, () -> eval("first_name * 2"));
    assertEquals("'Ada' is not a number", e.getMessage());
    assertThrows(ExpressionException.class, () -> eval("qty / 0"));
  }

  @Test
  void conditionsAndNulls() {
    assertEquals(
        "active",
        eval("case status when 'ACTIVE' then 'active' when 'GONE' then 'closed' else 'other' end"));
    assertEquals("big", eval("case when amount > 10 then 'big' else 'small' end"));
    assertEquals("none", eval("coalesce(middle, 'none')"));
    assertNull(eval("nullif(status, 'ACTIVE')"));
    assertNull(eval("middle = 'x'"));
    assertEquals(Boolean.TRUE, eval("middle is null"));
    assertEquals(Boolean.TRUE, eval("status in ('ACTIVE', 'PAUSED')"));
    assertEquals(Boolean.TRUE, eval("last_name like 'Love%'"));
    assertEquals(Boolean.TRUE, eval("last_name not like '%x%'"));
    assertEquals(Boolean.FALSE, eval("middle is null and status <> 'ACTIVE'"));
    assertNull(eval("middle = 'x' and status = 'ACTIVE'"));
    assertEquals(Boolean.TRUE, eval("middle = 'x' or status = 'ACTIVE'"));
    assertEquals(new BigDecimal("12.50"), eval("greatest(amount, 3)"));
  }

  @Test
  void datesAndTimestamps() {
    assertEquals(LocalDate.of(1815, 11, 5), eval("to_date(born, 'dd.MM.yyyy')"));
    assertEquals(LocalDate.of(2024, 3, 5), eval("cast(signed_up as date)"));
    assertEquals(Instant.parse("2024-03-05T23:30:00Z"), eval("cast(signed_up as timestamp)"));
    assertEquals(new BigDecimal(2024), eval("year(signed_up)"));
    assertEquals(new BigDecimal(3), eval("extract(month from signed_up)"));
    assertEquals(Instant.parse("2024-03-01T00:00:00Z"), eval("date_trunc('month', signed_up)"));
    assertEquals(LocalDate.of(1815, 11, 12), eval("date_add(to_date(born, 'dd.MM.yyyy'), 7)"));
    assertEquals(
        new BigDecimal(4), eval("days_between(date '2024-03-01', cast(signed_up as date))"));
    assertEquals(Boolean.TRUE, eval("signed_up >= date '2024-01-01'"));
    assertEquals(
        Instant.parse("2024-01-01T09:00:00Z"), eval("cast('2024-01-01 10:00:00+01' as timestamp)"));
  }

  @Test
  void lookups() {
    assertEquals("DE", eval("lookup('country_codes', 'iso2', country)"));
    assertEquals("GB", eval("lookup('country_codes', 'iso2', ' united kingdom ')"));
    assertNull(eval("lookup('country_codes', 'iso2', 'Atlantis')"));
    assertEquals("XX", eval("coalesce(lookup('country_codes', 'iso2', 'Atlantis'), 'XX')"));
  }

  @Test
  void typesAndColumnsAreKnownWhenParsed() {
    assertEquals(ValueType.TEXT, parse("concat_ws(' ', first_name, last_name)").type());
    assertEquals(Set.of("first_name", "last_name"), parse("first_name || last_name").columns());
    assertEquals(ValueType.NUMBER, parse("amount * 2").type());
    assertEquals(ValueType.DATE, parse("to_date(born, 'dd.MM.yyyy')").type());
    assertEquals(ValueType.BOOLEAN, parse("amount > 2").type());
    assertEquals(ValueType.TIMESTAMP, parse("date_trunc('day', signed_up)").type());
  }

  @Test
  void mistakesAreNamedWhenParsed() {
    assertMessage("no column 'nickname'", "upper(nickname)");
    assertMessage("unknown function 'shell'", "shell('rm -rf /')");
    assertMessage("upper takes 1 arguments, got 2", "upper(first_name, last_name)");
    assertMessage("no lookup table 'regions'", "lookup('regions', 'x', country)");
    assertMessage("has no column 'iso3'", "lookup('country_codes', 'iso3', country)");
    assertMessage("bad regular expression '['", "regexp_replace(first_name, '[', '')");
    assertMessage("date_trunc: unknown unit 'fortnight'", "date_trunc('fortnight', signed_up)");
    assertMessage("cannot compare boolean with number", "(amount > 1) = 2");
    assertMessage("WHEN needs a boolean", "case when 'x' then 1 end");
    assertMessage("at character", "concat(first_name,");
    assertMessage("cannot cast to varbinary", "cast(first_name as varbinary)");
  }

  private static void assertMessage(String part, String expression) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> parse(expression));
    assertTrue(
        e.getMessage().contains(part), () -> "'" + e.getMessage() + "' lacks '" + part + "'");
    assertTrue(e.getMessage().startsWith("expression '"), e::getMessage);
  }
}
