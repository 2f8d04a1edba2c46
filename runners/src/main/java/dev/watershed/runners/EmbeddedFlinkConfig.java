package dev.watershed.runners;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The Flink configuration folder of the embedded cluster: Beam reads Flink's configuration from a
 * folder ({@code --flinkConfDir}), so the {@code embedded-flink.yaml} shipped in this package is
 * written once per JVM as {@code config.yaml} into a temporary folder, removed when the JVM exits.
 */
final class EmbeddedFlinkConfig {
  private static final String RESOURCE = "embedded-flink.yaml";
  private static Path folder;

  private EmbeddedFlinkConfig() {}

  /** The folder holding {@code config.yaml}, written on first use. */
  static synchronized Path folder() {
    if (folder == null) {
      try (InputStream yaml = EmbeddedFlinkConfig.class.getResourceAsStream(RESOURCE)) {
        if (yaml == null) {
          throw new IllegalStateException(RESOURCE + " is missing from the watershed jar");
        }
        Path created = Files.createTempDirectory("watershed-flink-conf");
        Path file = created.resolve("config.yaml");
        Files.copy(yaml, file, StandardCopyOption.REPLACE_EXISTING);
        file.toFile().deleteOnExit();
        created.toFile().deleteOnExit();
        folder = created;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the embedded Flink configuration", e);
      }
    }
    return folder;
  }
}
