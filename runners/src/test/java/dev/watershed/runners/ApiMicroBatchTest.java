package dev.watershed.runners;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Micro-batch mode polls an API source: each tick asks for what changed since the last committed
 * mark; with {@code --stop-when-idle} the loop ends after a tick that read nothing, or whose marks
 * found in the records did not move.
 */
class ApiMicroBatchTest {
  @TempDir Path folder;

  @Test
  void microBatchPollsAnApiUntilATickReadsNothing() throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/items",
        exchange -> {
          String query = exchange.getRequestURI().getQuery();
          asked.add(query == null ? "" : query);
          // Three items changed long ago: a request that asks for changes since a time gets none.
          String body =
              query != null && query.contains("changed_since=")
                  ? "[]"
                  : "[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},{\"id\":3,\"name\":\"c\"}]";
          byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    try {
      Path spec = folder.resolve("poll.yaml");
      Files.writeString(
          spec,
          String.join(
              "\n",
              "name: poll",
              "mode: micro-batch",
              "every: 1s",
              "sources:",
              "  api:",
              "    type: http",
              "    base_url: http://127.0.0.1:" + server.getAddress().getPort(),
              "    path: /items",
              "    incremental: { param: changed_since }",
              "models:",
              "  item:",
              "    key: [id]",
              "    fields: { id: long, name: string }",
              "conform:",
              "  - { from: api, to: item, fields: { id: id, name: name } }",
              "sinks:",
              "  w: { type: duckdb, path: w.duckdb }",
              "dead_letter: { path: dead }",
              "report: { path: report }",
              ""));
      Cli cli = new Cli(folder);
      assertEquals(
          Watershed.OK,
          cli.run("run", spec.toString(), "--runner=direct", "--stop-when-idle"),
          cli::output);
      assertTrue(cli.stderr().contains("tick 2: read nothing new"), cli::output);
      assertEquals(2, asked.size(), asked.toString());
      assertEquals("", asked.get(0), "the first tick reads everything");
      assertTrue(asked.get(1).startsWith("changed_since="), asked.toString());
      assertEquals(
          List.of("count_star()", "3"),
          Warehouse.csv(
              JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
              "SELECT count(*) FROM item"));
    } finally {
      server.stop(0);
    }
  }

  @Test
  void aCursorFieldMarkStopsTheLoopWhenAnInclusiveApiAnswersOnlyTheLastRecordAgain()
      throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/items",
        exchange -> {
          String query = exchange.getRequestURI().getQuery();
          asked.add(query == null ? "" : query);
          // Changed at 1, 2 and 3 by the API's own counter; "since" selects changed >= since.
          long since =
              query != null && query.startsWith("since=") ? Long.parseLong(query.substring(6)) : 0;
          StringBuilder body = new StringBuilder("[");
          for (int id = 1; id <= 3; id++) {
            if (id >= since) {
              body.append(body.length() > 1 ? "," : "")
                  .append("{\"id\":")
                  .append(id)
                  .append(",\"changed\":")
                  .append(id)
                  .append('}');
            }
          }
          byte[] bytes = body.append(']').toString().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, bytes.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
          }
        });
    server.start();
    try {
      Path spec = folder.resolve("poll.yaml");
      Files.writeString(
          spec,
          String.join(
              "\n",
              "name: poll",
              "mode: micro-batch",
              "every: 1s",
              "sources:",
              "  api:",
              "    type: http",
              "    base_url: http://127.0.0.1:" + server.getAddress().getPort(),
              "    path: /items",
              "    incremental: { param: since, cursor_field: changed }",
              "models:",
              "  item:",
              "    key: [id]",
              "    fields: { id: long, changed: long }",
              "conform:",
              "  - { from: api, to: item, fields: { id: id, changed: changed } }",
              "sinks:",
              "  w: { type: duckdb, path: w.duckdb }",
              "dead_letter: { path: dead }",
              "report: { path: report }",
              ""));
      Cli cli = new Cli(folder);
      assertEquals(
          Watershed.OK,
          cli.run("run", spec.toString(), "--runner=direct", "--stop-when-idle"),
          cli::output);
      assertTrue(cli.stderr().contains("tick 2: the marks did not move; caught up"), cli::output);
      assertEquals(List.of("", "since=3"), asked);
      assertEquals(
          List.of("count_star()", "3"),
          Warehouse.csv(
              JdbcEndpoint.of("jdbc:duckdb:" + folder.resolve("w.duckdb")),
              "SELECT count(*) FROM item"));
    } finally {
      server.stop(0);
    }
  }
}
