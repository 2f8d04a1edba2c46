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
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TupleTag;

/**
 * The workers of {@link GoldenRecords}: each field's surviving value by its rule (votes and shares
 * of the members of a cluster), golden ids decided alone or together with earlier ones, and the
 * golden rows.
 */
final class Survivorship {
  private Survivorship() {}

  /**
   * For one cluster, a vote for each earlier golden id its records had: {@code KV(earlier id,
   * cluster|cluster size|records here|earliest first_seen here|the cluster's fresh name)}.
   */
  static final class VotesFn extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
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
        String[] fields = member.split(GoldenRecords.PART, -1);
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
                    GoldenRecords.PART,
                    cluster.getKey(),
                    String.valueOf(size),
                    String.valueOf(id.getValue()),
                    firstSeen.get(id.getKey()).toString(),
                    GoldenRecords.freshName(records, sourcePriority))));
      }
    }
  }

  /**
   * For one earlier golden id, its share in each cluster holding its records: {@code KV(cluster,
   * cluster size|id|records here|all its records|first_seen|the cluster's fresh name)}.
   */
  static final class SharesFn extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
    @ProcessElement
    public void process(
        @Element KV<String, Iterable<String>> votes, OutputReceiver<KV<String, String>> out) {
      List<String[]> all = new ArrayList<>();
      int total = 0;
      Instant firstSeen = null;
      for (String vote : votes.getValue()) {
        String[] v = vote.split(GoldenRecords.PART);
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
                    GoldenRecords.PART,
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
  static record Share(
      int clusterSize, String id, int here, int total, Instant firstSeen, String freshName) {
    static Share parse(String text) {
      String[] v = text.split(GoldenRecords.PART);
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
          GoldenRecords.PART,
          String.valueOf(clusterSize),
          id,
          String.valueOf(here),
          String.valueOf(total),
          firstSeen.toString(),
          freshName);
    }
  }

  /**
   * A cluster all of whose earlier ids are whole here keeps the oldest of them (the others merged
   * into it); a cluster with no earlier id gets a fresh id later ({@link #freshName}). Any other
   * cluster goes to {@link DecideTogetherFn}.
   */
  static final class DecideAloneFn extends DoFn<KV<String, Iterable<String>>, KV<String, String>> {
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
          out.get(contested)
              .output(KV.of("", cluster.getKey() + GoldenRecords.PART + share.text()));
        }
        return;
      }
      String kept = shares.stream().min(GoldenRecords.OLDEST).orElseThrow().id();
      out.get(GoldenRecords.DECIDED).output(KV.of(cluster.getKey(), kept));
      for (Share share : shares) {
        if (!share.id().equals(kept)) {
          out.get(retired).output(GoldenRecords.merge(merges, share.id(), kept, now));
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
  static final class DecideTogetherFn
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
        int at = text.indexOf(GoldenRecords.PART);
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
                ? whole.stream().min(GoldenRecords.OLDEST).orElseThrow().id()
                : free.stream()
                    .min(
                        Comparator.comparing((Share s) -> -s.here())
                            .thenComparing(GoldenRecords.OLDEST))
                    .map(Share::id)
                    .orElseGet(() -> freshId(cluster, byCluster, takenBy));
        takenBy.put(golden, cluster);
        goldenOf.put(cluster, golden);
        out.get(GoldenRecords.DECIDED).output(KV.of(cluster, golden));
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
          out.get(retired)
              .output(GoldenRecords.merge(merges, id, goldenOf.get(clusterOfMost.get(id)), now));
        }
      }
    }
  }

  static final class MemberFn extends DoFn<KV<String, CoGbkResult>, KV<String, Row>> {
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

  static final class GoldenFn extends DoFn<KV<String, CoGbkResult>, Row> {
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
        goldenId = GoldenRecords.freshName(records, sourcePriority);
      }
      String how = members.size() > 1 ? matchedBy : "unique";
      for (Row m : members) {
        Row record = m.getRow("record");
        String before = m.getString("previous");
        Instant firstSeen = before == null ? now : ModelTypes.instant(before.split("\\|")[1]);
        out.get(GoldenRecords.CROSSWALK)
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
      out.get(GoldenRecords.GOLDEN).output(golden(goldenId, members));
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
