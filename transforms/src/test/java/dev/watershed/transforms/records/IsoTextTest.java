package dev.watershed.transforms.records;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IsoTextTest {
  @Test
  void writesInstantsAsInstantToStringDoes() {
    Random random = new Random(7);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong(-62_000_000_000L, 253_402_300_799L + 1000);
      int nanos =
          switch (i % 4) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1000;
            default -> random.nextInt(1_000_000_000);
          };
      Instant instant = Instant.ofEpochSecond(seconds, nanos);
      assertEquals(instant.toString(), IsoText.instant(instant));
    }
    assertEquals("2024-01-01T00:00:00Z", IsoText.instant(Instant.parse("2024-01-01T00:00:00Z")));
    assertEquals("1970-01-01T00:00:00.000001Z", IsoText.instant(Instant.ofEpochSecond(0, 1000)));
  }

  @Test
  void writesLocalDateTimesAsLocalDateTimeToStringDoes() {
    Random random = new Random(11);
    for (int i = 0; i < 200_000; i++) {
      long seconds = random.nextLong(-62_000_000_000L, 253_402_300_799L + 1000);
      int nanos = i % 3 == 0 ? 0 : i % 3 == 1 ? random.nextInt(1000) * 1000 : random.nextInt(1000);
      LocalDateTime time =
          LocalDateTime.ofEpochSecond(
              seconds - (i % 5 == 0 ? Math.floorMod(seconds, 60) : 0), nanos, ZoneOffset.UTC);
      assertEquals(time.toString(), IsoText.localDateTime(time));
    }
    assertEquals("2024-01-01T10:00", IsoText.localDateTime(LocalDateTime.of(2024, 1, 1, 10, 0)));
  }
}
