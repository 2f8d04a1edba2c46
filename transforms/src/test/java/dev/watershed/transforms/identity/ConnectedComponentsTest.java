package dev.watershed.transforms.identity;

import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class ConnectedComponentsTest {
  private static PCollection<KV<String, String>> components(
      TestPipeline pipeline, List<KV<String, String>> edges, int rounds) {
    return pipeline
        .apply(Create.of(edges).withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())))
        .apply(new ConnectedComponents(rounds));
  }

  @Test
  void chainsAndStarsConvergeWithinTheRounds(TestPipeline pipeline) {
    PAssert.that(
            components(
                pipeline,
                List.of(
                    KV.of("c", "b"),
                    KV.of("a", "b"), // a~b, b~c: one cluster through b
                    KV.of("e", "f"),
                    KV.of("f", "g"),
                    KV.of("g", "h"),
                    KV.of("d", "h")), // a path d..h
                4))
        .containsInAnyOrder(
            KV.of("a", "a"),
            KV.of("b", "a"),
            KV.of("c", "a"),
            KV.of("d", "d"),
            KV.of("e", "d"),
            KV.of("f", "d"),
            KV.of("g", "d"),
            KV.of("h", "d"));
    pipeline.run().waitUntilFinish();
  }

  /** A path far longer than the rounds reach: the convergence check finishes it exactly. */
  @Test
  void aLongPathBeyondTheRoundsStillEndsAsOneComponent(TestPipeline pipeline) {
    List<KV<String, String>> edges = new ArrayList<>();
    List<KV<String, String>> expected = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      // Ids in an order that makes the smallest one far from most vertices: v59 - v58 - ... - v00.
      edges.add(KV.of(String.format("v%02d", i + 1), String.format("v%02d", i)));
      expected.add(KV.of(String.format("v%02d", i), "v00"));
    }
    expected.add(KV.of("v60", "v00"));
    edges.add(KV.of("x1", "x2")); // and a separate pair
    expected.add(KV.of("x1", "x1"));
    expected.add(KV.of("x2", "x1"));
    PAssert.that(components(pipeline, edges, 2)).containsInAnyOrder(expected);
    pipeline.run().waitUntilFinish();
  }
}
