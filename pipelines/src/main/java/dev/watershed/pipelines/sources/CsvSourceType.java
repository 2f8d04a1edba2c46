package dev.watershed.pipelines.sources;

import dev.watershed.io.SourceSizes;
import dev.watershed.io.drift.SourceSchemas;
import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.files.ReplaySource;
import dev.watershed.pipelines.config.ClosestName;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.FileMatches;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.transforms.conform.FieldRule;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: csv}: delimited text files, RFC 4180 unless the block says otherwise. */
public final class CsvSourceType implements SourceType {
  /** Files of one CSV source whose headers {@code validate} reads; more are read by the run. */
  private static final int MAX_HEADERS_CHECKED = 1000;

  /** A CSV source: its files and their format (delimiter, quote, header, encoding, ...). */
  public record Config(SourceBasics basics, String path, CsvFormat format) implements SourceConfig {
    @Override
    public DatasetName datasetName(Spec spec) {
      return DatasetName.file(spec.resolve(path));
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      return CsvSource.read(name(), context.spec().resolve(path))
          .withColumns(context.columns())
          .withFormat(format);
    }

    @Override
    public long estimatedRecords(Spec spec) {
      return SourceSizes.textLines(spec.resolve(path), format.header());
    }

    @Override
    public Map<String, String> observeColumns(Spec spec) throws Exception {
      return SourceSchemas.csv(spec.resolve(path), format);
    }

    @Override
    public ReplaySource replay(Spec spec, List<ReplaySource.Record> records) {
      return ReplaySource.csv(
          name(), CsvSource.header(spec.resolve(path), format), format, records);
    }

    /**
     * Every file the source matches must have a readable header, and every column a conform rule
     * reads must be in the first file's header; the error names the file, the column and the
     * closest column there is.
     */
    @Override
    public void checkColumns(
        YamlObject fields, Map<String, FieldRule> rules, ParseContext context) {
      if (path == null || format == null || context.driftManaged(name())) {
        return;
      }
      List<Path> files = FileMatches.of(context.baseDir(), path);
      List<String> header = null;
      for (Path file : files.subList(0, Math.min(files.size(), MAX_HEADERS_CHECKED))) {
        try {
          List<String> columns = CsvSource.header(file.toString(), format);
          if (header == null) {
            header = columns;
          }
        } catch (IllegalArgumentException e) {
          if (context.firstReportOf(file)) {
            context.error("sources." + name(), line(), e.getMessage());
          }
        }
      }
      if (header == null) {
        return;
      }
      for (Map.Entry<String, FieldRule> rule : rules.entrySet()) {
        for (String column : rule.getValue().columns()) {
          if (header.contains(column)) {
            continue;
          }
          fields.error(
              rule.getKey(),
              "column '"
                  + column
                  + "' is not in the header of "
                  + files.get(0).getFileName()
                  + ClosestName.hint(column, header)
                  + " (columns: "
                  + String.join(", ", header)
                  + ")");
        }
      }
    }
  }

  @Override
  public String name() {
    return "csv";
  }

  @Override
  public String description() {
    return "delimited text files (RFC 4180 by default)";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        FileKeys.PATH,
        Key.string("delimiter", "the field delimiter, one ASCII character or 'tab' (default ,)"),
        Key.string("quote", "the quote character (default \")"),
        Key.string("escape", "the escape character inside quotes (default: the quote doubled)"),
        Key.string("comment", "lines starting with this character are skipped"),
        Key.bool("header", "whether the first line names the columns (default true)"),
        Key.strings("columns", "the column names of files without a header (header: false)"),
        Key.string(
            "encoding",
            "the files' character set (default UTF-8; single-byte ASCII-compatible sets too)"),
        Key.oneOf(
            "on_invalid_encoding",
            "a record with bytes invalid in the encoding: dead_letter (default) or replace them",
            "dead_letter",
            "replace"),
        FileKeys.MAX_RECORD_BYTES);
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    String path = FileKeys.path(block, context);
    return new Config(basics, path, format(block));
  }

  /** The format the keys give: RFC 4180 unless they say otherwise. */
  private static CsvFormat format(YamlObject source) {
    CsvFormat format = CsvFormat.rfc4180();
    Character delimiter = oneCharacter(source, "delimiter", ",");
    Character quote = oneCharacter(source, "quote", "\"");
    Character escape = oneCharacter(source, "escape", null);
    Character comment = oneCharacter(source, "comment", null);
    boolean header = source.bool("header", true);
    List<String> columns = source.strings("columns");
    if (!columns.isEmpty() && header) {
      source.error(
          "columns", "columns name the fields of a file without a header; set header: false");
    }
    int maxRecordBytes = FileKeys.maxRecordBytes(source);
    String encoding = source.string("encoding", "UTF-8");
    try {
      if (!CsvFormat.asciiCompatible(Charset.forName(encoding))) {
        source.error(
            "encoding",
            "encoding "
                + encoding
                + " is not supported for CSV: use one whose ASCII characters are single bytes"
                + " (UTF-8, ISO-8859-1, windows-1252, ...), or convert the file to UTF-8");
        return format;
      }
    } catch (IllegalArgumentException e) {
      source.error(
          "encoding", "unknown encoding '" + encoding + "'; e.g. UTF-8, ISO-8859-1, windows-1252");
      return format;
    }
    try {
      format =
          new CsvFormat(
              delimiter == null ? ',' : delimiter,
              quote == null ? '"' : quote,
              escape == null ? (quote == null ? '"' : quote) : escape,
              comment == null ? (char) 0 : comment,
              header,
              columns.isEmpty() ? null : columns,
              encoding,
              maxRecordBytes,
              false);
    } catch (IllegalArgumentException e) {
      // Characters that collide (a delimiter that is also the quote, ...).
      source.error(null, e.getMessage());
    }
    String invalid = source.string("on_invalid_encoding", "dead_letter");
    if (invalid.equals("replace")) {
      format = format.replacingInvalidBytes();
    } else if (!invalid.equals("dead_letter")) {
      source.error(
          "on_invalid_encoding",
          "unknown value '" + invalid + "'; allowed: dead_letter (default), replace");
    }
    return format;
  }

  /** One character under {@code key} ({@code tab} and {@code \t} name a tab), or the fallback. */
  private static Character oneCharacter(YamlObject source, String key, String fallback) {
    String text = source.string(key, fallback);
    if (text == null) {
      return null;
    }
    if (text.equals("\\t") || text.equals("tab")) {
      text = "\t";
    }
    if (text.length() != 1 || text.charAt(0) > 127 || text.equals("\n") || text.equals("\r")) {
      source.error(key, "expected one ASCII character (or 'tab'), got '" + text + "'");
      return null;
    }
    return text.charAt(0);
  }
}
