package dev.watershed.io.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file that shrank between planning a read and reading it fails the read, naming the file. */
class LineRangeTest {
  @TempDir Path folder;

  private static byte[] readAll(LineRange range) throws IOException {
    try (InputStream in = range.open()) {
      return in.readAllBytes();
    }
  }

  @Test
  void aFileTruncatedAfterItsReadWasPlannedFailsTheRead() throws IOException {
    Path file = folder.resolve("rows.csv");
    byte[] content = "id\n1\n2\n3\n".getBytes();
    Files.write(file, content);
    String path = file.toString();
    // As planned: the whole file, and a range of it.
    assertArrayEquals(
        content, readAll(new LineRange(path, "rows.csv", 0, -1, 1, null, content.length)));
    assertArrayEquals(
        "1\n2\n".getBytes(),
        readAll(new LineRange(path, "rows.csv", 3, 7, 2, "id", content.length)));
    // Planned when the file was larger than it is now.
    IOException whole =
        assertThrows(
            IOException.class,
            () -> readAll(new LineRange(path, "rows.csv", 0, -1, 1, null, content.length + 50)));
    assertTrue(
        whole.getMessage().contains(path + " changed while it was read: 59 bytes were planned, 9"),
        whole.getMessage());
    IOException ranged =
        assertThrows(
            IOException.class, () -> readAll(new LineRange(path, "rows.csv", 3, 40, 2, "id", 60)));
    assertTrue(ranged.getMessage().contains("from byte 3"), ranged.getMessage());
  }
}
