package dev.watershed.transforms.identity;

import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class MatchRuleTest {
  private static final Schema PERSON =
      Schema.builder()
          .addStringField("id")
          .addNullableField("email", Schema.FieldType.STRING)
          .addNullableField("name", Schema.FieldType.STRING)
          .addNullableField("postcode", Schema.FieldType.STRING)
          .build();

  private static Row person(String id, String email, String name, String postcode) {
    return Row.withSchema(PERSON).addValues(id, email, name, postcode).build();
  }

  @Test
  void aRuleMatchesPairsAndClustersFollowTheChain(TestPipeline pipeline) {
    PCollection<Row> people =
        pipeline.apply(
            Create.of(
                    // a~b by email; b~c by name and postcode; so a, b, c are one person.
                    person("a", "anna@example.com", "Anna Smith", "10115"),
                    person("b", "anna@example.com", "Anna Smyth", "10117"),
                    person("c", "anna.s@example.net", "Anna Smyth", "10117"),
                    // d has c's name but another postcode: not a match.
                    person("d", "d@example.com", "Anna Smyth", "80331"),
                    person("e", null, "Ben Jones", "10115"))
                .withRowSchema(PERSON));
    PCollection<Row> clusters =
        people.apply(
            ResolveIdentities.of("id")
                .withBlockingKeys(BlockingKey.of("email"), BlockingKey.of("name:soundex"))
                .withComparisons(
                    Comparison.exact("email"),
                    Comparison.jaroWinkler("name", 0.92),
                    Comparison.exact("postcode"))
                .withMatchRule("email = 1 or (name >= 0.92 and postcode = 1)"));
    PAssert.that(
            clusters.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via((Row r) -> r.getString("record_id") + "->" + r.getString("cluster_id"))))
        .containsInAnyOrder("a->a", "b->a", "c->a", "d->d", "e->e");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void weightsGivenRatherThanEstimated(TestPipeline pipeline) {
    java.util.List<Comparison> comparisons = java.util.List.of(Comparison.exact("email"));
    PCollection<Row> clusters =
        pipeline
            .apply(
                Create.of(
                        person("a", "anna@example.com", "Anna Smith", "10115"),
                        person("b", "anna@example.com", "Anna Smyth", "10117"),
                        person("c", "anna.s@example.net", "Anna Smyth", "10117"))
                    .withRowSchema(PERSON))
            .apply(
                ResolveIdentities.of("id")
                    .withBlockingKeys(BlockingKey.of("name:soundex"))
                    .withComparisons(comparisons.toArray(Comparison[]::new))
                    .withWeights(
                        FellegiSunter.of(
                            0.1,
                            comparisons,
                            java.util.List.of(java.util.List.of(0.9, 0.1)),
                            java.util.List.of(java.util.List.of(0.01, 0.99))))
                    .withThreshold(0.9));
    PAssert.that(
            clusters.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via((Row r) -> r.getString("record_id") + "->" + r.getString("cluster_id"))))
        .containsInAnyOrder("a->a", "b->a", "c->c");
    pipeline.run().waitUntilFinish();
  }
}
