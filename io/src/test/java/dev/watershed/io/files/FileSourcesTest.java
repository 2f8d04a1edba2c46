package dev.watershed.io.files;

import dev.watershed.io.WriteMode;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.model.CanonicalModel;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(TestPipelineExtension.class)
class FileSourcesTest {
  @TempDir Path folder;

  private static int step;

  private static PCollection<String> text(PCollection<Row> rows, List<String> fields) {
    return rows.apply(
        "AsText" + step++,
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row row) -> {
                  StringBuilder s = new StringBuilder();
                  for (String field : fields) {
                    s.append(s.length() == 0 ? "" : "|").append(row.<Object>getValue(field));
                  }
                  return s.toString();
                }));
  }

  private static PCollection<String> deadLetters(
      WithFailures.Result<PCollection<Row>, Row> result) {
    return text(
        result.failures(),
        List.of(
            DeadLetter.STAGE,
            DeadLetter.REASON,
            DeadLetter.SOURCE,
            DeadLetter.POSITION,
            DeadLetter.PAYLOAD));
  }

  @Test
  void csvReadsByHeaderNameAndDeadLettersBrokenLines(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("contacts.csv");
    Files.writeString(
        file,
        String.join(
            "\n",
            "id,name,email",
            "1,Anna,anna@example.com",
            "2,\"Smith, Ben\",ben@example.com",
            "",
            "3,\"Cara,cara@example.com",
            "4,Dan,dan@example.com,extra",
            "5,\"Eve\"x,eve@example.com",
            "6,\"Fay \"\"F\"\"\",",
            ""));
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            CsvSource.read("crm", file.toString()).withColumns(List.of("email", "id", "name")));
    PAssert.that(text(result.output(), List.of("id", "name", "email", "_position")))
        .containsInAnyOrder(
            "1|Anna|anna@example.com|contacts.csv:2",
            "2|Smith, Ben|ben@example.com|contacts.csv:3",
            "6|Fay \"F\"||contacts.csv:8");
    PAssert.that(deadLetters(result))
        .containsInAnyOrder(
            "extract|malformed CSV quoting|crm|contacts.csv:5|3,\"Cara,cara@example.com",
            "extract|wrong column count|crm|contacts.csv:6|4,Dan,dan@example.com,extra",
            "extract|malformed CSV quoting|crm|contacts.csv:7|5,\"Eve\"x,eve@example.com");
    pipeline.run().waitUntilFinish();
  }

  /**
   * A file read in many small line ranges yields exactly what reading it whole yields: every line
   * once, with its own line number, under the header, with multi-byte characters, blank lines and
   * broken lines across range boundaries.
   */
  @Test
  void largeFilesReadInLineRangesKeepEveryLineAndItsNumber(TestPipeline pipeline)
      throws IOException {
    Path csv = folder.resolve("big.csv");
    Path jsonl = folder.resolve("big.jsonl");
    StringBuilder csvText = new StringBuilder("\uFEFFid,name\r\n");
    StringBuilder jsonText = new StringBuilder();
    List<String> csvRows = new java.util.ArrayList<>();
    List<String> csvDead = new java.util.ArrayList<>();
    List<String> jsonRows = new java.util.ArrayList<>();
    List<String> jsonDead = new java.util.ArrayList<>();
    for (int n = 1; n <= 3000; n++) {
      String name = n % 7 == 0 ? "Zoë 日本 " + n : "name" + n;
      if (n % 250 == 0) {
        csvText.append("\n");
        jsonText.append("\n");
        continue;
      }
      if (n % 333 == 0) {
        csvText.append(n).append(",\"broken\n");
        csvDead.add("big.csv:" + (n + 1));
        jsonText.append("{\"id\": ").append(n).append(", broken\n");
        jsonDead.add("big.jsonl:" + n);
        continue;
      }
      csvText.append(n).append(',').append(name).append(n % 2 == 0 ? "\r\n" : "\n");
      csvRows.add(n + "|" + name + "|big.csv:" + (n + 1));
      jsonText.append("{\"id\": ").append(n).append(", \"name\": \"").append(name).append("\"}\n");
      jsonRows.add(n + "|" + name + "|big.jsonl:" + n);
    }
    Files.writeString(csv, csvText);
    Files.writeString(jsonl, jsonText);
    WithFailures.Result<PCollection<Row>, Row> fromCsv =
        pipeline.apply(
            "csv",
            CsvSource.read("crm", csv.toString())
                .withColumns(List.of("id", "name"))
                .withRangeBytes(1000));
    WithFailures.Result<PCollection<Row>, Row> fromJson =
        pipeline.apply(
            "jsonl",
            JsonLinesSource.read("crm", jsonl.toString())
                .withColumns(List.of("id", "name"))
                .withRangeBytes(1000));
    PAssert.that(text(fromCsv.output(), List.of("id", "name", "_position")))
        .containsInAnyOrder(csvRows);
    PAssert.that(text(fromCsv.failures(), List.of(DeadLetter.POSITION)))
        .containsInAnyOrder(csvDead);
    PAssert.that(text(fromJson.output(), List.of("id", "name", "_position")))
        .containsInAnyOrder(jsonRows);
    PAssert.that(text(fromJson.failures(), List.of(DeadLetter.POSITION)))
        .containsInAnyOrder(jsonDead);
    pipeline.run().waitUntilFinish();
  }

  @Test
  void jsonLinesReadNestedPathsAndDeadLetterInvalidLines(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("tickets.jsonl");
    Files.writeString(
        file,
        String.join(
            "\n",
            "{\"id\": 1, \"requester\": {\"email\": \"a@example.com\"}, \"tags\": [\"x\"], \"paid\": true}",
            "{\"id\": 2, \"requester\": null}",
            "{\"id\": 3, \"requester\": {\"email\": ",
            "[1, 2]",
            ""));
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            JsonLinesSource.read("support", file.toString())
                .withColumns(List.of("id", "requester.email", "tags", "paid")));
    PAssert.that(
            text(result.output(), List.of("id", "requester.email", "tags", "paid", "_position")))
        .containsInAnyOrder(
            "1|a@example.com|[\"x\"]|true|tickets.jsonl:1", "2|null|null|null|tickets.jsonl:2");
    PAssert.that(text(result.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder("invalid JSON|tickets.jsonl:3", "invalid JSON|tickets.jsonl:4");
    pipeline.run().waitUntilFinish();
  }

  private static final CanonicalModel ORDER =
      CanonicalModel.builder("sale")
          .field("id", "string")
          .field("amount", "decimal(12,2)")
          .field("day", "date")
          .field("at", "timestamp")
          .field("country", "string")
          .key("id")
          .build();

  private static Row sale(String id, String amount, String country) {
    return Row.withSchema(ORDER.schema())
        .addValues(
            id,
            new BigDecimal(amount),
            LocalDate.of(2024, 1, 31),
            Instant.parse("2024-01-31T23:59:59.123456Z"),
            country,
            "shop",
            "x:1")
        .build();
  }

  private void writeLake(Path lake, WriteMode mode, Row... rows) {
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    pipeline
        .apply(Create.of(List.of(rows)).withRowSchema(ORDER.schema()))
        .apply(
            ParquetSink.write(lake.toString(), "sale", ORDER.loadFields())
                .withPartitionColumn("country")
                .withMode(mode));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void parquetLakeIsPartitionedAndReadsBackWithTypesIntact(TestPipeline pipeline)
      throws IOException {
    Path lake = folder.resolve("lake");
    writeLake(
        lake,
        WriteMode.OVERWRITE,
        sale("1", "10.5", "DE"),
        sale("2", "-3", "US"),
        sale("9", "1", "FR"));
    writeLake(
        lake,
        WriteMode.OVERWRITE,
        sale("1", "10.5", "DE"),
        sale("2", "-3", "US"),
        sale("3", "99999.99", "DE"));
    writeLake(lake, WriteMode.APPEND, sale("4", "0.01", "US"));

    PCollection<Row> read =
        pipeline
            .apply(
                ParquetSource.read("lake", lake.resolve("sale").toString() + "/**.parquet")
                    .withColumns(List.of("id", "amount", "day", "at", "country")))
            .output();
    PAssert.that(text(read, List.of("id", "amount", "day", "at", "country")))
        .containsInAnyOrder(
            "1|10.50|2024-01-31|2024-01-31T23:59:59.123456Z|DE",
            "2|-3.00|2024-01-31|2024-01-31T23:59:59.123456Z|US",
            "3|99999.99|2024-01-31|2024-01-31T23:59:59.123456Z|DE",
            "4|0.01|2024-01-31|2024-01-31T23:59:59.123456Z|US");
    pipeline.run().waitUntilFinish();
    org.junit.jupiter.api.Assertions.assertEquals(
        List.of("country=DE", "country=US"),
        Files.list(lake.resolve("sale"))
            .map(p -> p.getFileName().toString())
            .filter(n -> !n.startsWith("."))
            .sorted()
            .toList()
            .stream()
            .filter(
                n ->
                    Files.isDirectory(lake.resolve("sale").resolve(n))
                        && hasParquet(lake.resolve("sale").resolve(n)))
            .toList());
  }

  @Test
  void textSinksWriteOneJsonLinesOrCsvFilePerTable() throws IOException {
    Path out = folder.resolve("export");
    List<String> columns = List.of("id", "amount", "day", "at", "country");
    for (int run = 0; run < 2; run++) {
      Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
      PCollection<Row> rows =
          pipeline.apply(
              Create.of(List.of(sale("1", "10.5", "DE"), sale("2", "-3", "U,S")))
                  .withRowSchema(ORDER.schema()));
      rows.apply("json", TextSink.jsonLines(out.toString(), "sale", columns));
      rows.apply("csv", TextSink.csv(out.toString(), "sale", columns));
      pipeline.run().waitUntilFinish();
    }
    List<String> json = Files.readAllLines(out.resolve("sale.jsonl")).stream().sorted().toList();
    org.junit.jupiter.api.Assertions.assertEquals(
        List.of(
            "{\"id\":\"1\",\"amount\":10.50,\"day\":\"2024-01-31\",\"at\":\"2024-01-31T23:59:59.123456Z\",\"country\":\"DE\"}",
            "{\"id\":\"2\",\"amount\":-3.00,\"day\":\"2024-01-31\",\"at\":\"2024-01-31T23:59:59.123456Z\",\"country\":\"U,S\"}"),
        json);
    List<String> csv = Files.readAllLines(out.resolve("sale.csv"));
    org.junit.jupiter.api.Assertions.assertEquals("id,amount,day,at,country", csv.get(0));
    org.junit.jupiter.api.Assertions.assertEquals(
        List.of(
            "1,10.50,2024-01-31,2024-01-31T23:59:59.123456Z,DE",
            "2,-3.00,2024-01-31,2024-01-31T23:59:59.123456Z,\"U,S\""),
        csv.subList(1, csv.size()).stream().sorted().toList());
  }

  private static boolean hasParquet(Path dir) {
    try (var files = Files.list(dir)) {
      return files.anyMatch(f -> f.toString().endsWith(".parquet"));
    } catch (IOException e) {
      return false;
    }
  }
}
