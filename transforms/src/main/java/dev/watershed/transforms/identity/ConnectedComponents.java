package dev.watershed.transforms.identity;

import dev.watershed.transforms.metrics.RunCounters;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableBiFunction;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.join.CoGbkResult;
import org.apache.beam.sdk.transforms.join.CoGroupByKey;
import org.apache.beam.sdk.transforms.join.KeyedPCollectionTuple;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TupleTag;

/**
 * Connected components of an undirected graph given as edges {@code KV(a, b)}: each vertex and the
 * smallest vertex id of its component.
 *
 * <p>Computed in parallel by minimum-label propagation: every vertex starts with the smallest id
 * among itself and its neighbours, and each round takes the smallest label among itself and its
 * neighbours. After the rounds, the convergence check finds the edges whose two ends still disagree
 * (only in components wider than the rounds reached, such as long chains); their labels are joined
 * by union-find on one worker, which sees only those label pairs, and every vertex takes its
 * label's root. The result is exact for any graph: two vertices joined by a path end with the same
 * id, the smallest of their component.
 *
 * <p>Counter {@code identity.unconverged_edges}: edges left to the final union-find.
 */
final class ConnectedComponents
    extends PTransform<PCollection<KV<String, String>>, PCollection<KV<String, String>>> {
  private static final KvCoder<String, String> PAIR =
      KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of());
  private final int rounds;

  ConnectedComponents(int rounds) {
    this.rounds = rounds;
  }

  @Override
  public PCollection<KV<String, String>> expand(PCollection<KV<String, String>> edges) {
    PCollection<KV<String, String>> adjacency =
        edges.apply("BothWays", ParDo.of(new BothWaysFn())).setCoder(PAIR);
    PCollection<KV<String, String>> labels =
        adjacency
            .apply("StartLabels", ParDo.of(new SmallerFn()))
            .setCoder(PAIR)
            .apply("SmallestStart", Combine.perKey(min()));
    for (int round = 1; round <= rounds; round++) {
      labels = propagate(adjacency, labels, "Round" + round);
    }
    // The convergence check: edges whose ends still disagree, as pairs of labels.
    PCollection<KV<String, String>> unconverged =
        join(edges, labels, "LabelOfA", new LabelOfFirstFn())
            .setCoder(PAIR)
            .apply("LabelOfB", joinWith(labels, new DisagreeingFn()))
            .setCoder(PAIR);
    PCollection<KV<String, String>> roots =
        unconverged
            .apply("OneGraph", WithKeys.of(""))
            .setCoder(KvCoder.of(StringUtf8Coder.of(), PAIR))
            .apply("GatherUnconverged", GroupByKey.create())
            .apply("UnionFind", ParDo.of(new UnionFindFn()))
            .setCoder(PAIR);
    // Every vertex takes its label's root (a label no unconverged edge touches is its own root).
    PCollection<KV<String, String>> byLabel =
        labels.apply("ByLabel", ParDo.of(new SwapFn())).setCoder(PAIR);
    TupleTag<String> vertices = new TupleTag<>("vertices");
    TupleTag<String> root = new TupleTag<>("root");
    return KeyedPCollectionTuple.of(vertices, byLabel)
        .and(root, roots)
        .apply("JoinRoots", CoGroupByKey.create())
        .apply("FinalLabels", ParDo.of(new FinalFn(vertices, root)))
        .setCoder(PAIR);
  }

  private static SerializableBiFunction<String, String, String> min() {
    return (a, b) -> a.compareTo(b) <= 0 ? a : b;
  }

  /** One round: each vertex's label becomes the smallest of its own and its neighbours'. */
  private static PCollection<KV<String, String>> propagate(
      PCollection<KV<String, String>> adjacency,
      PCollection<KV<String, String>> labels,
      String name) {
    TupleTag<String> neighbours = new TupleTag<>("neighbours");
    TupleTag<String> label = new TupleTag<>("label");
    return KeyedPCollectionTuple.of(neighbours, adjacency)
        .and(label, labels)
        .apply(name + "Join", CoGroupByKey.create())
        .apply(name + "Send", ParDo.of(new SendFn(neighbours, label)))
        .setCoder(PAIR)
        .apply(name + "Smallest", Combine.perKey(min()));
  }

  private static PCollection<KV<String, String>> join(
      PCollection<KV<String, String>> edges,
      PCollection<KV<String, String>> labels,
      String name,
      JoinFn fn) {
    return KeyedPCollectionTuple.of(JoinFn.LEFT, edges)
        .and(JoinFn.RIGHT, labels)
        .apply(name + "Join", CoGroupByKey.create())
        .apply(name, ParDo.of(fn));
  }

  private static PTransform<PCollection<KV<String, String>>, PCollection<KV<String, String>>>
      joinWith(PCollection<KV<String, String>> labels, JoinFn fn) {
    return new PTransform<>() {
      @Override
      public PCollection<KV<String, String>> expand(PCollection<KV<String, String>> input) {
        return join(input, labels, "Then", fn);
      }
    };
  }

  private static final class BothWaysFn extends DoFn<KV<String, String>, KV<String, String>> {
    @ProcessElement
    public void process(@Element KV<String, String> edge, OutputReceiver<KV<String, String>> out) {
      out.output(edge);
      out.output(KV.of(edge.getValue(), edge.getKey()));
    }
  }

  private static final class SmallerFn extends DoFn<KV<String, String>, KV<String, String>> {
    @ProcessElement
    public void process(@Element KV<String, String> edge, OutputReceiver<KV<String, String>> out) {
      String a = edge.getKey();
      String b = edge.getValue();
      out.output(KV.of(a, a.compareTo(b) <= 0 ? a : b));
    }
  }

  private static final class SwapFn extends DoFn<KV<String, String>, KV<String, String>> {
    @ProcessElement
    public void process(@Element KV<String, String> kv, OutputReceiver<KV<String, String>> out) {
      out.output(KV.of(kv.getValue(), kv.getKey()));
    }
  }

  private static final class SendFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    private final TupleTag<String> neighbours;
    private final TupleTag<String> label;

    SendFn(TupleTag<String> neighbours, TupleTag<String> label) {
      this.neighbours = neighbours;
      this.label = label;
    }

    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> vertex, OutputReceiver<KV<String, String>> out) {
      String own = vertex.getValue().getOnly(label, vertex.getKey());
      out.output(KV.of(vertex.getKey(), own));
      for (String neighbour : vertex.getValue().getAll(neighbours)) {
        out.output(KV.of(neighbour, own));
      }
    }
  }

  /** Joins a keyed collection with the labels by key. */
  private abstract static class JoinFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    static final TupleTag<String> LEFT = new TupleTag<>("left");
    static final TupleTag<String> RIGHT = new TupleTag<>("right");
  }

  /** {@code (a, b)} with label(a) becomes {@code (b, label(a))}. */
  private static final class LabelOfFirstFn extends JoinFn {
    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> a, OutputReceiver<KV<String, String>> out) {
      String label = a.getValue().getOnly(RIGHT, a.getKey());
      for (String b : a.getValue().getAll(LEFT)) {
        out.output(KV.of(b, label));
      }
    }
  }

  /** {@code (b, label(a))} with label(b): the two labels when they differ. */
  private static final class DisagreeingFn extends JoinFn {
    private final Counter unconverged = RunCounters.counter("identity.unconverged_edges");

    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> b, OutputReceiver<KV<String, String>> out) {
      String labelOfB = b.getValue().getOnly(RIGHT, b.getKey());
      for (String labelOfA : b.getValue().getAll(LEFT)) {
        if (!labelOfA.equals(labelOfB)) {
          unconverged.inc();
          out.output(KV.of(labelOfA, labelOfB));
        }
      }
    }
  }

  /** Union-find over the unconverged label pairs: each label and its set's smallest label. */
  private static final class UnionFindFn
      extends DoFn<KV<String, Iterable<KV<String, String>>>, KV<String, String>> {
    @ProcessElement
    public void process(
        @Element KV<String, Iterable<KV<String, String>>> graph,
        OutputReceiver<KV<String, String>> out) {
      List<KV<String, String>> pairs = new ArrayList<>();
      graph.getValue().forEach(pairs::add);
      Map<String, String> parent = new HashMap<>();
      for (KV<String, String> pair : pairs) {
        union(parent, pair.getKey(), pair.getValue());
      }
      for (String label : new ArrayList<>(parent.keySet())) {
        out.output(KV.of(label, find(parent, label)));
      }
    }

    static String find(Map<String, String> parent, String id) {
      String root = id;
      while (!parent.get(root).equals(root)) {
        root = parent.get(root);
      }
      String node = id;
      while (!parent.get(node).equals(root)) {
        String next = parent.get(node);
        parent.put(node, root);
        node = next;
      }
      return root;
    }

    static void union(Map<String, String> parent, String a, String b) {
      parent.putIfAbsent(a, a);
      parent.putIfAbsent(b, b);
      String ra = find(parent, a);
      String rb = find(parent, b);
      if (!ra.equals(rb)) {
        if (ra.compareTo(rb) < 0) {
          parent.put(rb, ra);
        } else {
          parent.put(ra, rb);
        }
      }
    }
  }

  /** Each vertex of a label, with the label's root (or the label itself). */
  private static final class FinalFn extends DoFn<KV<String, CoGbkResult>, KV<String, String>> {
    private final TupleTag<String> vertices;
    private final TupleTag<String> root;

    FinalFn(TupleTag<String> vertices, TupleTag<String> root) {
      this.vertices = vertices;
      this.root = root;
    }

    @ProcessElement
    public void process(
        @Element KV<String, CoGbkResult> label, OutputReceiver<KV<String, String>> out) {
      String component = label.getValue().getOnly(root, label.getKey());
      for (String vertex : label.getValue().getAll(vertices)) {
        out.output(KV.of(vertex, component));
      }
    }
  }
}
