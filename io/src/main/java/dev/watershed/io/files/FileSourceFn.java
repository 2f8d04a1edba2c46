package dev.watershed.io.files;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.metrics.RunCounters;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Reads line-based files into raw rows, sending records it cannot parse to a dead-letter output
 * with stage {@value #STAGE}. Large files are read in {@link LineRange}s, spread over the workers.
 * Subclasses parse one format.
 */
abstract class FileSourceFn extends DoFn<LineRange, Row> {
  /** The stage name written into dead letters. */
  static final String STAGE = "extract";

  static final TupleTag<Row> ROWS = new TupleTag<>("rows");
  static final TupleTag<Row> DEAD = new TupleTag<>("dead_letters");

  final String sourceName;
  final Schema schema;
  private final Counter read;

  FileSourceFn(String sourceName, Schema schema) {
    this.sourceName = sourceName;
    this.schema = schema;
    this.read = RunCounters.counter("source." + sourceName + ".read");
  }

  /**
   * Matches {@code filepattern} and reads every file with {@code fn}, large files in line ranges:
   * rows and dead letters.
   */
  static WithFailures.Result<PCollection<Row>, Row> readFiles(
      PBegin input, String filepattern, String stepName, FileSourceFn fn, long rangeBytes) {
    return read(input, filepattern, stepName, fn, new LineRange.SplitFn(rangeBytes));
  }

  /** As {@link #readFiles}, large files cut at CSV record starts. */
  static WithFailures.Result<PCollection<Row>, Row> readCsvFiles(
      PBegin input,
      String filepattern,
      String stepName,
      FileSourceFn fn,
      long rangeBytes,
      CsvFormat format) {
    return read(input, filepattern, stepName, fn, new LineRange.SplitFn(rangeBytes, format));
  }

  /** As {@link #readFiles}, each file whole (a format that is not read line by line). */
  static WithFailures.Result<PCollection<Row>, Row> readWholeFiles(
      PBegin input, String filepattern, String stepName, FileSourceFn fn) {
    return read(input, filepattern, stepName, fn, new LineRange.SplitFn(0));
  }

  private static WithFailures.Result<PCollection<Row>, Row> read(
      PBegin input, String filepattern, String stepName, FileSourceFn fn, LineRange.SplitFn split) {
    PCollectionTuple out =
        input
            .apply("Match", FileIO.match().filepattern(filepattern))
            .apply("Open", FileIO.readMatches())
            .apply("Split", ParDo.of(split))
            .setCoder(new LineRange.Coder())
            .apply("SpreadRanges", Reshuffle.viaRandomKey())
            .apply(stepName, ParDo.of(fn).withOutputTags(ROWS, TupleTagList.of(DEAD)));
    return WithFailures.Result.of(
        out.get(ROWS).setRowSchema(fn.schema), out.get(DEAD).setRowSchema(DeadLetter.SCHEMA));
  }

  @ProcessElement
  public void process(@Element LineRange range, MultiOutputReceiver out) throws Exception {
    readRange(range, new Emitter(out, range.name()));
  }

  /**
   * Reads the lines of {@code range}; the first is line {@link LineRange#firstLine()} of its file.
   */
  abstract void readRange(LineRange range, Emitter emit) throws Exception;

  /**
   * Reads the lines of a stream as bytes: without the line break (and a CR before it). A line
   * longer than {@code maxBytes} is not held: its first kilobyte is kept and {@link #tooLong()}
   * says so.
   */
  static final class ByteLines implements Closeable {
    private final InputStream in;
    private final int maxBytes;
    private final byte[] buffer = new byte[1 << 16];
    private int pos;
    private int limit;
    private byte[] line = new byte[256];
    private int length;
    private long skipped;

    ByteLines(InputStream in, int maxBytes) {
      this.in = in;
      this.maxBytes = maxBytes;
    }

    /** True when the current line was longer than the limit (only its start is kept). */
    boolean tooLong() {
      return skipped > 0;
    }

    /** The current line's length in bytes, kept or not. */
    long fullLength() {
      return length + skipped;
    }

    /** Moves to the next line; false at the end of the stream. */
    boolean next() throws IOException {
      length = 0;
      skipped = 0;
      boolean any = false;
      while (true) {
        if (pos == limit) {
          limit = in.read(buffer, 0, buffer.length);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            return any;
          }
        }
        any = true;
        byte b = buffer[pos++];
        if (b == '\n') {
          if (length > 0 && line[length - 1] == '\r') {
            length--;
          }
          return true;
        }
        if (length >= maxBytes || skipped > 0) {
          if (skipped == 0) {
            skipped = length - Math.min(length, 1024);
            length = Math.min(length, 1024);
          }
          skipped++;
          continue;
        }
        if (length == line.length) {
          line = Arrays.copyOf(line, line.length * 2);
        }
        line[length++] = b;
      }
    }

    /** The current line's bytes, {@link #length()} of them. */
    byte[] bytes() {
      return line;
    }

    int length() {
      return length;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }

  static String fileName(FileIO.ReadableFile file) {
    return file.getMetadata().resourceId().getFilename();
  }

  /** Emits good rows and dead letters for one file, counting every record read. */
  final class Emitter {
    private final MultiOutputReceiver out;
    private final String file;

    Emitter(MultiOutputReceiver out, String file) {
      this.out = out;
      this.file = file;
    }

    void row(Row row) {
      read.inc();
      out.get(ROWS).output(row);
    }

    void deadLetter(String reason, String detail, String position, String payload) {
      read.inc();
      out.get(DEAD).output(DeadLetter.of(STAGE, reason, detail, sourceName, position, payload));
    }
  }
}
