package dev.watershed.io.files;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FoldersTest {
  @TempDir Path folder;

  /**
   * A folder removed while another (Flink at exit) removes parts of it: what vanishes is skipped.
   * Files.walk threw UncheckedIOException (NoSuchFileException) in every round of this race, after
   * the demo's summary.
   */
  @Test
  void removingTheFolderWhileEntriesVanishNeitherFailsNorLeavesIt() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path root = Files.createDirectory(folder.resolve("round" + round));
      for (int i = 0; i < 300; i++) {
        Path dir = Files.createDirectories(root.resolve("d" + i).resolve("x"));
        Files.writeString(dir.resolve("f"), "x");
      }
      Thread flink =
          new Thread(
              () -> {
                for (int i = 299; i >= 0; i--) {
                  Path dir = root.resolve("d" + i);
                  try {
                    Files.deleteIfExists(dir.resolve("x/f"));
                    Files.deleteIfExists(dir.resolve("x"));
                    Files.deleteIfExists(dir);
                  } catch (IOException e) {
                    // The other side removed it first.
                  }
                }
              });
      flink.start();
      Folders.deleteQuietly(root);
      flink.join();
      Folders.deleteQuietly(root);
      assertFalse(Files.exists(root), root.toString());
    }
  }

  @Test
  void filesWhileSomeVanishAreTheOnesLeft() throws Exception {
    for (int round = 0; round < 20; round++) {
      Path root = Files.createDirectory(folder.resolve("landing" + round));
      for (int i = 0; i < 300; i++) {
        Files.writeString(Files.createDirectories(root.resolve("d" + i)).resolve("f.csv"), "x");
      }
      Thread mover =
          new Thread(
              () -> {
                for (int i = 299; i >= 150; i--) {
                  try {
                    Files.deleteIfExists(root.resolve("d" + i).resolve("f.csv"));
                    Files.deleteIfExists(root.resolve("d" + i));
                  } catch (IOException e) {
                    // Gone already.
                  }
                }
              });
      mover.start();
      java.util.List<Path> found = Folders.files(root);
      mover.join();
      // The first half never moves: always found.
      for (int i = 0; i < 150; i++) {
        org.junit.jupiter.api.Assertions.assertTrue(
            found.contains(root.resolve("d" + i).resolve("f.csv")), "d" + i);
      }
    }
  }
}
