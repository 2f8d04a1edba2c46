package dev.watershed.transforms.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IdentityTest {
  @ParameterizedTest
  @CsvSource({
    "martha, marhta, 0.9611",
    "dwayne, duane, 0.8400",
    "dixon, dicksonx, 0.8133",
    "abc, abc, 1.0000",
    "abc, xyz, 0.0000",
    // Jaro 0.6667 is not above 0.7: the common prefix "ab" adds nothing (0.7333 if it did)
    "abcd, abxy, 0.6667"
  })
  void jaroWinklerMatchesTheReferenceValues(String a, String b, double expected) {
    assertEquals(expected, Similarity.jaroWinkler(a, b), 0.0001);
    assertEquals(expected, Similarity.jaroWinkler(b, a), 0.0001);
  }

  @ParameterizedTest
  @CsvSource({"kitten, sitting, 3", "flaw, lawn, 2", "'', abc, 3", "same, same, 0"})
  void levenshteinDistance(String a, String b, int expected) {
    assertEquals(expected, Similarity.levenshtein(a, b));
  }

  @ParameterizedTest
  @CsvSource({
    "Robert, R163",
    "Rupert, R163",
    "Tymczak, T522",
    "Ashcraft, A261",
    "Pfister, P236",
    "Lee, L000"
  })
  void soundexCodes(String name, String code) {
    assertEquals(code, Similarity.soundex(name));
  }

  @ParameterizedTest
  @CsvSource({
    "19800512, 19800512, 0",
    "19800512, 19801205, 1",
    "19800512, 19810512, 2",
    "1980-05-12, 19800512, 0",
    "19800512, 19911231, 3"
  })
  void datesWithDayMonthTranspositions(String a, String b, int level) {
    assertEquals(level, Similarity.dateLevel(a, b));
  }

  @Test
  void comparisonLevels() {
    Comparison name = Comparison.jaroWinkler("name", 0.92, 0.8);
    assertEquals(0, name.level("martha", "martha"));
    assertEquals(1, name.level("martha", "marhta"));
    assertEquals(2, name.level("dwayne", "duane"));
    assertEquals(3, name.level("martha", "zoe"));
    assertEquals(Comparison.MISSING, name.level("martha", " "));
    assertEquals(1, Comparison.numeric("age", 1).level("40", "41"));
    assertEquals(2, Comparison.numeric("age", 1).level("40", "45"));
  }

  @Test
  void blockingKeysDeriveTheirValues() {
    Map<String, String> record = Map.of("surname", "Robert", "dob", "19800512", "postcode", "");
    assertEquals(
        "surname:soundex+dob:year=R163\u00011980\u0001",
        BlockingKey.of("surname:soundex", "dob:year").value(record::get));
    assertEquals(null, BlockingKey.of("postcode").value(record::get));
  }

  @Test
  void expectationMaximisationSeparatesMatchesFromNonMatchesWithoutLabels() {
    // Two comparisons of 2 levels; true m = (0.95, 0.05), u = (0.1, 0.9), 20% matches.
    Random random = new Random(42);
    Map<List<Integer>, Long> patterns = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      boolean match = random.nextDouble() < 0.2;
      int a = random.nextDouble() < (match ? 0.95 : 0.1) ? 0 : 1;
      int b = random.nextDouble() < (match ? 0.9 : 0.05) ? 0 : 1;
      patterns.merge(List.of(a, b), 1L, Long::sum);
    }
    List<Comparison> comparisons = List.of(Comparison.exact("a"), Comparison.exact("b"));
    FellegiSunter model = FellegiSunter.initial(comparisons).estimate(patterns, 200, 1e-9);
    assertEquals(0.2, model.share(), 0.03);
    assertTrue(model.probability(new int[] {0, 0}) > 0.95, model.describe(comparisons));
    assertTrue(model.probability(new int[] {1, 1}) < 0.01, model.describe(comparisons));
    assertTrue(model.weight(new int[] {0, Comparison.MISSING}) > 0);
  }
}
