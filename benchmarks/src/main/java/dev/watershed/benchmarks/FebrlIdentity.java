package dev.watershed.benchmarks;

import dev.watershed.io.files.CsvSource;
import dev.watershed.pipelines.compose.RunSummary;
import dev.watershed.runners.RunnerProfile;
import dev.watershed.transforms.identity.BlockingKey;
import dev.watershed.transforms.identity.Comparison;
import dev.watershed.transforms.identity.ResolveIdentities;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.io.TextIO;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Identity resolution quality and speed on the FEBRL data sets: pairwise precision, recall and F1
 * against the ground truth ({@code rec-N-org} and {@code rec-N-dup-K} are one person), candidate
 * pairs, and the median wall time of three runs on embedded Flink.
 *
 * <p>The configuration below is the one a user would write for person records of this kind; it was
 * not tuned against the ground truth, and it is the same for both data sets.
 *
 * <p>Usage: {@code FebrlIdentity OUTPUT_MARKDOWN OUTPUT_CSV DATASET.csv...}
 */
public final class FebrlIdentity {
  private static final List<String> COLUMNS =
      List.of(
          "rec_id",
          "given_name",
          "surname",
          "street_number",
          "address_1",
          "address_2",
          "suburb",
          "postcode",
          "state",
          "date_of_birth",
          "soc_sec_id");

  private FebrlIdentity() {}

  static ResolveIdentities resolver() {
    return ResolveIdentities.of("rec_id")
        .withBlockingKeys(
            BlockingKey.of("postcode"),
            BlockingKey.of("surname:soundex"),
            BlockingKey.of("given_name:soundex"),
            BlockingKey.of("date_of_birth"),
            BlockingKey.of("soc_sec_id"),
            BlockingKey.of("suburb:first4", "street_number"))
        .withComparisons(
            Comparison.jaroWinkler("given_name", 0.94, 0.8),
            Comparison.jaroWinkler("surname", 0.94, 0.8),
            Comparison.exact("street_number"),
            Comparison.jaroWinkler("address_1", 0.94, 0.8),
            Comparison.jaroWinkler("address_2", 0.94),
            Comparison.jaroWinkler("suburb", 0.94, 0.8),
            Comparison.levenshtein("postcode", 0.75),
            Comparison.exact("state"),
            Comparison.date("date_of_birth"),
            Comparison.levenshtein("soc_sec_id", 0.85))
        .withThreshold(0.9);
  }

  /** One measured run. */
  record Result(
      String dataset,
      long records,
      long candidatePairs,
      long truePairs,
      long predictedPairs,
      long correctPairs,
      double seconds) {
    double precision() {
      return predictedPairs == 0 ? 1 : (double) correctPairs / predictedPairs;
    }

    double recall() {
      return truePairs == 0 ? 1 : (double) correctPairs / truePairs;
    }

    double f1() {
      double p = precision();
      double r = recall();
      return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }
  }

  static Result run(Path dataset, Path work) throws IOException {
    Path out = work.resolve("clusters");
    Pipeline pipeline = Pipeline.create(RunnerProfile.FLINK.options(List.of()));
    pipeline
        .apply("source febrl", CsvSource.read("febrl", dataset.toString()).withColumns(COLUMNS))
        .output()
        .apply("resolve", resolver())
        .apply(
            "format",
            MapElements.into(TypeDescriptors.strings())
                .via((Row r) -> r.getString("record_id") + "," + r.getString("cluster_id")))
        .apply("write", TextIO.write().to(out.toString()).withSuffix(".csv").withoutSharding());
    long start = System.nanoTime();
    PipelineResult result = pipeline.run();
    result.waitUntilFinish();
    double seconds = (System.nanoTime() - start) / 1e9;
    long candidates = RunSummary.counters(result).getOrDefault("identity.candidate_pairs", 0L);

    Map<String, List<String>> clusters = new HashMap<>();
    for (String line : Files.readAllLines(work.resolve("clusters.csv"), StandardCharsets.UTF_8)) {
      String[] parts = line.split(",");
      clusters.computeIfAbsent(parts[1], k -> new ArrayList<>()).add(parts[0]);
    }
    Set<String> predicted = pairs(clusters.values());
    Map<String, List<String>> truth = new HashMap<>();
    long records = 0;
    for (List<String> cluster : clusters.values()) {
      for (String id : cluster) {
        records++;
        truth.computeIfAbsent(id.split("-")[1], k -> new ArrayList<>()).add(id);
      }
    }
    Set<String> actual = pairs(truth.values());
    long correct = predicted.stream().filter(actual::contains).count();
    return new Result(
        dataset.getFileName().toString(),
        records,
        candidates,
        actual.size(),
        predicted.size(),
        correct,
        seconds);
  }

  private static Set<String> pairs(Iterable<List<String>> groups) {
    Set<String> pairs = new HashSet<>();
    for (List<String> group : groups) {
      List<String> ids = new ArrayList<>(group);
      Collections.sort(ids);
      for (int i = 0; i < ids.size(); i++) {
        for (int j = i + 1; j < ids.size(); j++) {
          pairs.add(ids.get(i) + "|" + ids.get(j));
        }
      }
    }
    return pairs;
  }

  public static void main(String[] args) throws Exception {
    Path markdown = Path.of(args[0]);
    Path csv = Path.of(args[1]);
    List<String> rows = new ArrayList<>();
    rows.add(
        "dataset,records,candidate_pairs,true_pairs,predicted_pairs,correct_pairs,precision,recall,f1,median_seconds");
    StringBuilder md = new StringBuilder();
    md.append(
        "| data set | records | candidate pairs | true pairs | predicted pairs | precision | recall | F1 | median time (s) |\n");
    md.append("|---|---|---|---|---|---|---|---|---|\n");
    for (int a = 2; a < args.length; a++) {
      Path dataset = Path.of(args[a]);
      List<Result> runs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        Path work = Files.createTempDirectory("febrl");
        runs.add(run(dataset, work));
      }
      runs.sort((x, y) -> Double.compare(x.seconds(), y.seconds()));
      Result median = runs.get(1);
      String line =
          String.format(
              Locale.ROOT,
              "%s,%d,%d,%d,%d,%d,%.4f,%.4f,%.4f,%.2f",
              median.dataset(),
              median.records(),
              median.candidatePairs(),
              median.truePairs(),
              median.predictedPairs(),
              median.correctPairs(),
              median.precision(),
              median.recall(),
              median.f1(),
              median.seconds());
      System.out.println(line);
      rows.add(line);
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %d | %.4f | %.4f | %.4f | %.2f |\n",
              median.dataset(),
              median.records(),
              median.candidatePairs(),
              median.truePairs(),
              median.predictedPairs(),
              median.precision(),
              median.recall(),
              median.f1(),
              median.seconds()));
    }
    Files.write(csv, rows, StandardCharsets.UTF_8);
    Files.writeString(markdown, md.toString(), StandardCharsets.UTF_8);
    System.exit(0);
  }
}
