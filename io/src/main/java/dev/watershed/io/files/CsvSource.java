package dev.watershed.io.files;

import dev.watershed.transforms.records.RawRecords;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
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
 * Reads CSV files into raw rows ({@link RawRecords}), one row per record as RFC 4180 defines it: a
 * field in quotes may hold the delimiter, quotes and line breaks, so a record may span lines. The
 * {@link CsvFormat} sets the delimiter, quote, escape, comment lines, header and encoding.
 *
 * <p>Columns are matched by header name, so files matched by one pattern may order their columns
 * differently; a column missing from a file's header reads as null. A record with broken quoting
 * ({@value #MALFORMED}; its first line, and reading goes on at the next line), with more or fewer
 * fields than its header ({@value #WRONG_COLUMN_COUNT}) or longer than the format's largest record
 * ({@value #TOO_LARGE}) goes to the dead-letter output with the file, the line it starts on and the
 * record itself. Blank lines are skipped. Files larger than 32 MiB are read in ranges on every
 * worker, cut at record starts.
 *
 * <pre>{@code
 * WithFailures.Result<PCollection<Row>, Row> contacts =
 *     pipeline.apply(
 *         CsvSource.read("crm", "data/crm_contacts*.csv")
 *             .withFormat(CsvFormat.rfc4180().withDelimiter(';').withComment('#')));
 * }</pre>
 */
public final class CsvSource
    extends PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> {
  public static final String MALFORMED = "malformed CSV quoting";
  public static final String WRONG_COLUMN_COUNT = "wrong column count";
  public static final String TOO_LARGE = "record too large";
  public static final String HEADER_UNREADABLE = "unreadable CSV header";

  /** Reason of a record whose bytes are not text in the source's encoding. */
  public static final String INVALID_ENCODING = "invalid encoding";

  private final String sourceName;
  private final String filepattern;
  private final List<String> columns;
  private final CsvFormat format;
  private final long rangeBytes;

  private CsvSource(
      String sourceName,
      String filepattern,
      List<String> columns,
      CsvFormat format,
      long rangeBytes) {
    this.sourceName = sourceName;
    this.filepattern = filepattern;
    this.columns = columns;
    this.format = format;
    this.rangeBytes = rangeBytes;
  }

  /** Reads the files matching {@code filepattern}; {@code sourceName} is written into lineage. */
  public static CsvSource read(String sourceName, String filepattern) {
    return new CsvSource(sourceName, filepattern, null, CsvFormat.rfc4180(), LineRange.RANGE_BYTES);
  }

  /** The columns to read; by default, every column of the first matching file's header. */
  public CsvSource withColumns(List<String> columnNames) {
    return new CsvSource(sourceName, filepattern, List.copyOf(columnNames), format, rangeBytes);
  }

  /** How the files are written; RFC 4180 with a header in UTF-8 by default. */
  public CsvSource withFormat(CsvFormat csvFormat) {
    return new CsvSource(sourceName, filepattern, columns, csvFormat, rangeBytes);
  }

  /** The field delimiter; {@code ,} by default. */
  public CsvSource withDelimiter(char delimiterChar) {
    return withFormat(format.withDelimiter(delimiterChar));
  }

  /** Reads files larger than {@code bytes} in ranges of about that size, on every worker. */
  CsvSource withRangeBytes(long bytes) {
    return new CsvSource(sourceName, filepattern, columns, format, bytes);
  }

  @Override
  public WithFailures.Result<PCollection<Row>, Row> expand(PBegin input) {
    List<String> readColumns = columns != null ? columns : header(filepattern, format);
    Schema schema = RawRecords.schema(readColumns);
    return FileSourceFn.readCsvFiles(
        input,
        filepattern,
        "ParseRecords",
        new CsvFn(sourceName, schema, format),
        rangeBytes,
        format);
  }

  /**
   * The column names of the first file matching {@code filepattern}: its header, or for a format
   * without one, the format's names for as many fields as its first record has.
   *
   * @throws IllegalArgumentException when no file matches or the header cannot be read; the message
   *     names the file and line
   */
  public static List<String> header(String filepattern, CsvFormat format) {
    List<MatchResult.Metadata> files;
    try {
      files = FileSystems.match(filepattern).metadata();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + filepattern + ": " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("no file matches " + filepattern);
    }
    String file = files.get(0).resourceId().toString();
    try (CsvRecords records =
        new CsvRecords(
            Channels.newInputStream(FileSystems.open(files.get(0).resourceId())),
            format,
            1,
            0,
            true)) {
      CsvRecords.Record first = records.next();
      if (first == null) {
        throw new IllegalArgumentException(
            file
                + " is empty; a header "
                + (format.header() ? "record" : "or a record")
                + " is needed");
      }
      if (first.problem() != null) {
        throw new IllegalArgumentException(
            file
                + ":"
                + first.line()
                + ": the header cannot be read: "
                + first.detail()
                + "; fix the file's first record, or set the source's delimiter, quote or escape");
      }
      return columnsOf(first.fields(), format);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** The column names a file's first record gives under {@code format}. */
  static List<String> columnsOf(List<String> firstRecord, CsvFormat format) {
    List<String> out = new ArrayList<>(firstRecord.size());
    for (int c = 0; c < firstRecord.size(); c++) {
      out.add(format.header() ? firstRecord.get(c).strip() : format.columnName(c));
    }
    return out;
  }

  /** The fields of one record's text, or null when its quoting is broken. */
  public static List<String> fields(String record, CsvFormat format) {
    try (CsvRecords records =
        new CsvRecords(
            new ByteArrayInputStream(record.getBytes(format.charset())), format, 1, 1, true)) {
      CsvRecords.Record first = records.next();
      if (first == null) {
        return List.of("");
      }
      return first.problem() == null && records.next() == null ? first.fields() : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the records of one file in order, skipping those that cannot be read. */
  public static Records records(String file, CsvFormat format) throws IOException {
    return new Records(
        new CsvRecords(
            Channels.newInputStream(FileSystems.open(FileSystems.matchNewResource(file, false))),
            format,
            1,
            0,
            true));
  }

  /** The fields of a file's records, one record at a time. */
  public static final class Records implements AutoCloseable {
    private final CsvRecords records;

    private Records(CsvRecords records) {
      this.records = records;
    }

    /** The next readable record's fields, or null at the end of the file. */
    public List<String> next() throws IOException {
      CsvRecords.Record record;
      while ((record = records.next()) != null) {
        if (record.problem() == null) {
          return record.fields();
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      records.close();
    }
  }

  static String stripBom(String line) {
    return line.startsWith("\uFEFF") ? line.substring(1) : line;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("source", sourceName));
    builder.add(
        DisplayData.item("columns", columns == null ? "all" : String.valueOf(columns.size())));
    builder.add(DisplayData.item("filepattern", filepattern));
    builder.add(DisplayData.item("delimiter", String.valueOf(format.delimiter())));
    builder.add(DisplayData.item("quote", String.valueOf(format.quote())));
    builder.add(DisplayData.item("escape", String.valueOf(format.escape())));
    if (format.comment() != 0) {
      builder.add(DisplayData.item("comment", String.valueOf(format.comment())));
    }
    builder.add(DisplayData.item("header", format.header()));
    builder.add(DisplayData.item("encoding", format.encoding()));
  }

  private static void deadLetter(FileSourceFn.Emitter emit, String file, CsvRecords.Record record) {
    emit.deadLetter(
        switch (record.problem()) {
          case MALFORMED -> MALFORMED;
          case TOO_LARGE -> TOO_LARGE;
          case INVALID_ENCODING -> INVALID_ENCODING;
        },
        record.detail(),
        file + ":" + record.line(),
        record.text());
  }

  private static final class CsvFn extends FileSourceFn {
    private final CsvFormat format;

    CsvFn(String sourceName, Schema schema, CsvFormat format) {
      super(sourceName, schema);
      this.format = format;
    }

    @Override
    void readRange(LineRange range, Emitter emit) throws Exception {
      String name = range.name();
      long firstLine = range.start() == 0 ? 1 : range.firstLine();
      try (CsvRecords records =
          new CsvRecords(range.open(), format, firstLine, Math.max(range.start(), 0), true)) {
        List<String> header;
        CsvRecords.Record record = null;
        if (range.start() > 0) {
          List<String> fields = fields(range.firstLineText(), format);
          header = fields == null ? null : columnsOf(fields, format);
        } else {
          record = records.next();
          if (record == null) {
            return;
          }
          header = record.problem() == null ? columnsOf(record.fields(), format) : null;
          if (format.header() || header == null) {
            if (header == null) {
              deadLetter(emit, name, record);
            }
            record = null;
          }
        }
        if (header == null) {
          // Without a header the fields cannot be named: every record says why it was not read.
          for (record = records.next(); record != null; record = records.next()) {
            emit.deadLetter(
                HEADER_UNREADABLE,
                "the header of " + name + " (line 1) cannot be read",
                name + ":" + record.line(),
                record.text());
          }
          return;
        }
        int dataColumns = schema.getFieldCount() - 3;
        int[] indexInRecord = new int[dataColumns];
        for (int c = 0; c < dataColumns; c++) {
          indexInRecord[c] = header.indexOf(schema.getField(c).getName());
        }
        if (record == null) {
          record = records.next();
        }
        for (; record != null; record = records.next()) {
          String position = name + ":" + record.line();
          if (record.problem() != null) {
            deadLetter(emit, name, record);
            continue;
          }
          List<String> fields = record.fields();
          if (fields.size() != header.size()) {
            emit.deadLetter(
                WRONG_COLUMN_COUNT,
                "expected " + header.size() + " fields as in the header, found " + fields.size(),
                position,
                record.text());
            continue;
          }
          List<Object> values = new ArrayList<>(dataColumns + 3);
          for (int c = 0; c < dataColumns; c++) {
            values.add(indexInRecord[c] >= 0 ? fields.get(indexInRecord[c]) : null);
          }
          values.add(sourceName);
          values.add(position);
          values.add(record.text());
          emit.row(Row.withSchema(schema).attachValues(values));
        }
      }
    }
  }
}
