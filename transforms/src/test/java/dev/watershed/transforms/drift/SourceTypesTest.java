package dev.watershed.transforms.drift;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SourceTypesTest {
  @Test
  void infersTheNarrowestTypeOfAValue() {
    Map<String, String> expected =
        Map.ofEntries(
            Map.entry("", SourceTypes.NULL),
            Map.entry("   ", SourceTypes.NULL),
            Map.entry("42", "int"),
            Map.entry("+42", "int"),
            Map.entry("-2147483648", "int"),
            Map.entry("2147483648", "long"),
            Map.entry("123456789012345678", "long"),
            Map.entry("1234567890123456789", "decimal"),
            Map.entry("12.50", "decimal"),
            Map.entry(".5", "decimal"),
            Map.entry("5.", "decimal"),
            Map.entry("-0.01", "decimal"),
            Map.entry(".", "string"),
            Map.entry("1.2.3", "string"),
            Map.entry("12a", "string"),
            Map.entry("true", "boolean"),
            Map.entry("FALSE", "boolean"),
            Map.entry("2024-02-29", "date"),
            Map.entry("2023-02-29", "string"),
            Map.entry("2024-03-01T10:15:30Z", "timestamp"),
            Map.entry("2024-03-01T10:15:30.123+01:00", "timestamp"),
            Map.entry("2024-03-01 10:15:30+00", "timestamp"),
            Map.entry("2024-03-01T10:15:30", "timestamp"),
            Map.entry("2024-03-01 10:15", "timestamp"),
            Map.entry("2024-03-01 later", "string"),
            Map.entry("User1@Example.com", "string"),
            Map.entry("EUR", "string"));
    expected.forEach((text, type) -> assertEquals(type, SourceTypes.infer(text), text));
  }
}
