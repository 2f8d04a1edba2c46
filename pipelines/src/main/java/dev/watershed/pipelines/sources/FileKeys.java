package dev.watershed.pipelines.sources;

import dev.watershed.io.files.CsvFormat;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.YamlObject;

/** Keys every file source shares: where its files are and how large a record may be. */
final class FileKeys {
  static final Key PATH =
      Key.string(
          "path",
          "a file, a glob (data/*.csv, data/**/part-*.csv) or a folder, relative to the spec's"
              + " folder; gs:// and s3:// URLs too");
  static final Key MAX_RECORD_BYTES =
      Key.integer(
          "max_record_bytes",
          "the largest record read, in bytes (default 16 MiB); a larger one is a dead letter");

  private FileKeys() {}

  /** The required path, checked to match a file. */
  static String path(YamlObject block, ParseContext context) {
    String path = block.string("path", true);
    context.checkFilesExist(block, "path", path);
    return path;
  }

  static int maxRecordBytes(YamlObject block) {
    int bytes = block.integer("max_record_bytes", CsvFormat.DEFAULT_MAX_RECORD_BYTES);
    if (bytes < 1) {
      block.error("max_record_bytes", "expected a positive number of bytes");
    }
    return bytes;
  }
}
