package dev.watershed.transforms.identity;

import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.quality.Expression;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The workers of {@link ResolveIdentities}: blocking records into candidate pairs, comparing them,
 * estimating Fellegi-Sunter weights, scoring pairs or applying a match rule, and writing cluster
 * rows.
 */
final class Matching {
  private Matching() {}

  /** Both records of a scored match, with its score. */
  static final class ScoresFn extends DoFn<KV<String, String>, KV<String, Double>> {
    @ProcessElement
    public void process(@Element KV<String, String> match, OutputReceiver<KV<String, Double>> out) {
      int at = match.getValue().indexOf(ResolveIdentities.SCORE);
      if (at >= 0 && at + 1 < match.getValue().length()) {
        double value = Double.parseDouble(match.getValue().substring(at + 1));
        out.output(KV.of(match.getKey(), value));
        out.output(KV.of(ResolveIdentities.other(match.getValue()), value));
      }
    }
  }

  /** One row per record: its cluster (its own id when it matched nothing) and best score. */
  static final class ClusterRowFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final TupleTag<String> self;
    private final TupleTag<String> component;
    private final TupleTag<Double> score;

    ClusterRowFn(TupleTag<String> self, TupleTag<String> component, TupleTag<Double> score) {
      this.self = self;
      this.component = component;
      this.score = score;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> record, OutputReceiver<Row> out) {
      if (!record.getValue().getAll(self).iterator().hasNext()) {
        return;
      }
      String id = record.getKey();
      out.output(
          Row.withSchema(ResolveIdentities.CLUSTERS)
              .addValues(
                  id,
                  record.getValue().getOnly(component, id),
                  record.getValue().getOnly(score, null))
              .build());
    }
  }

  /** Pairs of each block that satisfy the match rule, once per pair and block. */
  static final class RuleFn extends DoFn<KV<String, Iterable<Row>>, KV<String, String>> {
    private final String idField;
    private final List<Comparison> comparisons;
    private final int maxBlockSize;
    private final Expression rule;
    private final Counter skipped = RunCounters.counter("identity.blocks_too_large");
    private final Counter candidates = RunCounters.counter("identity.candidate_pairs");
    private transient Schema schema;

    RuleFn(String idField, List<Comparison> comparisons, int maxBlockSize, Expression rule) {
      this.idField = idField;
      this.comparisons = comparisons;
      this.maxBlockSize = maxBlockSize;
      this.rule = rule;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Row>> block, OutputReceiver<KV<String, String>> out) {
      if (schema == null) {
        schema = ResolveIdentities.similaritySchema(comparisons);
      }
      List<Row> rows = new ArrayList<>();
      for (Row row : block.getValue()) {
        rows.add(row);
        if (rows.size() > maxBlockSize) {
          skipped.inc();
          return;
        }
      }
      for (int i = 0; i < rows.size(); i++) {
        for (int j = i + 1; j < rows.size(); j++) {
          String ida = String.valueOf(rows.get(i).<Object>getValue(idField));
          String idb = String.valueOf(rows.get(j).<Object>getValue(idField));
          if (ida.equals(idb)) {
            continue;
          }
          candidates.inc();
          Map<String, Object> values = new HashMap<>();
          for (Comparison comparison : comparisons) {
            Double similarity =
                comparison.similarity(
                    ResolveIdentities.text(rows.get(i), comparison.field()),
                    ResolveIdentities.text(rows.get(j), comparison.field()));
            values.putIfAbsent(
                comparison.field(), similarity == null ? null : BigDecimal.valueOf(similarity));
          }
          List<Object> ordered = new ArrayList<>();
          for (Schema.Field field : schema.getFields()) {
            ordered.add(values.get(field.getName()));
          }
          if (rule.test(Row.withSchema(schema).attachValues(ordered))) {
            out.output(
                ida.compareTo(idb) < 0
                    ? KV.of(ida, idb + ResolveIdentities.SCORE + "1.0")
                    : KV.of(idb, ida + ResolveIdentities.SCORE + "1.0"));
          }
        }
      }
    }
  }

  static final class BlockFn extends DoFn<Row, KV<String, Row>> {
    private final String idField;
    private final List<BlockingKey> blocking;

    BlockFn(String idField, List<BlockingKey> blocking) {
      this.idField = idField;
      this.blocking = blocking;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      for (BlockingKey key : blocking) {
        String value = key.value(field -> ResolveIdentities.text(row, field));
        if (value != null) {
          out.output(KV.of(value, row));
        }
      }
    }
  }

  static final class CompareFn extends DoFn<KV<String, Iterable<Row>>, KV<String, String>> {
    private final String idField;
    private final List<Comparison> comparisons;
    private final int maxBlockSize;
    private final Counter skipped = RunCounters.counter("identity.blocks_too_large");
    private final Counter candidates = RunCounters.counter("identity.candidate_pairs");

    CompareFn(String idField, List<Comparison> comparisons, int maxBlockSize) {
      this.idField = idField;
      this.comparisons = comparisons;
      this.maxBlockSize = maxBlockSize;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<Row>> block, OutputReceiver<KV<String, String>> out) {
      List<Row> rows = new ArrayList<>();
      for (Row row : block.getValue()) {
        rows.add(row);
        if (rows.size() > maxBlockSize) {
          skipped.inc();
          return;
        }
      }
      for (int i = 0; i < rows.size(); i++) {
        for (int j = i + 1; j < rows.size(); j++) {
          Row a = rows.get(i);
          Row b = rows.get(j);
          String ida = String.valueOf(a.<Object>getValue(idField));
          String idb = String.valueOf(b.<Object>getValue(idField));
          if (ida.equals(idb)) {
            continue;
          }
          if (ida.compareTo(idb) > 0) {
            Row swap = a;
            a = b;
            b = swap;
            String s = ida;
            ida = idb;
            idb = s;
          }
          StringBuilder pattern = new StringBuilder();
          for (Comparison comparison : comparisons) {
            pattern
                .append(pattern.length() == 0 ? "" : ",")
                .append(
                    comparison.level(
                        ResolveIdentities.text(a, comparison.field()),
                        ResolveIdentities.text(b, comparison.field())));
          }
          candidates.inc();
          out.output(KV.of(ida + "\u0001" + idb, pattern.toString()));
        }
      }
    }
  }

  /** Gathers pattern counts and fits the model once, on one worker (patterns are few). */
  static final class EstimateFn
      extends Combine.CombineFn<KV<String, Long>, TreeMap<String, Long>, FellegiSunter> {
    private final List<Comparison> comparisons;
    private final int iterations;

    EstimateFn(List<Comparison> comparisons, int iterations) {
      this.comparisons = comparisons;
      this.iterations = iterations;
    }

    @Override
    public TreeMap<String, Long> createAccumulator() {
      return new TreeMap<>();
    }

    @Override
    public TreeMap<String, Long> addInput(TreeMap<String, Long> acc, KV<String, Long> pattern) {
      acc.merge(pattern.getKey(), pattern.getValue(), Long::sum);
      return acc;
    }

    @Override
    public TreeMap<String, Long> mergeAccumulators(Iterable<TreeMap<String, Long>> all) {
      TreeMap<String, Long> merged = new TreeMap<>();
      for (TreeMap<String, Long> acc : all) {
        acc.forEach((k, v) -> merged.merge(k, v, Long::sum));
      }
      return merged;
    }

    @Override
    public FellegiSunter extractOutput(TreeMap<String, Long> acc) {
      Map<List<Integer>, Long> patterns = new HashMap<>();
      acc.forEach(
          (k, v) -> patterns.put(Arrays.stream(ResolveIdentities.levels(k)).boxed().toList(), v));
      return FellegiSunter.initial(comparisons).estimate(patterns, iterations, 1e-6);
    }

    @Override
    public Coder<TreeMap<String, Long>> getAccumulatorCoder(
        CoderRegistry registry, Coder<KV<String, Long>> input) {
      return SerializableCoder.of((Class<TreeMap<String, Long>>) (Class<?>) TreeMap.class);
    }

    @Override
    public Coder<FellegiSunter> getDefaultOutputCoder(
        CoderRegistry registry, Coder<KV<String, Long>> input) {
      return SerializableCoder.of(FellegiSunter.class);
    }
  }

  static final class ScoreFn extends DoFn<KV<String, String>, KV<String, String>> {
    private final PCollectionView<FellegiSunter> model;
    private final double threshold;
    private final Counter matched = RunCounters.counter("identity.matched_pairs");

    ScoreFn(PCollectionView<FellegiSunter> model, double threshold) {
      this.model = model;
      this.threshold = threshold;
    }

    @ProcessElement
    public void process(ProcessContext context) {
      KV<String, String> pair = context.element();
      double probability =
          context.sideInput(model).probability(ResolveIdentities.levels(pair.getValue()));
      if (probability >= threshold) {
        String[] ids = pair.getKey().split("\u0001");
        matched.inc();
        context.output(KV.of(ids[0], ids[1] + ResolveIdentities.SCORE + probability));
      }
    }
  }
}
