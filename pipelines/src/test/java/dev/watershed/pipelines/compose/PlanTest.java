package dev.watershed.pipelines.compose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SpecParser;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plan is read from the composed graph's display data, never showing credentials. */
class PlanTest {
  @TempDir Path folder;

  @Test
  void thePlanIsTheGraphsStepsWithTheirDisplayDataAndNoSecret() throws Exception {
    String yaml =
        String.join(
            "\n",
            "name: numbers",
            "sources:",
            "  numbers: { type: sequence, count: 3 }",
            "models:",
            "  number:",
            "    key: [n]",
            "    fields: { n: long }",
            "conform:",
            "  - { from: numbers, to: number, fields: { n: n } }",
            "sinks:",
            "  pg:",
            "    type: postgres",
            "    url: \"jdbc:postgresql://127.0.0.1:5432/test?password=${env:URL_SECRET}\"",
            "    user: etl",
            "    password: \"${env:PG_SECRET}\"",
            "  lake: { type: parquet, path: lake }",
            "");
    Spec spec =
        SpecParser.parse(
            yaml, folder, Map.of("URL_SECRET", "url-s3cret-1", "PG_SECRET", "pg-s3cret-2"));
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.create());
    List<String> plan = Composer.compose(spec, pipeline, RunContext.at(Instant.now()));

    assertEquals("numbers (batch)", plan.get(0));
    String text = String.join("\n", plan);
    assertTrue(text.contains("  source numbers"), text);
    assertTrue(text.contains("Numbers(count=3)"), text);
    assertTrue(text.contains("conform numbers to number"), text);
    assertTrue(text.contains("load pg number") && text.contains("JdbcLoad("), text);
    assertTrue(text.contains("table=number"), text);
    assertTrue(text.contains("load lake number") && text.contains("ParquetSink("), text);
    assertTrue(text.contains("dead letters"), text);
    assertFalse(text.contains("s3cret"), text);
    // Every step of the graph that Watershed added is in the plan, in the order the graph runs.
    assertTrue(text.indexOf("source numbers") < text.indexOf("conform numbers"), text);
    assertTrue(text.indexOf("conform numbers") < text.indexOf("load pg number"), text);
  }
}
