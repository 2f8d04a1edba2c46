package dev.watershed.io.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
   * Bytes that are not UTF-8 are a dead letter with the raw bytes (base64) as the payload, never
   * silently replaced; a source may ask for replacement instead.
   */
  @Test
  void invalidUtf8IsADeadLetterUnlessTheSourceReplacesIt(TestPipeline pipeline) throws IOException {
    byte[] bad = {(byte) 0xC3, (byte) 0x28};
    java.io.ByteArrayOutputStream csv = new java.io.ByteArrayOutputStream();
    csv.writeBytes("id,name\n1,Zoë\n2,x".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    csv.writeBytes(bad);
    csv.writeBytes("y\n3,ok\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Files.write(folder.resolve("names.csv"), csv.toByteArray());
    java.io.ByteArrayOutputStream jsonl = new java.io.ByteArrayOutputStream();
    jsonl.writeBytes("{\"name\": \"a".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    jsonl.writeBytes(bad);
    jsonl.writeBytes(
        "\"}\n{\"name\": \"Zoë\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Files.write(folder.resolve("names.jsonl"), jsonl.toByteArray());
    WithFailures.Result<PCollection<Row>, Row> strict =
        pipeline.apply("strict", CsvSource.read("names", folder.resolve("names.csv").toString()));
    WithFailures.Result<PCollection<Row>, Row> replaced =
        pipeline.apply(
            "replace",
            CsvSource.read("names", folder.resolve("names.csv").toString())
                .withFormat(CsvFormat.rfc4180().replacingInvalidBytes()));
    WithFailures.Result<PCollection<Row>, Row> lines =
        pipeline.apply(
            "jsonl",
            JsonLinesSource.read("names", folder.resolve("names.jsonl").toString())
                .withColumns(List.of("name")));
    PAssert.that("strict rows", text(strict.output(), List.of("id", "name")))
        .containsInAnyOrder("1|Zoë", "3|ok");
    String base64 =
        java.util.Base64.getEncoder()
            .encodeToString(new byte[] {'2', ',', 'x', (byte) 0xC3, (byte) 0x28, 'y'});
    PAssert.that("strict dead letters", deadLetters(strict))
        .containsInAnyOrder("extract|invalid encoding|names|names.csv:3|base64:" + base64);
    PAssert.that("replaced rows", text(replaced.output(), List.of("id", "name")))
        .containsInAnyOrder("1|Zoë", "2|x\uFFFD(y", "3|ok");
    PAssert.that("jsonl rows", text(lines.output(), List.of("name"))).containsInAnyOrder("Zoë");
    PAssert.that(
            "jsonl dead letters",
            text(lines.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder("invalid encoding|names.jsonl:1");
    pipeline.run().waitUntilFinish();
  }

  /**
   * One file of a pattern whose header cannot be read does not stop the others: its records are
   * dead letters that say why, the other files load.
   */
  @Test
  void aFileWithAnUnreadableHeaderDoesNotStopTheOthers(TestPipeline pipeline) throws IOException {
    Files.createDirectories(folder.resolve("parts"));
    Files.writeString(folder.resolve("parts/a.csv"), "id,name\n1,Ann\n");
    Files.writeString(folder.resolve("parts/b.csv"), "id,\"name\n2,Bob\n3,Cy\n");
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            CsvSource.read("parts", folder.resolve("parts/*.csv").toString())
                .withColumns(List.of("id", "name")));
    PAssert.that(text(result.output(), List.of("id", "name"))).containsInAnyOrder("1|Ann");
    PAssert.that(text(result.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder(
            "malformed CSV quoting|b.csv:1",
            "unreadable CSV header|b.csv:2",
            "unreadable CSV header|b.csv:3");
    pipeline.run().waitUntilFinish();
  }

  /** A line over the largest record is a dead letter with its position, and is never held. */
  @Test
  void jsonLinesOverTheLimitAreDeadLetters(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("big.jsonl");
    Files.writeString(
        file, "{\"a\": \"1\"}\n{\"a\": \"" + "x".repeat(10_000) + "\"}\n{\"a\": \"3\"}\n");
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            JsonLinesSource.read("big", file.toString())
                .withColumns(List.of("a"))
                .withMaxRecordBytes(4096));
    PAssert.that(text(result.output(), List.of("a", "_position")))
        .containsInAnyOrder("1|big.jsonl:1", "3|big.jsonl:3");
    PAssert.that(text(result.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder("record too large|big.jsonl:2");
    pipeline.run().waitUntilFinish();
  }

  /**
   * In a JSON document, a record over the largest record is a dead letter with its position and its
   * first bytes, and the records after it are read; a single string over the limit stops the file
   * there, as one dead letter (the parser cannot step over it).
   */
  @Test
  void jsonDocumentRecordsOverTheLimitAreDeadLetters(TestPipeline pipeline) throws IOException {
    StringBuilder nested = new StringBuilder("{\"a\": \"2\", \"items\": [");
    for (int i = 0; i < 2_000; i++) {
      nested.append(i == 0 ? "" : ", ").append("{\"n\": ").append(i).append('}');
    }
    nested.append("]}");
    Path big = folder.resolve("big.json");
    Files.writeString(big, "[{\"a\": \"1\"}, " + nested + ", {\"a\": \"3\"}]");
    Path string = folder.resolve("string.json");
    Files.writeString(
        string, "[{\"a\": \"1\"}, {\"a\": \"" + "x".repeat(10_000) + "\"}, {\"a\": \"3\"}]");
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            JsonSource.read("docs", folder.resolve("{big,string}.json").toString())
                .withColumns(List.of("a"))
                .withMaxRecordBytes(4096));
    PAssert.that(text(result.output(), List.of("a", "_position")))
        .containsInAnyOrder("1|big.json[0]", "3|big.json[2]", "1|string.json[0]");
    PAssert.that(
            text(
                result.failures(),
                List.of(DeadLetter.REASON, DeadLetter.POSITION, DeadLetter.PAYLOAD)))
        .satisfies(
            letters -> {
              List<String> all = new java.util.ArrayList<>();
              letters.forEach(all::add);
              assertEquals(2, all.size(), all.toString());
              all.sort(null);
              assertTrue(all.get(0).startsWith("invalid JSON|string.json[1]|"), all.get(0));
              assertTrue(
                  all.get(1).startsWith("record too large|big.json[1]|{\"a\":\"2\","), all.get(1));
              assertTrue(all.get(1).length() < 1200, "the payload is an excerpt");
              return null;
            });
    pipeline.run().waitUntilFinish();
  }

  /** Content after a line's object (a stray character, a comment) makes the line a dead letter. */
  @Test
  void jsonLinesWithTrailingContentAreDeadLetters(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("events.jsonl");
    Files.writeString(
        file,
        String.join(
            "\n",
            "{\"a\":\"ok\"}",
            "{\"a\":\"b\"}#",
            "{\"a\":\"b\"}/**/",
            "{\"a\":\"b\"} {\"a\":\"c\"}",
            "{\"a\":\"x\",\"a\":\"y\"}",
            "{\"a\":\"fine\"}   ",
            ""));
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(JsonLinesSource.read("events", file.toString()).withColumns(List.of("a")));
    PAssert.that(text(result.output(), List.of("a", "_position")))
        .containsInAnyOrder("ok|events.jsonl:1", "fine|events.jsonl:6");
    PAssert.that(text(result.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder(
            "invalid JSON|events.jsonl:2",
            "invalid JSON|events.jsonl:3",
            "invalid JSON|events.jsonl:4",
            "invalid JSON|events.jsonl:5");
    pipeline.run().waitUntilFinish();
  }

  /**
   * A JSON document file: a top-level array (one record per element), a single object, and the
   * records found at a pointer inside an API response; elements that are not objects and a syntax
   * error part way are dead letters, and the records before the error are read.
   */
  @Test
  void jsonDocumentsYieldTheirArraysElements(TestPipeline pipeline) throws IOException {
    Files.createDirectories(folder.resolve("docs"));
    Files.writeString(
        folder.resolve("docs/array.json"),
        "[\n  {\"id\": 1, \"customer\": {\"email\": \"a@x.io\"}},\n  {\"id\": 2},\n  7\n]\n");
    Files.writeString(folder.resolve("docs/one.json"), "{\"id\": 3, \"customer\": null}");
    Files.writeString(
        folder.resolve("docs/page.json"),
        "{\"has_more\": false, \"meta\": {\"data\": 0}, \"data\": [{\"id\": 4}, {\"id\": 5}]}");
    Files.writeString(folder.resolve("docs/broken.json"), "[{\"id\": 6}, {\"id\": 7,, ]");
    WithFailures.Result<PCollection<Row>, Row> plain =
        pipeline.apply(
            "plain",
            JsonSource.read("api", folder.resolve("docs/{array,one,broken}.json").toString())
                .withColumns(List.of("id", "customer.email")));
    WithFailures.Result<PCollection<Row>, Row> paged =
        pipeline.apply(
            "paged",
            JsonSource.read("api", folder.resolve("docs/page.json").toString())
                .withRecordsAt("/data")
                .withColumns(List.of("id")));
    PAssert.that("plain rows", text(plain.output(), List.of("id", "customer.email", "_position")))
        .containsInAnyOrder(
            "1|a@x.io|array.json[0]",
            "2|null|array.json[1]",
            "3|null|one.json[0]",
            "6|null|broken.json[0]");
    PAssert.that(
            "plain dead letters",
            text(plain.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder("invalid JSON|array.json[2]", "invalid JSON|broken.json[1]");
    PAssert.that("paged rows", text(paged.output(), List.of("id", "_position")))
        .containsInAnyOrder("4|page.json[0]", "5|page.json[1]");
    pipeline.run().waitUntilFinish();
  }

  /**
   * RFC 4180: a quoted field holds line breaks (LF and CRLF, kept as written), so a record spans
   * lines; read whole and in ranges far smaller than the file, every record is whole and keeps the
   * line it starts on, and no range starts inside a quoted line break.
   */
  @Test
  void csvRecordsSpanLinesInsideQuotesWholeAndInRanges(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("notes.csv");
    StringBuilder text = new StringBuilder("id,note,city\r\n");
    List<String> expected = new java.util.ArrayList<>();
    long line = 2;
    for (int n = 1; n <= 400; n++) {
      String note =
          switch (n % 4) {
            case 0 -> "first line\nsecond line, with a comma";
            case 1 -> "dos line\r\nnext \"\"quoted\"\" line\r\n";
            case 2 -> "plain";
            default -> "";
          };
      String written = n % 4 == 2 ? note : "\"" + note + "\"";
      text.append(n).append(',').append(written).append(",Köln").append("\r\n");
      String value = note.replace("\"\"", "\"");
      expected.add(n + "|" + value + "|Köln|notes.csv:" + line);
      line += note.chars().filter(c -> c == '\n').count() + 1;
    }
    Files.writeString(file, text);
    for (long rangeBytes : new long[] {LineRange.RANGE_BYTES, 700}) {
      WithFailures.Result<PCollection<Row>, Row> result =
          pipeline.apply(
              "read " + rangeBytes,
              CsvSource.read("notes", file.toString())
                  .withColumns(List.of("id", "note", "city"))
                  .withRangeBytes(rangeBytes));
      PAssert.that(text(result.output(), List.of("id", "note", "city", "_position")))
          .containsInAnyOrder(expected);
      PAssert.that(deadLetters(result)).empty();
    }
    pipeline.run().waitUntilFinish();
  }

  /**
   * What Watershed's own CSV sink writes (a value with a line break, quotes, commas) reads back.
   */
  @Test
  void csvWrittenByTheCsvSinkReadsBackUnchanged() throws IOException {
    CanonicalModel model =
        CanonicalModel.builder("note")
            .field("id", "string")
            .field("body", "string")
            .key("id")
            .build();
    List<Row> rows =
        List.of(
            Row.withSchema(model.schema())
                .addValues("1", "line one\nline two, \"quoted\"\r\nthree", "crm", "f:1")
                .build(),
            Row.withSchema(model.schema()).addValues("2", "plain", "crm", "f:2").build());
    Pipeline write = Pipeline.create(PipelineOptionsFactory.create());
    write
        .apply(Create.of(rows).withRowSchema(model.schema()))
        .apply(TextSink.csv(folder.resolve("out").toString(), "note", List.of("id", "body")));
    write.run().waitUntilFinish();
    Pipeline read = Pipeline.create(PipelineOptionsFactory.create());
    WithFailures.Result<PCollection<Row>, Row> result =
        read.apply(CsvSource.read("back", folder.resolve("out").resolve("note.csv").toString()));
    PAssert.that(text(result.output(), List.of("id", "body")))
        .containsInAnyOrder("1|line one\nline two, \"quoted\"\r\nthree", "2|plain");
    PAssert.that(deadLetters(result)).empty();
    read.run().waitUntilFinish();
  }

  /**
   * The options real exports need: a semicolon delimiter, backslash-escaped quotes, comment lines,
   * no header (columns named in the spec), and a Latin-1 encoding.
   */
  @Test
  void csvFormatOptionsForRealExports(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("export.csv");
    Files.write(
        file,
        String.join(
                "\n",
                "# exported 2026-11-30 by the billing tool",
                "1;\"Müller \\\"Max\\\"\";12,50",
                "# a comment between records",
                "2;Øre;\"3;4\"",
                "")
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    CsvFormat format =
        CsvFormat.rfc4180()
            .withDelimiter(';')
            .withEscape('\\')
            .withComment('#')
            .withoutHeader(List.of("id", "name", "amount"))
            .withEncoding("ISO-8859-1");
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            CsvSource.read("billing", file.toString())
                .withFormat(format)
                .withColumns(List.of("id", "name", "amount")));
    PAssert.that(text(result.output(), List.of("id", "name", "amount", "_position")))
        .containsInAnyOrder("1|Müller \"Max\"|12,50|export.csv:2", "2|Øre|3;4|export.csv:4");
    PAssert.that(deadLetters(result)).empty();
    pipeline.run().waitUntilFinish();
  }

  /** A record over the largest size is a dead letter with its position; the next one is read. */
  @Test
  void csvRecordsOverTheLimitAreDeadLetters(TestPipeline pipeline) throws IOException {
    Path file = folder.resolve("huge.csv");
    String big = "x".repeat(5000);
    Files.writeString(
        file, "id,blob\n1,small\n2," + big + "\n3,\"" + big + "\n" + big + "\"\n4,ok\n");
    WithFailures.Result<PCollection<Row>, Row> result =
        pipeline.apply(
            CsvSource.read("blobs", file.toString())
                .withFormat(CsvFormat.rfc4180().withMaxRecordBytes(4096)));
    PAssert.that(text(result.output(), List.of("id", "blob", "_position")))
        .containsInAnyOrder("1|small|huge.csv:2", "4|ok|huge.csv:6");
    PAssert.that(text(result.failures(), List.of(DeadLetter.REASON, DeadLetter.POSITION)))
        .containsInAnyOrder(
            "record too large|huge.csv:3",
            // the quoted field runs past the limit: its first line is the bad record, and the
            // line after it (the rest of the value, which is no record) is one too
            "malformed CSV quoting|huge.csv:4",
            "record too large|huge.csv:5");
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
  void parquetFromOtherWritersReadsWithItsValues(TestPipeline pipeline) throws Exception {
    // DuckDB, like Spark and Arrow, stores decimals of up to 18 digits as INT32 or INT64, which
    // Avro reads as their unscaled numbers (12.50 read as 1250 before).
    Path file = folder.resolve("duck.parquet");
    try (java.sql.Connection duckdb = java.sql.DriverManager.getConnection("jdbc:duckdb:");
        java.sql.Statement sql = duckdb.createStatement()) {
      sql.execute(
          "COPY (SELECT 12.50::DECIMAL(4,2) AS small, -3.75::DECIMAL(12,2) AS medium,"
              + " 123456789012345678901.5::DECIMAL(30,1) AS wide,"
              + " TIMESTAMP '2024-03-01 10:00:00.5' AS local_ts,"
              + " TIMESTAMPTZ '2024-03-01 10:00:00+00' AS instant,"
              + " TIME '23:59:01' AS at_time, DATE '2024-01-02' AS day) TO '"
              + file
              + "' (FORMAT parquet)");
    }
    List<String> columns =
        List.of("small", "medium", "wide", "local_ts", "instant", "at_time", "day");
    PCollection<Row> read =
        pipeline.apply(ParquetSource.read("duck", file.toString()).withColumns(columns)).output();
    PAssert.that(text(read, columns))
        .containsInAnyOrder(
            "12.50|-3.75|123456789012345678901.5|2024-03-01T10:00:00.500|2024-03-01T10:00:00Z"
                + "|23:59:01|2024-01-02");
    pipeline.run().waitUntilFinish();
    ParquetSource.Sample sample = ParquetSource.sample(file.toString(), 10);
    org.junit.jupiter.api.Assertions.assertEquals(
        List.of(
            List.of(
                "12.50",
                "-3.75",
                "123456789012345678901.5",
                "2024-03-01T10:00:00.500",
                "2024-03-01T10:00:00Z",
                "23:59:01",
                "2024-01-02")),
        sample.records());
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
