package dev.watershed.io.files;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Reads CSV records from bytes as RFC 4180 defines them, with the variations of a {@link
 * CsvFormat}: a quoted field may span lines, so a record is not a line.
 *
 * <p>The bytes are scanned for the format's ASCII delimiter, quote, escape and line breaks, which
 * an ASCII-compatible encoding never uses inside another character; each field is decoded on its
 * own. The same scan finds record boundaries for splitting a large file ({@link #offset()} before
 * each record), so a split never falls inside a quoted line break.
 *
 * <p>Broken quoting (a quoted field that does not close before the end of the input or before
 * {@code maxRecordBytes}, or text after a closing quote) makes the record's first line a malformed
 * record, and reading resumes on the next line: one bad quote costs one line, not the rest of the
 * file. A line longer than {@code maxRecordBytes} is skipped without being held in memory and
 * reported as too large. Blank lines and comment lines are skipped.
 */
final class CsvRecords implements Closeable {
  /** What went wrong with a record that could not be read. */
  enum Problem {
    MALFORMED,
    TOO_LARGE,
    /**
     * Bytes that are not text in the format's encoding; the record's text is its bytes in base64.
     */
    INVALID_ENCODING
  }

  /**
   * One record: its first line's number, the byte offset where it starts, its fields (null when not
   * decoded or malformed) and its text (the record as written, without the final line break; for a
   * malformed record its first line).
   */
  record Record(
      long line, long offset, List<String> fields, String text, Problem problem, String detail) {}

  /** Bytes of a too-large record kept as its text in a dead letter. */
  static final int TOO_LARGE_EXCERPT = 1024;

  private final InputStream in;
  private final CsvFormat format;
  private final Charset charset;
  private final boolean decode;
  private final byte delimiter;
  private final byte quote;
  private final byte escape;
  private final int comment;

  private byte[] buffer = new byte[1 << 16];
  private int pos;
  private int limit;
  private long offset;
  private long line;

  /** The bytes of the record being read. */
  private byte[] record = new byte[1 << 10];

  private int recordLength;

  /** The current field's bytes when it is quoted (escapes removed). */
  private byte[] field = new byte[256];

  private int fieldLength;

  /**
   * Reads records from {@code in}, whose first byte is at {@code startOffset} of its file and on
   * line {@code firstLine}; {@code decode} false only finds boundaries (no fields, no text).
   */
  CsvRecords(InputStream in, CsvFormat format, long firstLine, long startOffset, boolean decode)
      throws IOException {
    this.in = in;
    this.format = format;
    this.charset = format.charset();
    this.decode = decode;
    this.delimiter = (byte) format.delimiter();
    this.quote = (byte) format.quote();
    this.escape = (byte) format.escape();
    this.comment = format.comment() == 0 ? -1 : format.comment();
    this.line = firstLine;
    this.offset = startOffset;
    if (startOffset == 0) {
      skipByteOrderMark();
    }
  }

  /** The byte offset in the file where the next record (or blank or comment line) starts. */
  long offset() {
    return offset;
  }

  /** The number of the line the next record starts on. */
  long line() {
    return line;
  }

  /** The next record, or null at the end of the input. */
  Record next() throws IOException {
    while (true) {
      int c = peek();
      if (c < 0) {
        return null;
      }
      if (c == '\n') {
        read();
        line++;
        continue;
      }
      if (c == '\r' && peekAt(1) == '\n') {
        read();
        read();
        line++;
        continue;
      }
      if (c == comment) {
        skipLine();
        continue;
      }
      return readRecord();
    }
  }

  private Record readRecord() throws IOException {
    long startLine = line;
    long startOffset = offset;
    recordLength = 0;
    List<String> fields = decode ? new ArrayList<>() : null;
    int max = format.maxRecordBytes();
    while (true) {
      int c = read();
      if (c == quote) {
        append(c);
        fieldLength = 0;
        while (true) {
          c = read();
          if (c < 0) {
            return malformed(startLine, startOffset, "a quoted field is not closed");
          }
          append(c);
          if (recordLength > max) {
            return malformed(
                startLine,
                startOffset,
                "a quoted field is not closed within " + max + " bytes (max_record_bytes)");
          }
          if (c == escape && escape != quote) {
            int next = read();
            if (next < 0) {
              return malformed(startLine, startOffset, "a quoted field is not closed");
            }
            append(next);
            if (next == '\n') {
              line++;
            }
            fieldByte(next);
            continue;
          }
          if (c == quote) {
            if (escape == quote && peek() == quote) {
              append(read());
              fieldByte(quote);
              continue;
            }
            break;
          }
          if (c == '\n') {
            line++;
          }
          fieldByte(c);
        }
        // After the closing quote: a delimiter, the end of the record, or broken quoting.
        if (decode) {
          fields.add(decodeField(field, 0, fieldLength));
        }
        c = read();
        if (c == delimiter) {
          append(c);
          continue;
        }
        if (c < 0 || c == '\n' || (c == '\r' && peek() == '\n')) {
          return endRecord(c, startLine, startOffset, fields);
        }
        append(c);
        return malformed(
            startLine,
            startOffset,
            "text after a closing quote at byte "
                + (recordLength)
                + " of the record (expected '"
                + format.delimiter()
                + "' or a line break)");
      }
      // An unquoted field: up to the delimiter or the end of the line.
      int start = recordLength;
      while (c >= 0 && c != delimiter && c != '\n') {
        append(c);
        if (recordLength > max) {
          return tooLarge(startLine, startOffset);
        }
        c = read();
      }
      int end = recordLength;
      if (c != delimiter && end > start && record[end - 1] == '\r') {
        end--;
      }
      if (decode) {
        fields.add(decodeField(record, start, end - start));
      }
      if (c == delimiter) {
        append(c);
        continue;
      }
      if (c == '\n') {
        if (recordLength > 0 && record[recordLength - 1] == '\r') {
          recordLength--;
        }
        line++;
      }
      return finished(startLine, startOffset, fields);
    }
  }

  /**
   * The record read, or an {@link Problem#INVALID_ENCODING} one when a field's bytes are not text
   * in the format's encoding (and the format does not replace them).
   */
  private Record finished(long startLine, long startOffset, List<String> fields) {
    if (invalidBytes) {
      invalidBytes = false;
      return new Record(
          startLine,
          startOffset,
          null,
          "base64:" + Base64.getEncoder().encodeToString(Arrays.copyOf(record, recordLength)),
          Problem.INVALID_ENCODING,
          "bytes that are not "
              + charset.name()
              + " text (set the source's encoding, or"
              + " on_invalid_encoding: replace)");
    }
    return new Record(startLine, startOffset, fields, text(), null, null);
  }

  /** True once a field of the record being read held bytes its encoding cannot decode. */
  private boolean invalidBytes;

  /**
   * A field's text. A decoder replaces bytes it cannot read with U+FFFD; when that character shows,
   * the bytes are checked strictly, and unless the format replaces them the record is refused.
   */
  private String decodeField(byte[] bytes, int from, int length) {
    String text = new String(bytes, from, length, charset);
    if (text.indexOf('\uFFFD') >= 0 && !format.replaceInvalid()) {
      try {
        charset
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes, from, length));
      } catch (CharacterCodingException e) {
        invalidBytes = true;
      }
    }
    return text;
  }

  private Record endRecord(int c, long startLine, long startOffset, List<String> fields)
      throws IOException {
    if (c == '\r') {
      read();
    }
    if (c >= 0) {
      line++;
    }
    return finished(startLine, startOffset, fields);
  }

  /**
   * Ends a record whose quoting is broken at its first line, and reads on from the line after: the
   * bytes past that line go back to the input.
   */
  private Record malformed(long startLine, long startOffset, String detail) throws IOException {
    int firstBreak = -1;
    for (int i = 0; i < recordLength; i++) {
      if (record[i] == '\n') {
        firstBreak = i;
        break;
      }
    }
    if (firstBreak >= 0) {
      unread(record, firstBreak + 1, recordLength - firstBreak - 1);
      recordLength = firstBreak;
      line = startLine + 1;
    } else {
      // The rest of the line belongs to the bad record.
      int c;
      while ((c = read()) >= 0 && c != '\n') {
        if (recordLength < format.maxRecordBytes()) {
          append(c);
        }
      }
      if (c == '\n') {
        line = startLine + 1;
      }
    }
    if (recordLength > 0 && record[recordLength - 1] == '\r') {
      recordLength--;
    }
    return new Record(startLine, startOffset, null, text(), Problem.MALFORMED, detail);
  }

  /** Skips the rest of a line too long to hold, keeping its start as the record's text. */
  private Record tooLarge(long startLine, long startOffset) throws IOException {
    long size = recordLength;
    int c;
    while ((c = read()) >= 0 && c != '\n') {
      size++;
    }
    if (c == '\n') {
      line++;
    }
    recordLength = Math.min(recordLength, TOO_LARGE_EXCERPT);
    return new Record(
        startLine,
        startOffset,
        null,
        decode ? text() + "..." : null,
        Problem.TOO_LARGE,
        "the record has more than "
            + format.maxRecordBytes()
            + " bytes (max_record_bytes); at least "
            + size
            + " read");
  }

  private String text() {
    return decode ? new String(record, 0, recordLength, charset) : null;
  }

  private void skipLine() throws IOException {
    int c;
    while ((c = read()) >= 0 && c != '\n') {
      // skipped
    }
    line++;
  }

  private void skipByteOrderMark() throws IOException {
    if (peek() == 0xEF && peekAt(1) == 0xBB && peekAt(2) == 0xBF) {
      read();
      read();
      read();
    }
  }

  private void append(int c) {
    if (recordLength == record.length) {
      record = Arrays.copyOf(record, record.length * 2);
    }
    record[recordLength++] = (byte) c;
  }

  private void fieldByte(int c) {
    if (!decode) {
      return;
    }
    if (fieldLength == field.length) {
      field = Arrays.copyOf(field, field.length * 2);
    }
    field[fieldLength++] = (byte) c;
  }

  private int read() throws IOException {
    if (pos >= limit && !fill(1)) {
      return -1;
    }
    offset++;
    return buffer[pos++] & 0xFF;
  }

  private int peek() throws IOException {
    return peekAt(0);
  }

  private int peekAt(int ahead) throws IOException {
    if (pos + ahead >= limit && !fill(ahead + 1)) {
      return -1;
    }
    return buffer[pos + ahead] & 0xFF;
  }

  /** Makes at least {@code wanted} bytes available at {@code pos}; false at the end of input. */
  private boolean fill(int wanted) throws IOException {
    if (pos > 0) {
      System.arraycopy(buffer, pos, buffer, 0, limit - pos);
      limit -= pos;
      pos = 0;
    }
    while (limit < wanted) {
      if (limit == buffer.length) {
        buffer = Arrays.copyOf(buffer, buffer.length * 2);
      }
      int n = in.read(buffer, limit, buffer.length - limit);
      if (n < 0) {
        return false;
      }
      limit += n;
    }
    return true;
  }

  /** Puts bytes back in front of the input, to be read again. */
  private void unread(byte[] bytes, int from, int length) {
    int available = limit - pos;
    byte[] joined = new byte[Math.max(buffer.length, length + available)];
    System.arraycopy(bytes, from, joined, 0, length);
    System.arraycopy(buffer, pos, joined, length, available);
    buffer = joined;
    pos = 0;
    limit = length + available;
    offset -= length;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
