package dev.watershed.transforms.identity;

import dev.watershed.transforms.model.CanonicalModel;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class GoldenRecordsTest {
  private static final CanonicalModel PERSON =
      CanonicalModel.builder("person")
          .field("person_id", "string")
          .field("email", "string")
          .field("city", "string")
          .field("updated", "timestamp")
          .key("person_id")
          .build();
  private static final Instant NOW = Instant.parse("2024-06-01T00:00:00Z");

  private static Row person(String id, String email, String city, String updated, String source) {
    return Row.withSchema(PERSON.schema())
        .addValues(id, email, city, Instant.parse(updated), source, "x")
        .build();
  }

  private static Row cluster(String record, String cluster) {
    return Row.withSchema(ResolveIdentities.CLUSTERS).addValues(record, cluster, null).build();
  }

  @Test
  void whenClustersMergeTheOldestGoldenIdSurvivesAndSurvivorshipPicksPerField(
      TestPipeline pipeline) {
    PCollection<Row> rows =
        pipeline.apply(
            "Rows",
            Create.of(
                    person("a", "a@old.example", "Berlin", "2024-01-01T00:00:00Z", "crm"),
                    person("b", null, "Bonn", "2024-03-01T00:00:00Z", "shop"),
                    person("c", "c@new.example", "Bonn", "2024-05-01T00:00:00Z", "shop"),
                    person("d", "d@example.com", "Köln", "2024-01-01T00:00:00Z", "crm"))
                .withRowSchema(PERSON.schema()));
    PCollection<Row> clusters =
        pipeline.apply(
            "Clusters",
            Create.of(cluster("a", "a"), cluster("b", "a"), cluster("c", "a"), cluster("d", "d"))
                .withRowSchema(ResolveIdentities.CLUSTERS));
    // Before this run a and b were g-1 (first seen in 2023) and c was g-2 (first seen in 2024).
    PCollection<KV<String, String>> previous =
        pipeline.apply(
            "Previous",
            Create.of(
                    KV.of("a", "g-1|2023-01-01 00:00:00|"),
                    KV.of("b", "g-1|2023-02-01 00:00:00|"),
                    KV.of("c", "g-2|2024-01-01T00:00:00Z|"))
                .withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())));
    PCollectionTuple out =
        rows.apply(
            GoldenRecords.of(PERSON, clusters, previous)
                .withSurvivorship(
                    Map.of("email", "most_recent", "city", "most_frequent"),
                    "source_priority",
                    "updated",
                    List.of("crm", "shop"))
                .withClock(NOW));
    PAssert.that(
            text(
                out.get(GoldenRecords.CROSSWALK),
                "source_id",
                "golden_id",
                "matched_by",
                "first_seen"))
        .containsInAnyOrder(
            "a|g-1|fellegi_sunter|2023-01-01T00:00:00Z",
            "b|g-1|fellegi_sunter|2023-02-01T00:00:00Z",
            "c|g-1|fellegi_sunter|2024-01-01T00:00:00Z",
            "d|g-d|unique|2024-06-01T00:00:00Z");
    PAssert.that(text(out.get(GoldenRecords.MERGES), "golden_id", "merged_into", "merged_at"))
        .containsInAnyOrder("g-2|g-1|2024-06-01T00:00:00Z");
    PAssert.that(
            text(
                out.get(GoldenRecords.GOLDEN),
                "golden_id",
                "person_id",
                "email",
                "city",
                "records",
                "value_sources"))
        .containsInAnyOrder(
            "g-1|a|c@new.example|Bonn|3|{\"person_id\":\"crm\",\"email\":\"shop\",\"city\":\"shop\",\"updated\":\"crm\"}",
            "g-d|d|d@example.com|Köln|1|{\"person_id\":\"crm\",\"email\":\"crm\",\"city\":\"crm\",\"updated\":\"crm\"}");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aRecordThatChangesClustersTakesTheNewClustersIdAndASplitKeepsTheIdWithTheMajority(
      TestPipeline pipeline) {
    PCollection<Row> rows =
        pipeline.apply(
            "Rows",
            Create.of(
                    person("a", "a@example.com", "Berlin", "2024-01-01T00:00:00Z", "crm"),
                    person("b", "c@example.com", "Bonn", "2024-01-01T00:00:00Z", "crm"),
                    person("c", "c@example.com", "Bonn", "2024-01-01T00:00:00Z", "shop"),
                    person("d", "c@example.com", "Bonn", "2024-01-01T00:00:00Z", "shop"),
                    person("e", "e@example.com", "Jena", "2024-01-01T00:00:00Z", "crm"),
                    person("f", "f@example.com", "Gera", "2024-01-01T00:00:00Z", "crm"),
                    person("g", "f@example.com", "Gera", "2024-01-01T00:00:00Z", "shop"))
                .withRowSchema(PERSON.schema()));
    // b's email changed to c's: b left g-1 (with a) for g-2 (with c and d). e, f, g were one
    // person (g-3), now f and g are one and e another.
    PCollection<Row> clusters =
        pipeline.apply(
            "Clusters",
            Create.of(
                    cluster("a", "a"),
                    cluster("b", "b"),
                    cluster("c", "b"),
                    cluster("d", "b"),
                    cluster("e", "e"),
                    cluster("f", "f"),
                    cluster("g", "f"))
                .withRowSchema(ResolveIdentities.CLUSTERS));
    PCollection<KV<String, String>> previous =
        pipeline.apply(
            "Previous",
            Create.of(
                    KV.of("a", "g-1|2023-01-01 00:00:00|"),
                    KV.of("b", "g-1|2023-01-01 00:00:00|"),
                    KV.of("c", "g-2|2023-06-01 00:00:00|"),
                    KV.of("d", "g-2|2023-06-01 00:00:00|"),
                    KV.of("e", "g-3|2023-01-01 00:00:00|"),
                    KV.of("f", "g-3|2023-01-01 00:00:00|"),
                    KV.of("g", "g-3|2023-01-01 00:00:00|"))
                .withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())));
    PCollectionTuple out = rows.apply(GoldenRecords.of(PERSON, clusters, previous).withClock(NOW));
    PAssert.that(text(out.get(GoldenRecords.CROSSWALK), "source_id", "golden_id"))
        .containsInAnyOrder("a|g-1", "b|g-2", "c|g-2", "d|g-2", "e|g-e", "f|g-3", "g|g-3");
    PAssert.that(out.get(GoldenRecords.MERGES)).empty();
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aClusterLeftWithoutAnIdNeverReusesOneNamedAfterItsRecord(TestPipeline pipeline) {
    PCollection<Row> rows =
        pipeline.apply(
            "Rows",
            Create.of(
                    person("a", "a@example.com", "Berlin", "2024-01-01T00:00:00Z", "crm"),
                    person("b", "b@example.com", "Bonn", "2024-01-01T00:00:00Z", "crm"),
                    person("c", "b@example.com", "Bonn", "2024-01-01T00:00:00Z", "shop"))
                .withRowSchema(PERSON.schema()));
    // a and b were one person, g-a, named after a. Now b is with c (new), and a alone: the larger
    // cluster keeps g-a, and a's new id must not be g-a again.
    PCollection<Row> clusters =
        pipeline.apply(
            "Clusters",
            Create.of(cluster("a", "a"), cluster("b", "b"), cluster("c", "b"))
                .withRowSchema(ResolveIdentities.CLUSTERS));
    PCollection<KV<String, String>> previous =
        pipeline.apply(
            "Previous",
            Create.of(
                    KV.of("a", "g-a|2023-01-01 00:00:00|"), KV.of("b", "g-a|2023-01-01 00:00:00|"))
                .withCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of())));
    PCollectionTuple out = rows.apply(GoldenRecords.of(PERSON, clusters, previous).withClock(NOW));
    PAssert.that(text(out.get(GoldenRecords.CROSSWALK), "source_id", "golden_id"))
        .containsInAnyOrder("a|g-a.2", "b|g-a", "c|g-a");
    PAssert.that(out.get(GoldenRecords.MERGES)).empty();
    pipeline.run().waitUntilFinish();
  }

  private static int step;

  private static PCollection<String> text(PCollection<Row> rows, String... fields) {
    return rows.apply(
        "Text" + step++,
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row r) -> {
                  StringBuilder s = new StringBuilder();
                  for (String f : fields) {
                    s.append(s.length() == 0 ? "" : "|").append(r.<Object>getValue(f));
                  }
                  return s.toString();
                }));
  }
}
