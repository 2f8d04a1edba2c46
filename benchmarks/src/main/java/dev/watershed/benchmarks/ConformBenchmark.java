package dev.watershed.benchmarks;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * What conform expressions cost: a CSV file of ROWS records loaded into DuckDB by whole Watershed
 * runs (embedded Flink, the CLI's own JVM), with the same model filled three ways: plain {@code
 * from:} rules, {@code expr:} rules that only name each column (the interpreter's own overhead),
 * and {@code expr:} rules that compute (concat, case, casts and arithmetic, a date function).
 * Medians of RUNS rounds, wall time of the process (start-up included), rows per second, and each
 * case against the {@code from:} one measured in the same round.
 *
 * <p>Usage: {@code ConformBenchmark ROWS RUNS WATERSHED_JAR OUT.csv OUT.md}
 */
public final class ConformBenchmark {
  private static final List<String> COUNTRIES =
      List.of("Deutschland", "France", "United Kingdom", "USA", "Nederland");

  private final long rows;
  private final int runs;
  private final Path jar;
  private final Path work;

  private ConformBenchmark(long rows, int runs, Path jar) throws IOException {
    this.rows = rows;
    this.runs = runs;
    this.jar = jar;
    this.work = Files.createTempDirectory("conform-bench");
  }

  public static void main(String[] args) throws Exception {
    ConformBenchmark bench =
        new ConformBenchmark(Long.parseLong(args[0]), Integer.parseInt(args[1]), Path.of(args[2]));
    bench.write(bench.runAll(), Path.of(args[3]), Path.of(args[4]));
  }

  private void generate() throws IOException {
    Random random = new Random(20261202L);
    try (Writer out = Files.newBufferedWriter(work.resolve("orders.csv"))) {
      out.write("id,first,last,price,qty,country,created\n");
      for (long i = 1; i <= rows; i++) {
        out.write(
            i
                + ",first"
                + random.nextInt(1000)
                + ",last"
                + random.nextInt(5000)
                + ","
                + String.format(Locale.ROOT, "%.2f", random.nextInt(100000) / 100.0)
                + ","
                + (1 + random.nextInt(20))
                + ","
                + COUNTRIES.get(random.nextInt(COUNTRIES.size()))
                + ",2024-"
                + String.format(
                    Locale.ROOT, "%02d-%02d", 1 + random.nextInt(12), 1 + random.nextInt(28))
                + "T10:00:00Z\n");
      }
    }
  }

  /** The spec with the model's fields filled by {@code fields} (YAML flow entries). */
  private Path spec(String name, Map<String, String> fields) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("name: " + name);
    lines.add("sources:");
    lines.add("  orders: { type: csv, path: orders.csv }");
    lines.add("models:");
    lines.add("  order_line:");
    lines.add("    key: [id]");
    lines.add("    fields:");
    lines.add("      id: long");
    lines.add("      name: string");
    lines.add("      amount: decimal(14,2)");
    lines.add("      qty: int");
    lines.add("      country: string");
    lines.add("      created: date");
    lines.add("conform:");
    lines.add("  - from: orders");
    lines.add("    to: order_line");
    lines.add("    fields:");
    for (Map.Entry<String, String> field : fields.entrySet()) {
      lines.add("      " + field.getKey() + ": " + field.getValue());
    }
    lines.add("sinks:");
    lines.add("  warehouse: { type: duckdb, path: " + name + ".duckdb, write: overwrite }");
    lines.add("dead_letter: { path: dead-" + name + " }");
    lines.add("report: { path: report-" + name + " }");
    Path file = work.resolve(name + ".yaml");
    Files.writeString(file, String.join("\n", lines) + "\n");
    return file;
  }

  private List<String[]> runAll() throws Exception {
    generate();
    Map<String, Path> cases = new LinkedHashMap<>();
    Map<String, String> plain = new LinkedHashMap<>();
    plain.put("id", "id");
    plain.put("name", "first");
    plain.put("amount", "price");
    plain.put("qty", "qty");
    plain.put("country", "country");
    plain.put("created", "created");
    cases.put("from: columns", spec("plain", plain));
    Map<String, String> named = new LinkedHashMap<>();
    plain.forEach((field, column) -> named.put(field, "{ expr: \"" + column + "\" }"));
    cases.put("expr: the same columns", spec("named", named));
    Map<String, String> computed = new LinkedHashMap<>();
    computed.put("id", "{ expr: \"cast(id as bigint)\" }");
    computed.put("name", "{ expr: \"concat_ws(' ', initcap(first), upper(last))\" }");
    computed.put("amount", "{ expr: \"round(cast(price as decimal(12,2)) * qty, 2)\" }");
    computed.put("qty", "{ expr: \"case when qty > 10 then 10 else cast(qty as integer) end\" }");
    computed.put(
        "country",
        "{ expr: \"case country when 'Deutschland' then 'DE' when 'France' then 'FR' else"
            + " upper(left(country, 2)) end\" }");
    computed.put("created", "{ expr: \"date_trunc('month', cast(created as date))\" }");
    cases.put("expr: computed fields", spec("computed", computed));
    Map<String, List<Double>> seconds = new LinkedHashMap<>();
    Map<String, List<Double>> ratios = new LinkedHashMap<>();
    for (int round = 0; round < runs; round++) {
      double base = 0;
      for (Map.Entry<String, Path> entry : cases.entrySet()) {
        double took = run(entry.getValue());
        if (base == 0) {
          base = took;
        }
        seconds.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).add(took);
        ratios.computeIfAbsent(entry.getKey(), k -> new ArrayList<>()).add(took / base);
        System.out.printf(
            Locale.ROOT, "round %d  %-24s %7.1f s%n", round + 1, entry.getKey(), took);
      }
    }
    List<String[]> out = new ArrayList<>();
    for (String name : cases.keySet()) {
      double median = LoadBenchmark.median(seconds.get(name));
      out.add(
          new String[] {
            name,
            String.format(Locale.ROOT, "%.1f", median),
            String.format(Locale.ROOT, "%.0f", rows / median),
            String.format(Locale.ROOT, "%.2f", LoadBenchmark.median(ratios.get(name)))
          });
    }
    return out;
  }

  private double run(Path spec) throws Exception {
    return SyncBenchmark.wholeRun(jar, work, spec);
  }

  private void write(List<String[]> results, Path csv, Path table) throws IOException {
    try (Writer out = Files.newBufferedWriter(csv)) {
      out.write("case,seconds,rows_per_s,x_from_columns\n");
      for (String[] row : results) {
        out.write("\"" + row[0] + "\"," + String.join(",", List.of(row).subList(1, 4)) + "\n");
      }
    }
    try (Writer out = Files.newBufferedWriter(table)) {
      out.write(
          "| case (" + rows + " rows) | wall s | rows/s | × from: columns |\n|---|---|---|---|\n");
      for (String[] row : results) {
        out.write("| " + String.join(" | ", row) + " |\n");
      }
    }
  }
}
