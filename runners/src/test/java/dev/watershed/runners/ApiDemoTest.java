package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The customer-360 job with its support tickets read from the demo's help-desk API (pages, a bearer
 * key, an announced rate limit, a 429 burst, the export's broken lines as records that are not
 * objects) loads exactly the tables the file-based run loads (the small data set, on the Direct
 * runner).
 */
class ApiDemoTest {
  @TempDir Path output;

  @Test
  void theTicketsFromTheApiLoadTheSameTablesAsTheExport() throws Exception {
    Path root = Customer360Test.ROOT;
    try (ApiDemo api =
        new ApiDemo(root.resolve("test-data/customer360/small/support_tickets.jsonl"))) {
      String yaml =
          api.spec(
                  Files.readString(root.resolve("test-data/customer360/integration.yaml")),
                  output.toString())
              .replace("test-data/customer360/", "test-data/customer360/small/");
      assertTrue(yaml.contains("type: http"), yaml);
      Path spec = output.resolve("integration-api.yaml");
      Files.writeString(spec, yaml);

      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code =
          new Watershed(
                  new PrintStream(out, true, StandardCharsets.UTF_8),
                  new PrintStream(err, true, StandardCharsets.UTF_8),
                  Map.of(),
                  root)
              .execute("run", spec.toString(), "--runner=direct");
      String summary = out.toString(StandardCharsets.UTF_8);
      assertEquals(0, code, () -> summary + err.toString(StandardCharsets.UTF_8));
      assertTrue(summary.contains("support        http"), summary);
      assertTrue(summary.contains("reconciled"), summary);

      Path expected = root.resolve("test-data/customer360/small/expected");
      Customer360Test.assertWarehouseEqualsExpected(output, expected);
      Customer360Test.assertGoldenIdsAreThePeople(output, expected);
      assertTrue(api.refused() >= 1, "a 429 was waited out: " + api.refused());
    }
  }
}
