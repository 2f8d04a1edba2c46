package dev.watershed.transforms.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SourcePositionsTest {
  private static int compare(String a, String b) {
    return SourcePositions.order().compare(a, b);
  }

  @Test
  void comparesLineNumbersOffsetsAndKeysAsNumbers() {
    assertTrue(compare("crm.csv:9", "crm.csv:10") < 0);
    assertTrue(compare("orders/0@99", "orders/0@100") < 0);
    assertTrue(compare("orders/2@5", "orders/10@1") < 0);
    assertTrue(compare("public.accounts id=9", "public.accounts id=10") < 0);
    assertTrue(compare("app_users row 123456789012345678901", "app_users row 99") > 0);
    assertEquals(0, compare("f:10", "f:10"));
  }

  @Test
  void isATotalOrderConsistentWithEquals() {
    assertTrue(compare("f:007", "f:7") != 0);
    assertEquals(-compare("f:007", "f:7"), compare("f:7", "f:007"));
    assertTrue(compare("f:1", "f:1a") < 0);
    assertTrue(compare(null, "f:1") < 0);
  }

  @Test
  void sortsAFileInReadOrder() {
    List<String> positions = new ArrayList<>();
    for (int line = 1; line <= 1200; line++) {
      positions.add("big.csv:" + line);
    }
    List<String> shuffled = new ArrayList<>(positions);
    Collections.shuffle(shuffled, new Random(7));
    shuffled.sort(SourcePositions.order());
    assertEquals(positions, shuffled);
  }
}
