package dev.watershed.io.files;

/** Writes CSV values: RFC 4180 quoting, which {@link CsvRecords} reads back. */
final class CsvLines {
  private CsvLines() {}

  /** Quotes a value for writing when it holds the delimiter, a quote or a line break. */
  static String quote(String value, char delimiter) {
    if (value.indexOf(delimiter) < 0
        && value.indexOf('"') < 0
        && value.indexOf('\n') < 0
        && value.indexOf('\r') < 0) {
      return value;
    }
    return '"' + value.replace("\"", "\"\"") + '"';
  }
}
