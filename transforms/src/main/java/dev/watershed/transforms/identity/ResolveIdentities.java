package dev.watershed.transforms.identity;

import dev.watershed.transforms.quality.Expression;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.Count;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.Distinct;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.Max;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.display.DisplayData;
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
              .apply("Block", ParDo.of(new Matching.BlockFn(idField, blocking)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), records.getCoder()))
              .apply("GroupBlocks", GroupByKey.create())
              .apply(
                  "ApplyRule",
                  ParDo.of(new Matching.RuleFn(idField, comparisons, maxBlockSize, rule)))
              .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
              .apply("OncePerPair", Distinct.create());
      return cluster(records, ruleMatches);
    }
    // Candidate pairs with their patterns, once per pair however many blocks they share.
    PCollection<KV<String, String>> pairs =
        records
            .apply("Block", ParDo.of(new Matching.BlockFn(idField, blocking)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), records.getCoder()))
            .apply("GroupBlocks", GroupByKey.create())
            .apply(
                "ComparePairs",
                ParDo.of(new Matching.CompareFn(idField, comparisons, maxBlockSize)))
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
                .apply(
                    "Estimate", Combine.globally(new Matching.EstimateFn(comparisons, iterations)));
    PCollectionView<FellegiSunter> model = fitted.apply("Model", View.asSingleton());
    PCollection<KV<String, String>> matches =
        pairs
            .apply("Score", ParDo.of(new Matching.ScoreFn(model, threshold)).withSideInputs(model))
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
            .apply("Scores", ParDo.of(new Matching.ScoresFn()))
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
        .apply("Clusters", ParDo.of(new Matching.ClusterRowFn(self, component, score)))
        .setRowSchema(CLUSTERS);
  }

  static String text(Row row, String field) {
    Object value = row.getValue(field);
    return value == null ? null : value.toString().strip().toLowerCase(Locale.ROOT);
  }

  static int[] levels(String pattern) {
    String[] parts = pattern.split(",");
    int[] levels = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      levels[i] = Integer.parseInt(parts[i]);
    }
    return levels;
  }

  /** Separates the other end of an edge from the edge's match score. */
  static final String SCORE = "\u0001";

  static String other(String value) {
    int at = value.indexOf(SCORE);
    return at < 0 ? value : value.substring(0, at);
  }
}
