package dev.watershed.transforms.identity;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.watershed.transforms.dedupe.Dedupe;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.PCollectionView;
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
 * cluster with no earlier id gets {@code g-<its smallest record key>}.
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
      builder.field(field.getName(), dev.watershed.transforms.model.ModelTypes.describe(field));
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
                    .via((Row r) -> KV.of(Dedupe.keyOf(r, key), r)))
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
            .setCoder(
                KvCoder.of(StringUtf8Coder.of(), org.apache.beam.sdk.coders.RowCoder.of(member)));
    CanonicalModel crosswalk = crosswalkModel(model);
    CanonicalModel golden = goldenModel(model);
    CanonicalModel merges = mergesModel(model);
    // Golden ids are assigned for all clusters at once, so that no id is claimed twice.
    TupleTag<KV<String, String>> assigned = new TupleTag<>("assigned");
    PCollectionTuple assignment =
        members
            .apply(
                "AllMembers",
                MapElements.into(
                        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptors.strings()))
                    .via(
                        (KV<String, Row> m) ->
                            KV.of(
                                "",
                                m.getKey()
                                    + "\u0001"
                                    + m.getValue().getString("record_id")
                                    + "\u0001"
                                    + (m.getValue().getString("previous") == null
                                        ? ""
                                        : m.getValue().getString("previous")))))
            .apply("OneAssignment", GroupByKey.create())
            .apply(
                "AssignGoldenIds",
                ParDo.of(new AssignFn(merges, now))
                    .withOutputTags(assigned, TupleTagList.of(MERGES)));
    PCollectionView<Map<String, String>> goldenIds =
        assignment
            .get(assigned)
            .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
            .apply("GoldenIdOfCluster", View.asMap());
    PCollectionTuple out =
        members
            .apply("ByCluster", GroupByKey.create())
            .apply(
                "Golden",
                ParDo.of(
                        new GoldenFn(
                            model,
                            crosswalk,
                            golden,
                            goldenIds,
                            rules,
                            defaultRule,
                            orderBy,
                            sourcePriority,
                            now,
                            matchedBy))
                    .withSideInputs(goldenIds)
                    .withOutputTags(GOLDEN, TupleTagList.of(CROSSWALK)));
    out.get(CROSSWALK).setRowSchema(crosswalk.schema());
    out.get(GOLDEN).setRowSchema(golden.schema());
    assignment.get(MERGES).setRowSchema(merges.schema());
    return PCollectionTuple.of(GOLDEN, out.get(GOLDEN))
        .and(CROSSWALK, out.get(CROSSWALK))
        .and(MERGES, assignment.get(MERGES));
  }

  /**
   * Assigns golden ids to all clusters, larger clusters first, no id to two clusters. When clusters
   * merged (every record of an earlier id is in this cluster), the oldest of their ids survives;
   * when records moved or a cluster split, the cluster keeps the id most of its records had. A
   * cluster with no earlier id left gets {@code g-<its smallest record key>}. An earlier id that no
   * cluster keeps is recorded as merged into the cluster holding most of its records.
   */
  private static final class AssignFn
      extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    private final CanonicalModel merges;
    private final Instant now;

    AssignFn(CanonicalModel merges, Instant now) {
      this.merges = merges;
      this.now = now;
    }

    @ProcessElement
    public void process(@Element KV<String, Iterable<String>> all, MultiOutputReceiver out) {
      Map<String, Map<String, Integer>> votes = new java.util.TreeMap<>();
      Map<String, Integer> sizes = new HashMap<>();
      Map<String, Instant> firstSeen = new HashMap<>();
      for (String member : all.getValue()) {
        String[] parts = member.split("\u0001", -1);
        String cluster = parts[0];
        sizes.merge(cluster, 1, Integer::sum);
        votes.computeIfAbsent(cluster, c -> new HashMap<>());
        if (!parts[2].isEmpty()) {
          String[] previous = parts[2].split("\\|");
          votes.get(cluster).merge(previous[0], 1, Integer::sum);
          firstSeen.merge(
              previous[0], ModelTypes.instant(previous[1]), (a, b) -> a.isBefore(b) ? a : b);
        }
      }
      Map<String, Integer> totals = new HashMap<>();
      votes.values().forEach(v -> v.forEach((id, n) -> totals.merge(id, n, Integer::sum)));
      List<String> clusters = new ArrayList<>(votes.keySet());
      clusters.sort(Comparator.comparing((String c) -> -sizes.get(c)).thenComparing(c -> c));
      Map<String, String> taken = new HashMap<>();
      for (String cluster : clusters) {
        Map<String, Integer> here = votes.get(cluster);
        List<String> free = new ArrayList<>();
        for (String id : here.keySet()) {
          if (!taken.containsKey(id)) {
            free.add(id);
          }
        }
        // Ids all of whose records are in this cluster: clusters that merged. The oldest survives.
        List<String> whole =
            free.stream().filter(id -> here.get(id).equals(totals.get(id))).toList();
        Comparator<String> oldest =
            Comparator.comparing((String id) -> firstSeen.get(id)).thenComparing(id -> id);
        String best =
            !whole.isEmpty()
                ? whole.stream().min(oldest).orElseThrow()
                // Otherwise records moved or a cluster split: the id most records had stays.
                : free.stream()
                    .min(Comparator.comparing((String id) -> -here.get(id)).thenComparing(oldest))
                    .orElse(null);
        String golden = best != null ? best : "g-" + cluster;
        taken.put(golden, cluster);
        out.get(new TupleTag<KV<String, String>>("assigned")).output(KV.of(cluster, golden));
      }
      for (String id : firstSeen.keySet()) {
        if (taken.containsKey(id)) {
          continue;
        }
        String into = null;
        int most = 0;
        for (String cluster : clusters) {
          int count = votes.get(cluster).getOrDefault(id, 0);
          if (count > most) {
            most = count;
            into = cluster;
          }
        }
        String survivor = null;
        for (Map.Entry<String, String> t : taken.entrySet()) {
          if (t.getValue().equals(into)) {
            survivor = t.getKey();
          }
        }
        out.get(MERGES)
            .output(
                Row.withSchema(merges.schema())
                    .addValues(id, survivor, now, "identity", "merge " + id)
                    .build());
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

  private static final class GoldenFn extends DoFn<KV<String, Iterable<Row>>, Row> {
    private final CanonicalModel model;
    private final CanonicalModel crosswalk;
    private final CanonicalModel golden;
    private final PCollectionView<Map<String, String>> goldenIds;
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
        PCollectionView<Map<String, String>> goldenIds,
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
      this.goldenIds = goldenIds;
      this.rules = rules;
      this.defaultRule = defaultRule;
      this.orderBy = orderBy;
      this.sourcePriority = sourcePriority;
      this.now = now;
    }

    @ProcessElement
    public void process(ProcessContext context, MultiOutputReceiver out) {
      KV<String, Iterable<Row>> cluster = context.element();
      List<Row> members = new ArrayList<>();
      cluster.getValue().forEach(members::add);
      members.sort(Comparator.comparing((Row m) -> m.getString("record_id")));
      String goldenId = context.sideInput(goldenIds).get(cluster.getKey());
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
                            : java.math.BigDecimal.valueOf(m.getDouble("match_score"))
                                .setScale(6, java.math.RoundingMode.HALF_UP),
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
              .thenComparing(r -> Dedupe.keyOf(r, model.key()));
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
