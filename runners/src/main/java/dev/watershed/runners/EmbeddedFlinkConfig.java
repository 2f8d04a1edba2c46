package dev.watershed.runners;

import dev.watershed.io.files.Folders;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The Flink configuration folder of the embedded cluster: Beam reads Flink's configuration from a
 * folder ({@code --flinkConfDir}), so the {@code embedded-flink.yaml} shipped in this package is
 * written once per JVM as {@code config.yaml} into a temporary folder, with a {@code checkpoints}
 * folder beside it for streaming jobs' checkpoints and a {@code tmp} folder for what Flink extracts
 * at start (its RPC system's jar, 22 MB a run otherwise left in the system's temporary folder); all
 * are removed when the JVM exits.
 *
 * <p>A streaming job's configuration also bounds its restarts: more than {@value
 * #STREAMING_FAILURES} failures within {@value #STREAMING_FAILURE_INTERVAL} fail the job, and so
 * the run, with the cause (Flink's default restarts a checkpointed job without end, which hid a job
 * failing every checkpoint). A batch job keeps Flink's default for jobs without checkpoints: no
 * restart, since a load's commit must not run twice.
 */
final class EmbeddedFlinkConfig {
  private static final String RESOURCE = "embedded-flink.yaml";
  static final int STREAMING_FAILURES = 3;
  static final String STREAMING_FAILURE_INTERVAL = "5 min";
  private static final Map<Boolean, Path> FOLDERS = new HashMap<>();

  private EmbeddedFlinkConfig() {}

  /** The folder holding {@code config.yaml} for batch or streaming jobs, written on first use. */
  static synchronized Path folder(boolean streaming) {
    Path folder = FOLDERS.get(streaming);
    if (folder == null) {
      try (InputStream yaml = EmbeddedFlinkConfig.class.getResourceAsStream(RESOURCE)) {
        if (yaml == null) {
          throw new IllegalStateException(RESOURCE + " is missing from the watershed jar");
        }
        Path created = Files.createTempDirectory("watershed-flink-conf");
        Path checkpoints = Files.createDirectory(created.resolve("checkpoints"));
        Path file = created.resolve("config.yaml");
        Files.copy(yaml, file, StandardCopyOption.REPLACE_EXISTING);
        // Flink extracts its RPC system (a 22 MB jar) and other files into io.tmp.dirs and
        // leaves them when the JVM ends; here they go into this folder, removed at exit.
        Path temporary = Files.createDirectory(created.resolve("tmp"));
        String added =
            "\nstate.checkpoints.dir: "
                + checkpoints.toUri()
                + "\nio.tmp.dirs: "
                + temporary
                + "\n";
        if (streaming) {
          added +=
              "restart-strategy.type: failure-rate\n"
                  + "restart-strategy.failure-rate.max-failures-per-interval: "
                  + STREAMING_FAILURES
                  + "\nrestart-strategy.failure-rate.failure-rate-interval: "
                  + STREAMING_FAILURE_INTERVAL
                  + "\nrestart-strategy.failure-rate.delay: 1 s\n";
        }
        Files.writeString(file, added, StandardOpenOption.APPEND);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Folders.deleteQuietly(created)));
        folder = created;
        FOLDERS.put(streaming, folder);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write the embedded Flink configuration", e);
      }
    }
    return folder;
  }
}
