package dev.watershed.transforms.identity;

import dev.watershed.transforms.metrics.RunCounters;
import dev.watershed.transforms.quality.Expression;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Distinct;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Max;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Finds the records that describe the same real-world entity and gives each group one cluster id.
 *
 * <ol>
 *   <li>Blocking: records sharing the value of any {@link BlockingKey} become candidate pairs
 *       (blocks larger than {@link #withMaxBlockSize} are skipped and counted).
 *   <li>Comparison: each candidate pair gets a pattern of levels, one per {@link Comparison}.
 *   <li>Scoring: a {@link FellegiSunter} model is fitted to the patterns by
 *       expectation-maximisation (no labels needed); pairs whose match probability reaches the
 *       threshold are matches.
 *   <li>Clustering: connected components of the matches (chains A~B, B~C give one cluster), by
 *       minimum-label propagation in parallel with a convergence check ({@link
 *       ConnectedComponents}); every record's cluster id is the smallest record id in its cluster,
 *       so ids are stable while clusters do not change.
 * </ol>
 *
 * <p>Output: one row per input record, {@code record_id} and {@code cluster_id}. Clustering runs in
 * parallel; only edges still unconverged after {@value #CLUSTER_ROUNDS} rounds (long chains) are
 * joined on one worker.
 *
 * <pre>{@code
 * PCollection<Row> clusters =
 *     people.apply(
 *         ResolveIdentities.of("rec_id")
 *             .withBlockingKeys(BlockingKey.of("postcode"), BlockingKey.of("surname:soundex"))
 *             .withComparisons(
 *                 Comparison.jaroWinkler("given_name", 0.92, 0.8),
 *                 Comparison.jaroWinkler("surname", 0.92, 0.8),
 *                 Comparison.date("date_of_birth"))
 *             .withThreshold(0.9));
 * }</pre>
 */
public final class ResolveIdentities extends PTransform<PCollection<Row>, PCollection<Row>> {
  /** The output: each record and its cluster. */
  public static final Schema CLUSTERS =
      Schema.builder()
          .addStringField("record_id")
          .addStringField("cluster_id")
          .addNullableField("match_score", Schema.FieldType.DOUBLE)
          .build();

  /** Default largest block compared pair by pair. */
  public static final int DEFAULT_MAX_BLOCK = 1000;

  private final String idField;
  private final List<BlockingKey> blocking;
  private final List<Comparison> comparisons;
  private final double threshold;
  private final int maxBlockSize;
  private final int iterations;
  private final String matchRule;
  private final FellegiSunter weights;

  private ResolveIdentities(
      String idField,
      List<BlockingKey> blocking,
      List<Comparison> comparisons,
      double threshold,
      int maxBlockSize,
      int iterations,
      String matchRule,
      FellegiSunter weights) {
    this.weights = weights;
    this.matchRule = matchRule;
    this.idField = idField;
    this.blocking = List.copyOf(blocking);
    this.comparisons = List.copyOf(comparisons);
    this.threshold = threshold;
    this.maxBlockSize = maxBlockSize;
    this.iterations = iterations;
  }

  /** Resolves records identified by {@code idField}. */
  public static ResolveIdentities of(String idField) {
    return new ResolveIdentities(
        idField, List.of(), List.of(), 0.9, DEFAULT_MAX_BLOCK, 50, null, null);
  }

  public ResolveIdentities withBlockingKeys(BlockingKey... keys) {
    return new ResolveIdentities(
        idField,
        List.of(keys),
        comparisons,
        threshold,
        maxBlockSize,
        iterations,
        matchRule,
        weights);
  }

  public ResolveIdentities withComparisons(Comparison... fields) {
    return new ResolveIdentities(
        idField,
        blocking,
        List.of(fields),
        threshold,
        maxBlockSize,
        iterations,
        matchRule,
        weights);
  }

  /** The match probability at or above which a pair is a match. */
  public ResolveIdentities withThreshold(double probability) {
    if (probability <= 0 || probability >= 1) {
      throw new IllegalArgumentException("threshold must be between 0 and 1, got " + probability);
    }
    return new ResolveIdentities(
        idField, blocking, comparisons, probability, maxBlockSize, iterations, matchRule, weights);
  }

  public ResolveIdentities withMaxBlockSize(int records) {
    return new ResolveIdentities(
        idField, blocking, comparisons, threshold, records, iterations, matchRule, weights);
  }

  /**
   * Matches pairs by a declarative rule instead of the Fellegi-Sunter model: an {@link Expression}
   * over the similarity of each compared field ({@link Comparison#similarity}), e.g. {@code email =
   * 1 or (surname >= 0.92 and postcode = 1)}. A field with an empty value on either side is null,
   * so comparisons with it are false.
   */
  public ResolveIdentities withMatchRule(String expression) {
    return new ResolveIdentities(
        idField, blocking, comparisons, threshold, maxBlockSize, iterations, expression, weights);
  }

  /** Scores pairs with these weights instead of estimating them from the candidate pairs. */
  public ResolveIdentities withWeights(FellegiSunter model) {
    return new ResolveIdentities(
        idField, blocking, comparisons, threshold, maxBlockSize, iterations, matchRule, model);
  }

  /** The row a match rule is evaluated on: one decimal similarity per compared field. */
  public static Schema similaritySchema(List<Comparison> comparisons) {
    Schema.Builder schema = Schema.builder();
    for (Comparison comparison : comparisons) {
      if (!schema.build().hasField(comparison.field())) {
        schema.addNullableField(comparison.field(), Schema.FieldType.DECIMAL);
      }
    }
    return schema.build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("id", idField));
    builder.add(DisplayData.item("blocking", blocking.toString()));
    builder.add(DisplayData.item("comparisons", comparisons.size()));
    if (matchRule != null) {
      builder.add(DisplayData.item("matchRule", matchRule));
    } else {
      builder.add(DisplayData.item("threshold", threshold));
      builder.add(
          DisplayData.item(
              "weights",
              weights != null
                  ? "given"
                  : "estimated from each run's records (give m and u for the same scoring every"
                      + " run)"));
    }
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> records) {
    if (blocking.isEmpty() || comparisons.isEmpty()) {
      throw new IllegalArgumentException("ResolveIdentities needs blocking keys and comparisons");
    }
    if (matchRule != null) {
      Expression rule = Expression.parse(matchRule, similaritySchema(comparisons));
      PCollection<KV<String, String>> ruleMatches =
          records
              .apply("Block", ParDo.of(new BlockFn(idField, blocking)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), records.getCoder()))
              .apply("GroupBlocks", GroupByKey.create())
              .apply("ApplyRule", ParDo.of(new RuleFn(idField, comparisons, maxBlockSize, rule)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
              .apply("OncePerPair", Distinct.create());
      return cluster(records, ruleMatches);
    }
    // Candidate pairs with their patterns, once per pair however many blocks they share.
    PCollection<KV<String, String>> pairs =
        records
            .apply("Block", ParDo.of(new BlockFn(idField, blocking)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), records.getCoder()))
            .apply("GroupBlocks", GroupByKey.create())
            .apply("ComparePairs", ParDo.of(new CompareFn(idField, comparisons, maxBlockSize)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
            .apply("OncePerPair", Distinct.create());
    PCollection<FellegiSunter> fitted =
        weights != null
            ? records
                .getPipeline()
                .apply(
                    "GivenWeights",
                    Create.of(weights).withCoder(SerializableCoder.of(FellegiSunter.class)))
            : pairs
                .apply("Patterns", Values.create())
                .apply("CountPatterns", Count.perElement())
                .apply("Estimate", Combine.globally(new EstimateFn(comparisons, iterations)));
    PCollectionView<FellegiSunter> model = fitted.apply("Model", View.asSingleton());
    PCollection<KV<String, String>> matches =
        pairs
            .apply("Score", ParDo.of(new ScoreFn(model, threshold)).withSideInputs(model))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()));
    return cluster(records, matches);
  }

  /** Rounds of label propagation before the remaining edges are joined on one worker. */
  static final int CLUSTER_ROUNDS = 4;

  private PCollection<Row> cluster(
      PCollection<Row> records, PCollection<KV<String, String>> matches) {
    KvCoder<String, String> pair = KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
    PCollection<KV<String, String>> components =
        matches
            .apply(
                "MatchedPairs",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                    .via((KV<String, String> m) -> KV.of(m.getKey(), other(m.getValue()))))
            .setCoder(pair)
            .apply("ConnectedComponents", new ConnectedComponents(CLUSTER_ROUNDS));
    PCollection<KV<String, Double>> scores =
        matches
            .apply("Scores", ParDo.of(new ScoresFn()))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), DoubleCoder.of()))
            .apply("BestScore", Combine.perKey(Max.ofDoubles()));
    PCollection<KV<String, String>> ids =
        records
            .apply(
                "Ids",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                    .via(
                        (Row r) ->
                            KV.of(
                                String.valueOf(r.<Object>getValue(idField)),
                                String.valueOf(r.<Object>getValue(idField)))))
            .setCoder(pair);
    TupleTag<String> self = new TupleTag<>("self");
    TupleTag<String> component = new TupleTag<>("component");
    TupleTag<Double> score = new TupleTag<>("score");
    return KeyedPCollectionTuple.of(self, ids)
        .and(component, components)
        .and(score, scores)
        .apply("JoinClusters", CoGroupByKey.create())
        .apply("Clusters", ParDo.of(new ClusterRowFn(self, component, score)))
        .setRowSchema(CLUSTERS);
  }

  /** Both records of a scored match, with its score. */
  private static final class ScoresFn extends DoFn<KV<String, String>, KV<String, Double>> {
    @ProcessElement
    public void process(@Element KV<String, String> match, OutputReceiver<KV<String, Double>> out) {
      int at = match.getValue().indexOf(SCORE);
      if (at >= 0 && at + 1 < match.getValue().length()) {
        double value = Double.parseDouble(match.getValue().substring(at + 1));
        out.output(KV.of(match.getKey(), value));
        out.output(KV.of(other(match.getValue()), value));
      }
    }
  }

  /** One row per record: its cluster (its own id when it matched nothing) and best score. */
  private static final class ClusterRowFn extends DoFn<KV<String, CoGbkResult>, Row> {
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
          Row.withSchema(CLUSTERS)
              .addValues(
                  id,
                  record.getValue().getOnly(component, id),
                  record.getValue().getOnly(score, null))
              .build());
    }
  }

  /** Pairs of each block that satisfy the match rule, once per pair and block. */
  private static final class RuleFn extends DoFn<KV<String, Iterable<Row>>, KV<String, String>> {
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
        schema = similaritySchema(comparisons);
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
                    text(rows.get(i), comparison.field()), text(rows.get(j), comparison.field()));
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
                    ? KV.of(ida, idb + SCORE + "1.0")
                    : KV.of(idb, ida + SCORE + "1.0"));
          }
        }
      }
    }
  }

  private static final class BlockFn extends DoFn<Row, KV<String, Row>> {
    private final String idField;
    private final List<BlockingKey> blocking;

    BlockFn(String idField, List<BlockingKey> blocking) {
      this.idField = idField;
      this.blocking = blocking;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<KV<String, Row>> out) {
      for (BlockingKey key : blocking) {
        String value = key.value(field -> text(row, field));
        if (value != null) {
          out.output(KV.of(value, row));
        }
      }
    }
  }

  static String text(Row row, String field) {
    Object value = row.getValue(field);
    return value == null ? null : value.toString().strip().toLowerCase(Locale.ROOT);
  }

  private static final class CompareFn extends DoFn<KV<String, Iterable<Row>>, KV<String, String>> {
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
                .append(comparison.level(text(a, comparison.field()), text(b, comparison.field())));
          }
          candidates.inc();
          out.output(KV.of(ida + "\u0001" + idb, pattern.toString()));
        }
      }
    }
  }

  static int[] levels(String pattern) {
    String[] parts = pattern.split(",");
    int[] levels = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      levels[i] = Integer.parseInt(parts[i]);
    }
    return levels;
  }

  /** Gathers pattern counts and fits the model once, on one worker (patterns are few). */
  private static final class EstimateFn
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
      acc.forEach((k, v) -> patterns.put(Arrays.stream(levels(k)).boxed().toList(), v));
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

  private static final class ScoreFn extends DoFn<KV<String, String>, KV<String, String>> {
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
      double probability = context.sideInput(model).probability(levels(pair.getValue()));
      if (probability >= threshold) {
        String[] ids = pair.getKey().split("\u0001");
        matched.inc();
        context.output(KV.of(ids[0], ids[1] + SCORE + probability));
      }
    }
  }

  /** Separates the other end of an edge from the edge's match score. */
  static final String SCORE = "\u0001";

  private static String other(String value) {
    int at = value.indexOf(SCORE);
    return at < 0 ? value : value.substring(0, at);
  }
}
