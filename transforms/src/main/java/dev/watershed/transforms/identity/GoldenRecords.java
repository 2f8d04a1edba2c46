package dev.watershed.transforms.identity;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Turns clusters of a model's records into golden records with ids that stay stable across runs.
 *
 * <p>Golden ids: a cluster keeps the golden id its records had in the previous crosswalk; when a
 * cluster now holds records of several earlier golden ids, the oldest (earliest {@code first_seen},
 * then smallest) survives and the others are recorded in {@link #MERGES} as merged into it; a
 * cluster with no earlier id gets {@code g-<its smallest record key>}. When records moved between
 * clusters or a cluster split, larger clusters choose first, each the free id most of its records
 * had. Ids are assigned in parallel: clusters whose earlier ids are all theirs alone (unchanged,
 * new or merged) decide by themselves; only clusters sharing an earlier id are decided together, on
 * one worker.
 *
 * <p>Survivorship, per field: {@code most_recent} (the newest record by the order field with a
 * value), {@code most_frequent}, {@code non_null_first} (the first record with a value, in source
 * priority then key order) or {@code source_priority} (the same, by the source priority list only).
 * The golden row records in {@code value_sources} (JSON) which source each value came from.
 *
 * <p>Outputs: {@link #CROSSWALK} rows (source, source_id, golden_id, matched_by, first_seen,
 * last_seen), {@link #GOLDEN} rows of {@link #goldenModel} and {@link #MERGES} rows.
 */
public final class GoldenRecords extends PTransform<PCollection<Row>, PCollectionTuple> {
  public static final TupleTag<Row> CROSSWALK = new TupleTag<>("crosswalk");
  public static final TupleTag<Row> GOLDEN = new TupleTag<>("golden");
  public static final TupleTag<Row> MERGES = new TupleTag<>("merges");

  private final CanonicalModel model;
  private final PCollection<Row> clusters;
  private final PCollection<KV<String, String>> previous;
  private final Map<String, String> rules;
  private final String defaultRule;
  private final String orderBy;
  private final List<String> sourcePriority;
  private final Instant now;
  private final String matchedBy;

  private GoldenRecords(
      CanonicalModel model,
      PCollection<Row> clusters,
      PCollection<KV<String, String>> previous,
      Map<String, String> rules,
      String defaultRule,
      String orderBy,
      List<String> sourcePriority,
      Instant now,
      String matchedBy) {
    this.matchedBy = matchedBy;
    this.model = model;
    this.clusters = clusters;
    this.previous = previous;
    this.rules = Map.copyOf(rules);
    this.defaultRule = defaultRule;
    this.orderBy = orderBy;
    this.sourcePriority = List.copyOf(sourcePriority);
    this.now = now;
  }

  /**
   * Golden records of {@code model} from its rows, their {@link ResolveIdentities#CLUSTERS}, and
   * the previous crosswalk as {@code KV(source_id, golden_id|first_seen)} (empty on a first run).
   */
  public static GoldenRecords of(
      CanonicalModel model, PCollection<Row> clusters, PCollection<KV<String, String>> previous) {
    return new GoldenRecords(
        model,
        clusters,
        previous,
        Map.of(),
        "non_null_first",
        null,
        List.of(),
        Instant.EPOCH,
        "fellegi_sunter");
  }

  public GoldenRecords withSurvivorship(
      Map<String, String> perField, String fallback, String orderField, List<String> priority) {
    return new GoldenRecords(
        model, clusters, previous, perField, fallback, orderField, priority, now, matchedBy);
  }

  /** What the crosswalk says matched a record that shares its cluster, e.g. {@code rule}. */
  public GoldenRecords withMatchedBy(String how) {
    return new GoldenRecords(
        model, clusters, previous, rules, defaultRule, orderBy, sourcePriority, now, how);
  }

  /** The run's time, written as first_seen and last_seen. */
  public GoldenRecords withClock(Instant instant) {
    return new GoldenRecords(
        model, clusters, previous, rules, defaultRule, orderBy, sourcePriority, instant, matchedBy);
  }

  /** The crosswalk's model, keyed by source_id (model keys are unique across sources). */
  public static CanonicalModel crosswalkModel(CanonicalModel model) {
    return CanonicalModel.builder(model.name() + "_crosswalk")
        .field("source", "string")
        .field("source_id", "string")
        .field("golden_id", "string")
        .field("match_score", "decimal(7,6)")
        .field("matched_by", "string")
        .field("first_seen", "timestamp")
        .field("last_seen", "timestamp")
        .key("source_id")
        .build();
  }

  /** The golden table's model: golden_id, the model's fields, value_sources, records. */
  public static CanonicalModel goldenModel(CanonicalModel model) {
    CanonicalModel.Builder builder =
        CanonicalModel.builder(model.name() + "_golden").field("golden_id", "string");
    for (Schema.Field field : model.dataFields()) {
      builder.field(field.getName(), ModelTypes.describe(field));
    }
    return builder
        .field("value_sources", "string")
        .field("records", "long")
        .key("golden_id")
        .build();
  }

  /** Golden ids merged into another: golden_id, merged_into, merged_at. */
  public static CanonicalModel mergesModel(CanonicalModel model) {
    return CanonicalModel.builder(model.name() + "_golden_merges")
        .field("golden_id", "string")
        .field("merged_into", "string")
        .field("merged_at", "timestamp")
        .key("golden_id")
        .build();
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("model", model.name()));
    builder.add(DisplayData.item("matchedBy", matchedBy));
    builder.addIfNotNull(DisplayData.item("orderBy", orderBy));
    builder.add(DisplayData.item("survivorship", new TreeMap<>(rules).toString()));
  }

  @Override
  public PCollectionTuple expand(PCollection<Row> rows) {
    Schema member =
        Schema.builder()
            .addStringField("record_id")
            .addNullableField("previous", Schema.FieldType.STRING)
            .addNullableField("match_score", Schema.FieldType.DOUBLE)
            .addField("record", Schema.FieldType.row(model.schema()))
            .build();
    TupleTag<String> clusterTag = new TupleTag<>("cluster");
    TupleTag<Row> rowTag = new TupleTag<>("row");
    TupleTag<String> previousTag = new TupleTag<>("previous");
    List<String> key = model.key();
    PCollection<KV<String, Row>> byRecord =
        rows.apply(
                "RowsByKey",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.rows()))
                    .via((Row r) -> KV.of(CanonicalModel.keyText(r, key), r)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), rows.getCoder()));
    PCollection<KV<String, String>> clusterOf =
        clusters.apply(
            "ClusterByRecord",
            MapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                .via(
                    (Row c) ->
                        KV.of(
                            c.getString("record_id"),
                            c.getString("cluster_id")
                                + ResolveIdentities.SCORE
                                + (c.getDouble("match_score") == null
                                    ? ""
                                    : c.getDouble("match_score")))));
    PCollection<KV<String, Row>> members =
        KeyedPCollectionTuple.of(clusterTag, clusterOf)
            .and(rowTag, byRecord)
            .and(previousTag, previous)
            .apply("JoinRecords", CoGroupByKey.create())
            .apply(
                "Members",
                ParDo.of(new Survivorship.MemberFn(member, clusterTag, rowTag, previousTag)))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), RowCoder.of(member)));
    CanonicalModel crosswalk = crosswalkModel(model);
    CanonicalModel golden = goldenModel(model);
    CanonicalModel merges = mergesModel(model);
    // Golden ids in parallel, no id to two clusters. A cluster whose earlier ids all have every
    // record in it (unchanged, new, or clusters that merged) decides alone; clusters sharing an
    // earlier id with another cluster (records moved, a cluster split) are decided together.
    KvCoder<String, String> strings = KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
    TupleTag<KV<String, String>> contested = new TupleTag<>("contested");
    TupleTag<Row> retired = new TupleTag<>("retired");
    PCollectionTuple local =
        members
            .apply(
                "EarlierIds",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                    .via(
                        (KV<String, Row> m) ->
                            KV.of(
                                m.getKey(),
                                String.join(
                                    PART,
                                    m.getValue().getString("previous") == null
                                        ? ""
                                        : m.getValue().getString("previous"),
                                    m.getValue().getRow("record").getString(RawRecords.SOURCE),
                                    m.getValue().getString("record_id")))))
            .setCoder(strings)
            .apply("EarlierIdsByCluster", GroupByKey.create())
            .apply("Votes", ParDo.of(new Survivorship.VotesFn(sourcePriority)))
            .setCoder(strings)
            .apply("VotesById", GroupByKey.create())
            .apply("Shares", ParDo.of(new Survivorship.SharesFn()))
            .setCoder(strings)
            .apply("SharesByCluster", GroupByKey.create())
            .apply(
                "DecideAlone",
                ParDo.of(new Survivorship.DecideAloneFn(merges, now, contested, retired))
                    .withOutputTags(DECIDED, TupleTagList.of(contested).and(retired)));
    PCollectionTuple together =
        local
            .get(contested)
            .setCoder(strings)
            .apply("Contested", GroupByKey.create())
            .apply(
                "DecideTogether",
                ParDo.of(new Survivorship.DecideTogetherFn(merges, now, retired))
                    .withOutputTags(DECIDED, TupleTagList.of(retired)));
    PCollection<KV<String, String>> goldenIds =
        PCollectionList.of(local.get(DECIDED).setCoder(strings))
            .and(together.get(DECIDED).setCoder(strings))
            .apply("GoldenIds", Flatten.pCollections());
    PCollection<Row> mergedIds =
        PCollectionList.of(local.get(retired).setRowSchema(merges.schema()))
            .and(together.get(retired).setRowSchema(merges.schema()))
            .apply("MergedIds", Flatten.pCollections())
            .setRowSchema(merges.schema());
    TupleTag<Row> memberTag = new TupleTag<>("member");
    TupleTag<String> goldenTag = new TupleTag<>("goldenId");
    PCollectionTuple out =
        KeyedPCollectionTuple.of(memberTag, members)
            .and(goldenTag, goldenIds)
            .apply("ByCluster", CoGroupByKey.create())
            .apply(
                "Golden",
                ParDo.of(
                        new Survivorship.GoldenFn(
                            model,
                            crosswalk,
                            golden,
                            memberTag,
                            goldenTag,
                            rules,
                            defaultRule,
                            orderBy,
                            sourcePriority,
                            now,
                            matchedBy))
                    .withOutputTags(GOLDEN, TupleTagList.of(CROSSWALK)));
    out.get(CROSSWALK).setRowSchema(crosswalk.schema());
    out.get(GOLDEN).setRowSchema(golden.schema());
    return PCollectionTuple.of(GOLDEN, out.get(GOLDEN))
        .and(CROSSWALK, out.get(CROSSWALK))
        .and(MERGES, mergedIds);
  }

  /**
   * Each cluster's golden id, from {@link Survivorship.DecideAloneFn} and {@link
   * Survivorship.DecideTogetherFn}.
   */
  static final TupleTag<KV<String, String>> DECIDED = new TupleTag<>("decided");

  /** Separates the parts of a vote or a share. */
  static final String PART = "\u0001";

  /**
   * The id a new cluster gets: {@code g-<key>} of its record from the first source in the priority
   * list (then the smallest key), e.g. {@code g-crm-17}.
   */
  static String freshName(List<String[]> sourceAndKey, List<String> sourcePriority) {
    Comparator<String[]> first =
        Comparator.comparingInt(
                (String[] r) -> {
                  int i = sourcePriority.indexOf(r[0]);
                  return i < 0 ? Integer.MAX_VALUE : i;
                })
            .thenComparing(r -> r[1]);
    return "g-" + sourceAndKey.stream().min(first).orElseThrow()[1];
  }

  static final Comparator<Survivorship.Share> OLDEST =
      Comparator.comparing(Survivorship.Share::firstSeen).thenComparing(Survivorship.Share::id);

  static Row merge(CanonicalModel merges, String id, String into, Instant now) {
    return Row.withSchema(merges.schema())
        .addValues(id, into, now, "identity", "merge " + id)
        .build();
  }
}
