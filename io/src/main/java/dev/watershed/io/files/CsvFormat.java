package dev.watershed.io.files;

import java.io.Serializable;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How a CSV file is written: RFC 4180 by default (comma, double quotes doubled inside a quoted
 * field, a header record, UTF-8), with the variations real exports need.
 *
 * <p>A quoted field may hold the delimiter, line breaks (CRLF kept as written) and quotes: doubled
 * ({@code ""}), or preceded by the {@code escape} character when there is one ({@code \"}). A line
 * that starts with the {@code comment} character is skipped. Without a header, columns are named by
 * {@code columns} or {@code column_1}, {@code column_2}, ... in file order.
 *
 * @param delimiter the field separator
 * @param quote the quote character
 * @param escape the character that escapes a quote inside a quoted field; equal to {@code quote}
 *     when quotes are doubled (RFC 4180)
 * @param comment the character that starts a comment line, or 0 for none
 * @param header whether the first record names the columns
 * @param columns the column names of a file without a header (null: {@code column_N})
 * @param encoding the files' character set; one whose ASCII characters are single bytes
 * @param maxRecordBytes the largest record read; a larger one is a dead letter
 * @param replaceInvalid whether bytes that are not text in the encoding become U+FFFD; by default
 *     the record is a dead letter instead
 */
public record CsvFormat(
    char delimiter,
    char quote,
    char escape,
    char comment,
    boolean header,
    List<String> columns,
    String encoding,
    int maxRecordBytes,
    boolean replaceInvalid)
    implements Serializable {

  /** The largest record read unless the format says otherwise: 16 MiB. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 16 << 20;

  public CsvFormat {
    for (char c : new char[] {delimiter, quote, escape}) {
      if (c == '\n' || c == '\r' || c == 0 || c > 127) {
        throw new IllegalArgumentException(
            "CSV delimiter, quote and escape must be single ASCII characters other than a line"
                + " break");
      }
    }
    if (delimiter == quote || delimiter == escape || (comment != 0 && comment == delimiter)) {
      throw new IllegalArgumentException(
          "the CSV delimiter '" + delimiter + "' cannot also be the quote, escape or comment");
    }
    if (comment > 127 || comment == '\n' || comment == '\r') {
      throw new IllegalArgumentException("the CSV comment character must be one ASCII character");
    }
    columns = columns == null ? null : List.copyOf(columns);
    Charset charset = Charset.forName(encoding);
    if (!asciiCompatible(charset)) {
      throw new IllegalArgumentException(
          "encoding "
              + encoding
              + " is not supported for CSV: use an encoding whose ASCII characters are single"
              + " bytes (UTF-8, ISO-8859-1, windows-1252, ...), or convert the file to UTF-8");
    }
    if (maxRecordBytes < 1) {
      throw new IllegalArgumentException("max_record_bytes must be positive");
    }
  }

  /** RFC 4180: comma, double quotes doubled, a header, UTF-8. */
  public static CsvFormat rfc4180() {
    return new CsvFormat(
        ',', '"', '"', (char) 0, true, null, "UTF-8", DEFAULT_MAX_RECORD_BYTES, false);
  }

  public CsvFormat withDelimiter(char value) {
    return new CsvFormat(
        value, quote, escape, comment, header, columns, encoding, maxRecordBytes, replaceInvalid);
  }

  public CsvFormat withQuote(char value) {
    char newEscape = escape == quote ? value : escape;
    return new CsvFormat(
        delimiter,
        value,
        newEscape,
        comment,
        header,
        columns,
        encoding,
        maxRecordBytes,
        replaceInvalid);
  }

  public CsvFormat withEscape(char value) {
    return new CsvFormat(
        delimiter,
        quote,
        value,
        comment,
        header,
        columns,
        encoding,
        maxRecordBytes,
        replaceInvalid);
  }

  public CsvFormat withComment(char value) {
    return new CsvFormat(
        delimiter, quote, escape, value, header, columns, encoding, maxRecordBytes, replaceInvalid);
  }

  /** A file without a header record; {@code names} name its columns in order (null: column_N). */
  public CsvFormat withoutHeader(List<String> names) {
    return new CsvFormat(
        delimiter, quote, escape, comment, false, names, encoding, maxRecordBytes, replaceInvalid);
  }

  public CsvFormat withEncoding(String value) {
    return new CsvFormat(
        delimiter, quote, escape, comment, header, columns, value, maxRecordBytes, replaceInvalid);
  }

  public CsvFormat withMaxRecordBytes(int value) {
    return new CsvFormat(
        delimiter, quote, escape, comment, header, columns, encoding, value, replaceInvalid);
  }

  /** Bytes that are not text in the encoding become U+FFFD instead of making a dead letter. */
  public CsvFormat replacingInvalidBytes() {
    return new CsvFormat(
        delimiter, quote, escape, comment, header, columns, encoding, maxRecordBytes, true);
  }

  /** The files' character set. */
  public Charset charset() {
    return Charset.forName(encoding);
  }

  /** The name of column {@code index} (from 0) of a file without a header. */
  public String columnName(int index) {
    return columns != null && index < columns.size() ? columns.get(index) : "column_" + (index + 1);
  }

  /**
   * True when every ASCII character is one byte of the same value, so that delimiters, quotes and
   * line breaks can be found in the bytes (UTF-8 and the single-byte sets; not UTF-16 or UTF-32).
   */
  public static boolean asciiCompatible(Charset charset) {
    byte[] bytes = "\n\r\",;|\t#\\aZ09".getBytes(charset);
    return new String(bytes, StandardCharsets.ISO_8859_1).equals("\n\r\",;|\t#\\aZ09");
  }
}
