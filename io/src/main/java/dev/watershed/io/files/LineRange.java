package dev.watershed.io.files;

import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.CustomCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.FileSystems;
import org.apache.beam.sdk.transforms.DoFn;

/**
 * A run of whole records of one file: the bytes {@code [start, end)}, the number of its first line,
 * and the file's first record (a CSV header) for ranges that do not hold it. Large uncompressed
 * files are read in ranges on every worker, so one big file no longer keeps one core busy and the
 * other idle (measured: a 2M-row CSV load). Line-based formats are cut at line breaks; CSV at
 * record starts found by {@link CsvRecords}, so a quoted line break never falls between two ranges.
 */
record LineRange(
    String file,
    String name,
    long start,
    long end,
    long firstLine,
    String firstLineText,
    long fileSize) {
  /** Bytes a range holds at least (the last range of a file may hold fewer). */
  static final long RANGE_BYTES = 32L << 20;

  /** The whole file, for small and compressed files. */
  boolean whole() {
    return end < 0;
  }

  /**
   * Opens the range's bytes; a whole file is decompressed as its name says. A file that holds fewer
   * bytes than it did when the read was planned (truncated, or rewritten, while the run read it)
   * fails the read with a message naming it, instead of loading part of it.
   */
  InputStream open() throws IOException {
    ReadableByteChannel channel = FileSystems.open(FileSystems.matchNewResource(file, false));
    if (whole()) {
      ReadableByteChannel counted = new Checked(channel, fileSize);
      return Channels.newInputStream(Compression.detect(file).readDecompressed(counted));
    }
    ((SeekableByteChannel) channel).position(start);
    return new Bounded(Channels.newInputStream(channel), end - start);
  }

  private String truncated(long expected, long read) {
    return file
        + " changed while it was read: "
        + expected
        + " bytes were planned"
        + (whole() ? "" : " from byte " + start)
        + ", "
        + read
        + " were there; run again once the file is complete";
  }

  /** A channel that fails at its end when it gave fewer bytes than the file had. */
  private final class Checked implements ReadableByteChannel {
    private final ReadableByteChannel channel;
    private final long expected;
    private long read;

    Checked(ReadableByteChannel channel, long expected) {
      this.channel = channel;
      this.expected = expected;
    }

    @Override
    public int read(ByteBuffer buffer) throws IOException {
      int n = channel.read(buffer);
      if (n > 0) {
        read += n;
      } else if (n < 0 && expected >= 0 && read < expected) {
        throw new IOException(truncated(expected, read));
      }
      return n;
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** An input stream that ends after {@code limit} bytes, and fails if the file ends first. */
  private final class Bounded extends FilterInputStream {
    private final long limit;
    private long left;

    Bounded(InputStream in, long limit) {
      super(in);
      this.limit = limit;
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = super.read();
      if (b >= 0) {
        left--;
      } else {
        throw new IOException(truncated(limit, limit - left));
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = super.read(buffer, offset, (int) Math.min(length, left));
      if (n > 0) {
        left -= n;
      } else if (n < 0) {
        throw new IOException(truncated(limit, limit - left));
      }
      return n;
    }
  }

  /**
   * Cuts each matched file into ranges of about a given size that start at line starts, counting
   * the lines before each so that every record keeps its line number.
   */
  static final class SplitFn extends DoFn<FileIO.ReadableFile, LineRange> {
    private final long rangeBytes;
    private final CsvFormat csv;

    /** Ranges of about {@code rangeBytes}; with 0, every file is one range. */
    SplitFn(long rangeBytes) {
      this(rangeBytes, null);
    }

    /** Ranges cut at CSV record starts when {@code csv} is not null, else at line starts. */
    SplitFn(long rangeBytes, CsvFormat csv) {
      this.rangeBytes = rangeBytes;
      this.csv = csv;
    }

    @ProcessElement
    public void process(@Element FileIO.ReadableFile file, OutputReceiver<LineRange> out)
        throws IOException {
      String path = file.getMetadata().resourceId().toString();
      String name = FileSourceFn.fileName(file);
      long size = file.getMetadata().sizeBytes();
      if (rangeBytes <= 0
          || file.getCompression() != Compression.UNCOMPRESSED
          || !file.getMetadata().isReadSeekEfficient()
          || size <= rangeBytes) {
        // The size planned; a compressed file's is its compressed size.
        out.output(new LineRange(path, name, 0, -1, 1, null, size));
        return;
      }
      if (csv != null) {
        splitCsv(file, path, name, size, out);
        return;
      }
      List<long[]> cuts = new ArrayList<>();
      String firstLineText;
      try (SeekableByteChannel channel = file.openSeekable()) {
        firstLineText = firstLine(channel);
        channel.position(0);
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        long offset = 0;
        long lines = 0;
        long rangeStart = 0;
        long rangeFirstLine = 1;
        long nextCut = rangeBytes;
        while (channel.read(buffer) > 0) {
          buffer.flip();
          byte[] bytes = buffer.array();
          for (int i = 0; i < buffer.limit(); i++) {
            if (bytes[i] == '\n') {
              lines++;
              long lineEnd = offset + i + 1;
              if (lineEnd >= nextCut && lineEnd < size) {
                cuts.add(new long[] {rangeStart, lineEnd, rangeFirstLine});
                rangeStart = lineEnd;
                rangeFirstLine = lines + 1;
                nextCut = lineEnd + rangeBytes;
              }
            }
          }
          offset += buffer.limit();
          buffer.clear();
        }
        cuts.add(new long[] {rangeStart, size, rangeFirstLine});
      }
      for (long[] cut : cuts) {
        out.output(new LineRange(path, name, cut[0], cut[1], cut[2], firstLineText, size));
      }
    }

    /** Cuts a CSV file at the first record start past every {@code rangeBytes}. */
    private void splitCsv(
        FileIO.ReadableFile file,
        String path,
        String name,
        long size,
        OutputReceiver<LineRange> out)
        throws IOException {
      String header = null;
      List<long[]> cuts = new ArrayList<>();
      try (SeekableByteChannel channel = file.openSeekable()) {
        // Every range reads the columns from the file's first record (a header, or the count).
        CsvRecords first = new CsvRecords(Channels.newInputStream(channel), csv, 1, 0, true);
        CsvRecords.Record firstRecord = first.next();
        header = firstRecord == null ? "" : firstRecord.text();
        channel.position(0);
        CsvRecords records = new CsvRecords(Channels.newInputStream(channel), csv, 1, 0, false);
        long rangeStart = 0;
        long rangeFirstLine = 1;
        long nextCut = rangeBytes;
        CsvRecords.Record record;
        while ((record = records.next()) != null) {
          if (record.offset() >= nextCut) {
            cuts.add(new long[] {rangeStart, record.offset(), rangeFirstLine});
            rangeStart = record.offset();
            rangeFirstLine = record.line();
            nextCut = rangeStart + rangeBytes;
          }
        }
        cuts.add(new long[] {rangeStart, size, rangeFirstLine});
      }
      for (long[] cut : cuts) {
        out.output(new LineRange(path, name, cut[0], cut[1], cut[2], header, size));
      }
    }

    private static String firstLine(SeekableByteChannel channel) throws IOException {
      BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      String line = reader.readLine();
      return line == null ? "" : line;
    }
  }

  /** Encodes ranges field by field. */
  static final class Coder extends CustomCoder<LineRange> {
    private static final StringUtf8Coder TEXT = StringUtf8Coder.of();
    private static final NullableCoder<String> OPTIONAL_TEXT = NullableCoder.of(TEXT);
    private static final VarLongCoder NUMBER = VarLongCoder.of();

    @Override
    public void encode(LineRange range, OutputStream out) throws IOException {
      TEXT.encode(range.file(), out);
      TEXT.encode(range.name(), out);
      NUMBER.encode(range.start(), out);
      NUMBER.encode(range.end(), out);
      NUMBER.encode(range.firstLine(), out);
      OPTIONAL_TEXT.encode(range.firstLineText(), out);
      NUMBER.encode(range.fileSize(), out);
    }

    @Override
    public LineRange decode(InputStream in) throws IOException {
      return new LineRange(
          TEXT.decode(in),
          TEXT.decode(in),
          NUMBER.decode(in),
          NUMBER.decode(in),
          NUMBER.decode(in),
          OPTIONAL_TEXT.decode(in),
          NUMBER.decode(in));
    }
  }
}
