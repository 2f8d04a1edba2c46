package dev.watershed.transforms.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
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
            .apply("Members", ParDo.of(new MemberFn(member, clusterTag, rowTag, previousTag)))
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
            .apply("Votes", ParDo.of(new VotesFn(sourcePriority)))
            .setCoder(strings)
            .apply("VotesById", GroupByKey.create())
            .apply("Shares", ParDo.of(new SharesFn()))
            .setCoder(strings)
            .apply("SharesByCluster", GroupByKey.create())
            .apply(
                "DecideAlone",
                ParDo.of(new DecideAloneFn(merges, now, contested, retired))
                    .withOutputTags(DECIDED, TupleTagList.of(contested).and(retired)));
    PCollectionTuple together =
        local
            .get(contested)
            .setCoder(strings)
            .apply("Contested", GroupByKey.create())
            .apply(
                "DecideTogether",
                ParDo.of(new DecideTogetherFn(merges, now, retired))
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
                        new GoldenFn(
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

  /** Each cluster's golden id, from {@link DecideAloneFn} and {@link DecideTogetherFn}. */
  private static final TupleTag<KV<String, String>> DECIDED = new TupleTag<>("decided");

  /** Separates the parts of a vote or a share. */
  private static final String PART = "\u0001";

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

  /**
   * For one cluster, a vote for each earlier golden id its records had: {@code KV(earlier id,
   * cluster|cluster size|records here|earliest first_seen here|the cluster's fresh name)}.
   */
  private static final class VotesFn
      extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    private final List<String> sourcePriority;

    VotesFn(List<String> sourcePriority) {
      this.sourcePriority = sourcePriority;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Iterable<String>> cluster, OutputReceiver<KV<String, String>> out) {
      int size = 0;
      Map<String, Integer> here = new TreeMap<>();
      Map<String, Instant> firstSeen = new HashMap<>();
      List<String[]> records = new ArrayList<>();
      for (String member : cluster.getValue()) {
        String[] fields = member.split(PART, -1);
        String previous = fields[0];
        records.add(new String[] {fields[1], fields[2]});
        size++;
        if (!previous.isEmpty()) {
          String[] parts = previous.split("\\|");
          here.merge(parts[0], 1, Integer::sum);
          firstSeen.merge(parts[0], ModelTypes.instant(parts[1]), (a, b) -> a.isBefore(b) ? a : b);
        }
      }
      for (Map.Entry<String, Integer> id : here.entrySet()) {
        out.output(
            KV.of(
                id.getKey(),
                String.join(
                    PART,
                    cluster.getKey(),
                    String.valueOf(size),
                    String.valueOf(id.getValue()),
                    firstSeen.get(id.getKey()).toString(),
                    freshName(records, sourcePriority))));
      }
    }
  }

  /**
   * For one earlier golden id, its share in each cluster holding its records: {@code KV(cluster,
   * cluster size|id|records here|all its records|first_seen|the cluster's fresh name)}.
   */
  private static final class SharesFn
      extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    @ProcessElement
    public void process(
        @Element KV<String, Iterable<String>> votes, OutputReceiver<KV<String, String>> out) {
      List<String[]> all = new ArrayList<>();
      int total = 0;
      Instant firstSeen = null;
      for (String vote : votes.getValue()) {
        String[] v = vote.split(PART);
        all.add(v);
        total += Integer.parseInt(v[2]);
        Instant seen = Instant.parse(v[3]);
        firstSeen = firstSeen == null || seen.isBefore(firstSeen) ? seen : firstSeen;
      }
      for (String[] v : all) {
        out.output(
            KV.of(
                v[0],
                String.join(
                    PART,
                    v[1],
                    votes.getKey(),
                    v[2],
                    String.valueOf(total),
                    firstSeen.toString(),
                    v[4])));
      }
    }
  }

  /** One earlier id's share of a cluster. */
  private record Share(
      int clusterSize, String id, int here, int total, Instant firstSeen, String freshName) {
    static Share parse(String text) {
      String[] v = text.split(PART);
      return new Share(
          Integer.parseInt(v[0]),
          v[1],
          Integer.parseInt(v[2]),
          Integer.parseInt(v[3]),
          Instant.parse(v[4]),
          v[5]);
    }

    boolean whole() {
      return here == total;
    }

    String text() {
      return String.join(
          PART,
          String.valueOf(clusterSize),
          id,
          String.valueOf(here),
          String.valueOf(total),
          firstSeen.toString(),
          freshName);
    }
  }

  private static final Comparator<Share> OLDEST =
      Comparator.comparing(Share::firstSeen).thenComparing(Share::id);

  private static Row merge(CanonicalModel merges, String id, String into, Instant now) {
    return Row.withSchema(merges.schema())
        .addValues(id, into, now, "identity", "merge " + id)
        .build();
  }

  /**
   * A cluster all of whose earlier ids are whole here keeps the oldest of them (the others merged
   * into it); a cluster with no earlier id gets a fresh id later ({@link #freshName}). Any other
   * cluster goes to {@link DecideTogetherFn}.
   */
  private static final class DecideAloneFn
      extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    private final CanonicalModel merges;
    private final Instant now;
    private final TupleTag<KV<String, String>> contested;
    private final TupleTag<Row> retired;

    DecideAloneFn(
        CanonicalModel merges,
        Instant now,
        TupleTag<KV<String, String>> contested,
        TupleTag<Row> retired) {
      this.merges = merges;
      this.now = now;
      this.contested = contested;
      this.retired = retired;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<String>> cluster, MultiOutputReceiver out) {
      List<Share> shares = new ArrayList<>();
      cluster.getValue().forEach(text -> shares.add(Share.parse(text)));
      if (!shares.stream().allMatch(Share::whole)) {
        for (Share share : shares) {
          out.get(contested).output(KV.of("", cluster.getKey() + PART + share.text()));
        }
        return;
      }
      String kept = shares.stream().min(OLDEST).orElseThrow().id();
      out.get(DECIDED).output(KV.of(cluster.getKey(), kept));
      for (Share share : shares) {
        if (!share.id().equals(kept)) {
          out.get(retired).output(merge(merges, share.id(), kept, now));
        }
      }
    }
  }

  /**
   * Decides the clusters sharing earlier ids, larger clusters first: each takes, of the ids not yet
   * taken, a whole one (the oldest) or else the one most of its records had (then the oldest); none
   * left: a fresh id ({@link #freshName}). An earlier id no cluster took is merged into the cluster
   * holding most of its records. These clusters are few: those whose records moved or that split.
   */
  private static final class DecideTogetherFn
      extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    private final CanonicalModel merges;
    private final Instant now;
    private final TupleTag<Row> retired;

    DecideTogetherFn(CanonicalModel merges, Instant now, TupleTag<Row> retired) {
      this.merges = merges;
      this.now = now;
      this.retired = retired;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<String>> all, MultiOutputReceiver out) {
      Map<String, List<Share>> byCluster = new TreeMap<>();
      for (String text : all.getValue()) {
        int at = text.indexOf(PART);
        byCluster
            .computeIfAbsent(text.substring(0, at), c -> new ArrayList<>())
            .add(Share.parse(text.substring(at + 1)));
      }
      List<String> clusters = new ArrayList<>(byCluster.keySet());
      clusters.sort(
          Comparator.comparing((String c) -> -byCluster.get(c).get(0).clusterSize())
              .thenComparing(c -> c));
      Map<String, String> takenBy = new HashMap<>();
      Map<String, String> goldenOf = new HashMap<>();
      for (String cluster : clusters) {
        List<Share> free =
            byCluster.get(cluster).stream().filter(s -> !takenBy.containsKey(s.id())).toList();
        List<Share> whole = free.stream().filter(Share::whole).toList();
        String golden =
            !whole.isEmpty()
                ? whole.stream().min(OLDEST).orElseThrow().id()
                : free.stream()
                    .min(Comparator.comparing((Share s) -> -s.here()).thenComparing(OLDEST))
                    .map(Share::id)
                    .orElseGet(() -> freshId(cluster, byCluster, takenBy));
        takenBy.put(golden, cluster);
        goldenOf.put(cluster, golden);
        out.get(DECIDED).output(KV.of(cluster, golden));
      }
      retireUntaken(clusters, byCluster, takenBy, goldenOf, out);
    }

    /**
     * The cluster's fresh name ({@link #freshName}), unless an earlier id of these clusters is
     * already called so (record {@code a} left the cluster named after it): then {@code g-a.2}.
     */
    private static String freshId(
        String cluster, Map<String, List<Share>> byCluster, Map<String, String> takenBy) {
      Set<String> used = new HashSet<>(takenBy.keySet());
      byCluster.values().forEach(shares -> shares.forEach(s -> used.add(s.id())));
      String base = byCluster.get(cluster).get(0).freshName();
      String id = base;
      for (int n = 2; used.contains(id); n++) {
        id = base + "." + n;
      }
      return id;
    }

    private void retireUntaken(
        List<String> clusters,
        Map<String, List<Share>> byCluster,
        Map<String, String> takenBy,
        Map<String, String> goldenOf,
        MultiOutputReceiver out) {
      Map<String, Share> mostRecords = new TreeMap<>();
      Map<String, String> clusterOfMost = new HashMap<>();
      for (String cluster : clusters) {
        for (Share share : byCluster.get(cluster)) {
          Share best = mostRecords.get(share.id());
          if (best == null || share.here() > best.here()) {
            mostRecords.put(share.id(), share);
            clusterOfMost.put(share.id(), cluster);
          }
        }
      }
      for (String id : mostRecords.keySet()) {
        if (!takenBy.containsKey(id)) {
          out.get(retired).output(merge(merges, id, goldenOf.get(clusterOfMost.get(id)), now));
        }
      }
    }
  }

  private static final class MemberFn extends DoFn<KV<String, CoGbkResult>, KV<String, Row>> {
    private final Schema member;
    private final TupleTag<String> clusterTag;
    private final TupleTag<Row> rowTag;
    private final TupleTag<String> previousTag;

    MemberFn(
        Schema member,
        TupleTag<String> clusterTag,
        TupleTag<Row> rowTag,
        TupleTag<String> previousTag) {
      this.member = member;
      this.clusterTag = clusterTag;
      this.rowTag = rowTag;
      this.previousTag = previousTag;
    }

    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> joined, OutputReceiver<KV<String, Row>> out) {
      String assigned = joined.getValue().getOnly(clusterTag, null);
      Row row = joined.getValue().getOnly(rowTag, null);
      if (assigned == null || row == null) {
        return; // a crosswalk entry of a record not in this run: it keeps its golden id
      }
      String[] parts = assigned.split(ResolveIdentities.SCORE, -1);
      Double score = parts.length > 1 && !parts[1].isEmpty() ? Double.valueOf(parts[1]) : null;
      String before = joined.getValue().getOnly(previousTag, null);
      out.output(
          KV.of(
              parts[0],
              Row.withSchema(member).addValues(joined.getKey(), before, score, row).build()));
    }
  }

  private static final class GoldenFn extends DoFn<KV<String, CoGbkResult>, Row> {
    private final CanonicalModel model;
    private final CanonicalModel crosswalk;
    private final CanonicalModel golden;
    private final TupleTag<Row> memberTag;
    private final TupleTag<String> goldenTag;
    private final Map<String, String> rules;
    private final String defaultRule;
    private final String orderBy;
    private final List<String> sourcePriority;
    private final Instant now;
    private final String matchedBy;

    GoldenFn(
        CanonicalModel model,
        CanonicalModel crosswalk,
        CanonicalModel golden,
        TupleTag<Row> memberTag,
        TupleTag<String> goldenTag,
        Map<String, String> rules,
        String defaultRule,
        String orderBy,
        List<String> sourcePriority,
        Instant now,
        String matchedBy) {
      this.matchedBy = matchedBy;
      this.model = model;
      this.crosswalk = crosswalk;
      this.golden = golden;
      this.memberTag = memberTag;
      this.goldenTag = goldenTag;
      this.rules = rules;
      this.defaultRule = defaultRule;
      this.orderBy = orderBy;
      this.sourcePriority = sourcePriority;
      this.now = now;
    }

    @ProcessElement
    public void process(@Element KV<String, CoGbkResult> cluster, MultiOutputReceiver out) {
      List<Row> members = new ArrayList<>();
      cluster.getValue().getAll(memberTag).forEach(members::add);
      members.sort(Comparator.comparing((Row m) -> m.getString("record_id")));
      String goldenId = cluster.getValue().getOnly(goldenTag, null);
      if (goldenId == null) {
        List<String[]> records = new ArrayList<>();
        for (Row m : members) {
          records.add(
              new String[] {
                m.getRow("record").getString(RawRecords.SOURCE), m.getString("record_id")
              });
        }
        goldenId = freshName(records, sourcePriority);
      }
      String how = members.size() > 1 ? matchedBy : "unique";
      for (Row m : members) {
        Row record = m.getRow("record");
        String before = m.getString("previous");
        Instant firstSeen = before == null ? now : ModelTypes.instant(before.split("\\|")[1]);
        out.get(CROSSWALK)
            .output(
                Row.withSchema(crosswalk.schema())
                    .addValues(
                        record.getString(RawRecords.SOURCE),
                        m.getString("record_id"),
                        goldenId,
                        m.getDouble("match_score") == null
                            ? null
                            : BigDecimal.valueOf(m.getDouble("match_score"))
                                .setScale(6, RoundingMode.HALF_UP),
                        how,
                        firstSeen,
                        now,
                        "identity",
                        "crosswalk " + m.getString("record_id"))
                    .build());
      }
      out.get(GOLDEN).output(golden(goldenId, members));
    }

    private Row golden(String goldenId, List<Row> members) {
      List<Object> values = new ArrayList<>();
      values.add(goldenId);
      ObjectNode sources = new ObjectMapper().createObjectNode();
      for (Schema.Field field : model.dataFields()) {
        Row chosen = choose(field.getName(), members);
        values.add(chosen == null ? null : chosen.getValue(field.getName()));
        if (chosen != null) {
          sources.put(field.getName(), chosen.getString(RawRecords.SOURCE));
        }
      }
      values.add(sources.toString());
      values.add((long) members.size());
      values.add("identity");
      values.add("golden " + goldenId);
      return Row.withSchema(golden.schema()).addValues(values).build();
    }

    /** The record whose value of {@code field} survives. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private Row choose(String field, List<Row> members) {
      List<Row> withValue = new ArrayList<>();
      for (Row m : members) {
        if (m.getRow("record").getValue(field) != null) {
          withValue.add(m.getRow("record"));
        }
      }
      if (withValue.isEmpty()) {
        return null;
      }
      Comparator<Row> byPriority =
          Comparator.comparingInt(
                  (Row r) -> {
                    int i = sourcePriority.indexOf(r.getString(RawRecords.SOURCE));
                    return i < 0 ? Integer.MAX_VALUE : i;
                  })
              .thenComparing(r -> CanonicalModel.keyText(r, model.key()));
      switch (rules.getOrDefault(field, defaultRule)) {
        case "most_recent":
          Comparator<Row> newest =
              Comparator.comparing(
                  (Row r) -> (Comparable) r.getValue(orderBy),
                  Comparator.nullsFirst(Comparator.naturalOrder()));
          return withValue.stream().max(newest.thenComparing(byPriority.reversed())).orElseThrow();
        case "most_frequent":
          Map<Object, Integer> counts = new HashMap<>();
          for (Row r : withValue) {
            counts.merge(r.getValue(field), 1, Integer::sum);
          }
          int top = counts.values().stream().max(Integer::compare).orElse(0);
          return withValue.stream()
              .filter(r -> counts.get(r.getValue(field)) == top)
              .min(byPriority)
              .orElseThrow();
        default:
          return withValue.stream().min(byPriority).orElseThrow();
      }
    }
  }
}
