package dev.watershed.io.files;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits one CSV line into fields (RFC 4180 quoting: a field in double quotes may hold the
 * delimiter, and {@code ""} stands for one quote).
 *
 * <p>A record is one physical line; a quoted field that does not close on its line, or text after a
 * closing quote, is malformed quoting and makes {@link #split} throw.
 */
final class CsvLines {
  private CsvLines() {}

  /** Thrown for a line whose quoting is broken. */
  static final class MalformedLineException extends Exception {
    MalformedLineException(String message) {
      super(message, null, false, false);
    }
  }

  static List<String> split(String line, char delimiter) throws MalformedLineException {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    int n = line.length();
    while (true) {
      field.setLength(0);
      if (i < n && line.charAt(i) == '"') {
        i++;
        boolean closed = false;
        while (i < n) {
          char c = line.charAt(i);
          if (c == '"') {
            if (i + 1 < n && line.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
            } else {
              closed = true;
              i++;
              break;
            }
          } else {
            field.append(c);
            i++;
          }
        }
        if (!closed) {
          throw new MalformedLineException("a quoted field is not closed on its line");
        }
        if (i < n && line.charAt(i) != delimiter) {
          throw new MalformedLineException(
              "text after a closing quote at column "
                  + (i + 1)
                  + " (expected '"
                  + delimiter
                  + "')");
        }
        fields.add(field.toString());
      } else {
        int end = line.indexOf(delimiter, i);
        if (end < 0) {
          end = n;
        }
        fields.add(line.substring(i, end));
        i = end;
      }
      if (i >= n) {
        return fields;
      }
      i++; // skip the delimiter
      if (i == n) {
        fields.add("");
        return fields;
      }
    }
  }

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
