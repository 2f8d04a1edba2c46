package dev.watershed.io.files;

import dev.watershed.transforms.records.RawRecords;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.io.fs.MatchResult;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Reads CSV files with a header line into raw rows ({@link RawRecords}), one row per line.
 *
 * <p>Columns are matched by header name, so files matched by one pattern may order their columns
 * differently; a column missing from a file's header reads as null. A line with broken quoting
 * ({@value #MALFORMED}) or with more or fewer fields than its header ({@value #WRONG_COLUMN_COUNT})
 * goes to the dead-letter output with the file, line number and the line itself. Blank lines are
 * skipped. Fields in double quotes may hold the delimiter; a record must fit on one line. Files
 * larger than 32 MiB are read in line ranges on every worker.
 *
 * <pre>{@code
 * WithFailures.Result<PCollection<Row>, Row> contacts =
 *     pipeline.apply(CsvSource.read("crm", "data/crm_contacts*.csv").withDelimiter(';'));
 * }</pre>
 */
public final class CsvSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  public static final String MALFORMED = "malformed CSV quoting";
  public static final String WRONG_COLUMN_COUNT = "wrong column count";

  private final String sourceName;
  private final String filepattern;
  private final List<String> columns;
  private final char delimiter;
  private final long rangeBytes;

  private CsvSource(
      String sourceName,
      String filepattern,
      List<String> columns,
      char delimiter,
      long rangeBytes) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
    this.delimiter = delimiter;
    this.rangeBytes = rangeBytes;
  }

  /** Reads the files matching {@code filepattern}; {@code sourceName} is written into lineage. */
  public static CsvSource read(String sourceName, String filepattern) {
    return new CsvSource(sourceName, filepattern, null, ',', LineRange.RANGE_BYTES);
  }

  /** The columns to read; by default, every column of the first matching file's header. */
  public CsvSource withColumns(List<String> columnNames) {
    return new CsvSource(sourceName, filepattern, List.copyOf(columnNames), delimiter, rangeBytes);
  }

  /** The field delimiter; {@code ,} by default. */
  public CsvSource withDelimiter(char delimiterChar) {
    if (delimiterChar == '"' || delimiterChar == '\n' || delimiterChar == '\r') {
      throw new IllegalArgumentException("delimiter cannot be a quote or a line break");
    }
    return new CsvSource(sourceName, filepattern, columns, delimiterChar, rangeBytes);
  }

  /** Reads files larger than {@code bytes} in ranges of about that size, on every worker. */
  CsvSource withRangeBytes(long bytes) {
    return new CsvSource(sourceName, filepattern, columns, delimiter, bytes);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    List<String> readColumns = columns != null ? columns : headerOfFirstFile();
    Schema schema = RawRecords.schema(readColumns);
    return FileSourceFn.readFiles(
        input, filepattern, "ParseLines", new CsvFn(sourceName, schema, delimiter), rangeBytes);
  }

  private List<String> headerOfFirstFile() {
    return header(filepattern, delimiter);
  }

  /**
   * The column names in the header of the first file matching {@code filepattern}.
   *
   * @throws IllegalArgumentException when no file matches or the header cannot be read
   */
  public static List<String> header(String filepattern, char delimiter) {
    try {
      MatchResult match = FileSystems.match(filepattern);
      List<MatchResult.Metadata> files = match.metadata();
      if (files.isEmpty()) {
        throw new IllegalArgumentException("no file matches " + filepattern);
      }
      try (BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(
                  Channels.newInputStream(FileSystems.open(files.get(0).resourceId())),
                  StandardCharsets.UTF_8))) {
        String header = reader.readLine();
        if (header == null) {
          throw new IllegalArgumentException(
              files.get(0).resourceId() + " is empty; a header line is needed");
        }
        return stripAll(CsvLines.split(stripBom(header), delimiter));
      }
    } catch (IOException | CsvLines.MalformedLineException e) {
      throw new IllegalArgumentException(
          "cannot read the header of " + filepattern + ": " + e.getMessage(), e);
    }
  }

  /** The fields of one CSV line, or null when its quoting is broken. */
  public static List<String> fields(String line, char delimiter) {
    try {
      return CsvLines.split(line, delimiter);
    } catch (CsvLines.MalformedLineException e) {
      return null;
    }
  }

  private static List<String> stripAll(List<String> names) {
    List<String> out = new ArrayList<>(names.size());
    for (String name : names) {
      out.add(name.strip());
    }
    return out;
  }

  static String stripBom(String line) {
    return line.startsWith("\uFEFF") ? line.substring(1) : line;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(DisplayData.item("filepattern", filepattern));
    builder.add(DisplayData.item("delimiter", String.valueOf(delimiter)));
  }

  private static final class CsvFn extends FileSourceFn {
    private final char delimiter;

    CsvFn(String sourceName, Schema schema, char delimiter) {
      super(sourceName, schema);
      this.delimiter = delimiter;
    }

    @Override
    void readRange(LineRange range, Emitter emit) throws Exception {
      String name = range.name();
      try (BufferedReader reader = lines(range)) {
        String headerLine = range.start() == 0 ? reader.readLine() : range.firstLineText();
        if (headerLine == null) {
          return;
        }
        List<String> header = stripAll(CsvLines.split(stripBom(headerLine), delimiter));
        int dataColumns = schema.getFieldCount() - 3;
        int[] indexInLine = new int[dataColumns];
        for (int c = 0; c < dataColumns; c++) {
          indexInLine[c] = header.indexOf(schema.getField(c).getName());
        }
        String line;
        long lineNumber = range.start() == 0 ? 1 : range.firstLine() - 1;
        while ((line = reader.readLine()) != null) {
          lineNumber++;
          if (line.isBlank()) {
            continue;
          }
          String position = name + ":" + lineNumber;
          List<String> fields;
          try {
            fields = CsvLines.split(line, delimiter);
          } catch (CsvLines.MalformedLineException e) {
            emit.deadLetter(MALFORMED, e.getMessage(), position, line);
            continue;
          }
          if (fields.size() != header.size()) {
            emit.deadLetter(
                WRONG_COLUMN_COUNT,
                "expected " + header.size() + " fields as in the header, found " + fields.size(),
                position,
                line);
            continue;
          }
          List<Object> values = new ArrayList<>(dataColumns + 3);
          for (int c = 0; c < dataColumns; c++) {
            values.add(indexInLine[c] >= 0 ? fields.get(indexInLine[c]) : null);
          }
          values.add(sourceName);
          values.add(position);
          values.add(line);
          emit.row(Row.withSchema(schema).attachValues(values));
        }
      }
    }
  }
}
