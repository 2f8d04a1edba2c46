package dev.watershed.runners;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * The command line as the tests drive it: in a working folder, with captured output, an environment
 * and a clock of the test's choosing.
 */
final class Cli {
  private final Path folder;
  private final Map<String, String> environment;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  Cli(Path folder) {
    this(folder, Map.of());
  }

  Cli(Path folder, Map<String, String> environment) {
    this.folder = folder;
    this.environment = environment;
  }

  /** Runs one command; output of earlier commands is forgotten. */
  int run(String... args) {
    return run(Clock.systemUTC(), args);
  }

  int run(Clock clock, String... args) {
    out.reset();
    err.reset();
    return new Watershed(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            environment,
            folder,
            clock)
        .execute(args);
  }

  String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  /** Standard output followed by standard error. */
  String output() {
    return stdout() + stderr();
  }

  /**
   * Runs the command line in a JVM of its own, as scripts/watershed does, in {@code folder}, its
   * output (both streams) into {@code log}.
   */
  static Process start(Path folder, Path log, String... args) throws java.io.IOException {
    java.util.List<String> command =
        new java.util.ArrayList<>(
            java.util.List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx2g",
                "--add-opens=java.base/java.lang=ALL-UNNAMED",
                "--add-opens=java.base/java.util=ALL-UNNAMED",
                "--add-opens=java.base/java.nio=ALL-UNNAMED",
                "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                Watershed.class.getName()));
    command.addAll(java.util.List.of(args));
    return new ProcessBuilder(command)
        .directory(folder.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }
}
