package dev.watershed.pipelines.config;

import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.files.Folders;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/** Local files that a source path or glob matches, for checks made before anything runs. */
public final class FileMatches {
  private FileMatches() {}

  public static List<Path> of(Path baseDir, String pattern) {
    Path full = baseDir.resolve(pattern).normalize();
    if (!pattern.contains("*") && !pattern.contains("?") && !pattern.contains("[")) {
      return Files.isRegularFile(full) ? List.of(full) : List.of();
    }
    Path folder = full.getParent();
    while (folder != null && folder.toString().matches(".*[*?\\[].*")) {
      folder = folder.getParent();
    }
    if (folder == null || !Files.isDirectory(folder)) {
      return List.of();
    }
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + full);
    List<Path> out = new ArrayList<>();
    try {
      // Files arriving or leaving while the folder is read are not an error.
      Folders.files(folder).stream().filter(matcher::matches).sorted().forEach(out::add);
    } catch (IOException e) {
      return List.of();
    }
    return out;
  }

  /** The header of a CSV file, or null when it cannot be read. */
  static List<String> csvHeader(Path file, CsvFormat format) {
    try {
      return CsvSource.header(file.toString(), format);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
