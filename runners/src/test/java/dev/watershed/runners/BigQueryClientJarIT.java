package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runnable jar's BigQuery client builds and sends real requests. The fake BigQuery services of
 * the unit tests never build one, so they could not see the jar resolve a Guava too old for the
 * Google client libraries (the request builder failed with NoSuchMethodError).
 */
class BigQueryClientJarIT {
  private static final Path JAR = Customer360Test.ROOT.resolve("runners/target/watershed.jar");

  @TempDir Path folder;

  @Test
  void theJarsStorageWriteClientSendsARequestToAnEndpoint() throws Exception {
    assertTrue(Files.exists(JAR), JAR + " is built by mvn package before this test runs");
    AtomicInteger connections = new AtomicInteger();
    try (ServerSocket endpoint = new ServerSocket(0)) {
      Thread accepting =
          new Thread(
              () -> {
                try {
                  while (true) {
                    try (Socket socket = endpoint.accept()) {
                      connections.incrementAndGet();
                      // Read what the client sends, then hang up: not a BigQuery.
                      socket.setSoTimeout(2_000);
                      socket.getInputStream().read(new byte[4096]);
                    } catch (java.net.SocketTimeoutException e) {
                      // the client sent nothing more
                    }
                  }
                } catch (IOException e) {
                  // closed at the end of the test
                }
              });
      accepting.setDaemon(true);
      accepting.start();
      Path log = folder.resolve("probe.log");
      Process probe =
          new ProcessBuilder(
                  List.of(
                      Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                      "-cp",
                      JAR + java.io.File.pathSeparator + Path.of("target", "test-classes"),
                      BigQueryClientProbe.class.getName(),
                      Integer.toString(endpoint.getLocalPort())))
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      assertTrue(probe.waitFor(5, TimeUnit.MINUTES), "the probe did not end");
      String output = Files.readString(log, StandardCharsets.UTF_8);
      assertEquals(0, probe.exitValue(), output);
      assertTrue(output.contains("request sent; the endpoint answered"), output);
      assertTrue(connections.get() > 0, "the client never connected\n" + output);
    }
  }
}
