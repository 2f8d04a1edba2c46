package dev.watershed.transforms.quality;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExpressionTest {
  private static final Schema SCHEMA =
      Schema.builder()
          .addNullableField("status", Schema.FieldType.STRING)
          .addNullableField("balance", Schema.FieldType.DECIMAL)
          .addNullableField("visits", Schema.FieldType.INT64)
          .addNullableField("since", Schema.FieldType.logicalType(SqlTypes.DATE))
          .addNullableField("at", Schema.FieldType.logicalType(SqlTypes.TIMESTAMP))
          .addNullableField("active", Schema.FieldType.BOOLEAN)
          .build();

  private static final Row ROW =
      Row.withSchema(SCHEMA)
          .addValues(
              "closed",
              new BigDecimal("12.50"),
              3L,
              LocalDate.of(2024, 2, 29),
              Instant.parse("2024-03-01T10:00:00Z"),
              true)
          .build();
  private static final Row NULLS =
      Row.withSchema(SCHEMA).addValues(null, null, null, null, null, null).build();

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "status = 'closed'|true",
        "status != 'closed'|false",
        "status <> 'open'|true",
        "balance >= 12.5|true",
        "balance > 12.5|false",
        "visits < 10 and balance > 0|true",
        "visits > 10 or balance > 0|true",
        "not (visits > 10)|true",
        "NOT visits > 1|false",
        "length(status) = 6|true",
        "since >= '2024-01-01'|true",
        "at < '2024-03-01T11:00:00Z'|true",
        "active = true|true",
        "status is not null|true",
        "status is null|false",
        "visits = -3 or visits = 3|true",
        "status = 'it''s'|false"
      })
  void evaluatesOnARow(String expression, boolean expected) {
    assertEquals(expected, Expression.parse(expression, SCHEMA).test(ROW), expression);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "balance >= 0|false",
        "balance is null or balance >= 0|true",
        "not (balance < 0)|false",
        "status = null|false",
        "coalesce(balance, 0) >= 0|true"
      })
  void aComparisonWithNullIsUnknownAndFails(String expression, boolean expected) {
    assertEquals(expected, Expression.parse(expression, SCHEMA).test(NULLS), expression);
  }

  @Test
  void errorsNameThePositionAndTheProblem() {
    IllegalArgumentException unknown =
        assertThrows(IllegalArgumentException.class, () -> Expression.parse("stats = 'x'", SCHEMA));
    assertTrue(
        unknown.getMessage().contains("at character 1: no column 'stats'"), unknown.getMessage());
    IllegalArgumentException unclosed =
        assertThrows(IllegalArgumentException.class, () -> Expression.parse("status = 'x", SCHEMA));
    assertTrue(unclosed.getMessage().contains("at character "), unclosed.getMessage());
    IllegalArgumentException trailing =
        assertThrows(
            IllegalArgumentException.class, () -> Expression.parse("visits > 1 visits", SCHEMA));
    assertTrue(trailing.getMessage().contains("at character 12:"), trailing.getMessage());
    IllegalArgumentException call =
        assertThrows(
            IllegalArgumentException.class, () -> Expression.parse("System.exit(1)", SCHEMA));
    assertTrue(call.getMessage().contains("at character 1:"), call.getMessage());
    IllegalArgumentException notACondition =
        assertThrows(IllegalArgumentException.class, () -> Expression.parse("visits + 1", SCHEMA));
    assertTrue(
        notACondition.getMessage().contains("gives a number, not true or false"),
        notACondition.getMessage());
  }
}
