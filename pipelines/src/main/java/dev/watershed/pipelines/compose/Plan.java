package dev.watershed.pipelines.compose;

import dev.watershed.pipelines.config.Spec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.runners.TransformHierarchy;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.display.DisplayData;

/**
 * What a composed graph does, read from the graph itself: each step Watershed added (a top-level
 * transform of its own), in the order the graph runs them, with the display data the transform
 * publishes. Printed by {@code watershed plan}; it cannot disagree with the run, since it is the
 * run's graph. Display data never holds credentials (databases are described without them).
 */
public final class Plan {
  private static final String OWN = "dev.watershed.";

  private Plan() {}

  /** The title line and one line per step of {@code pipeline}, composed from {@code spec}. */
  public static List<String> of(Spec spec, Pipeline pipeline) {
    List<String> lines = new ArrayList<>();
    lines.add(spec.name() + " (" + spec.mode() + ")");
    pipeline.traverseTopologically(
        new Pipeline.PipelineVisitor.Defaults() {
          @Override
          public CompositeBehavior enterCompositeTransform(TransformHierarchy.Node node) {
            if (node.isRootNode()) {
              return CompositeBehavior.ENTER_TRANSFORM;
            }
            step(node, lines);
            return CompositeBehavior.DO_NOT_ENTER_TRANSFORM;
          }

          @Override
          public void visitPrimitiveTransform(TransformHierarchy.Node node) {
            step(node, lines);
          }
        });
    return lines;
  }

  private static void step(TransformHierarchy.Node node, List<String> lines) {
    PTransform<?, ?> transform = node.getTransform();
    // Beam's own plumbing (Flatten, counters, side inputs) is not a step of the spec.
    if (transform == null || !transform.getClass().getName().startsWith(OWN)) {
      return;
    }
    lines.add(
        String.format(
            "  %-34s %s%s",
            node.getFullName(),
            transform.getClass().getSimpleName(),
            describe(DisplayData.from(transform))));
  }

  /** The items as {@code (key=value, ...)}, in key order. */
  static String describe(DisplayData data) {
    Map<String, String> items = new TreeMap<>();
    for (DisplayData.Item item : data.items()) {
      if (item.getValue() != null) {
        items.put(item.getKey(), String.valueOf(item.getValue()));
      }
    }
    if (items.isEmpty()) {
      return "";
    }
    List<String> parts = new ArrayList<>();
    items.forEach((key, value) -> parts.add(key + "=" + value));
    return "(" + String.join(", ", parts) + ")";
  }
}
