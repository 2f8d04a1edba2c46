package dev.watershed.transforms.dedupe;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Field-level source priority: each preferred field from the first listed source with a value. */
@ExtendWith(TestPipelineExtension.class)
class SourcePreferenceTest {
  private static final Schema SCHEMA =
      Schema.builder()
          .addStringField("email")
          .addNullableField("version", Schema.FieldType.INT64)
          .addNullableField("phone", Schema.FieldType.STRING)
          .addNullableField("address", Schema.FieldType.STRING)
          .addNullableField("name", Schema.FieldType.STRING)
          .addStringField("_source")
          .addStringField("_position")
          .build();

  private static Row row(
      String email, long version, String phone, String address, String name, String source) {
    return Row.withSchema(SCHEMA)
        .addValues(email, version, phone, address, name, source, source + ":" + version)
        .build();
  }

  private static final Map<String, List<String>> PREFER =
      Map.of("address", List.of("billing", "crm"), "phone", List.of("crm", "billing"));

  @Test
  void eachPreferredFieldComesFromTheFirstListedSourceThatHasIt(TestPipeline pipeline) {
    PCollection<Row> out =
        pipeline
            .apply(
                Create.of(
                        // a@x: the CRM row is the latest; billing's address and the CRM's phone.
                        row("a@x", 5, "+49301", null, "Ada CRM", "crm"),
                        row("a@x", 2, "+49302", "Billing Street 1", "Ada Billing", "billing"),
                        row("a@x", 1, "+49303", "Shop Street 9", "Ada Shop", "shop"),
                        // b@x: no CRM phone, so billing's; of billing's two rows the latest.
                        row("b@x", 1, null, "Old Road 1", "Bob CRM", "crm"),
                        row("b@x", 3, "+44201", "New Road 2", "Bob Billing", "billing"),
                        row("b@x", 4, "+44202", "Newer Road 3", "Bob Billing 2", "billing"),
                        // c@x: only the shop, which no preference lists: the row as it is.
                        row("c@x", 1, "+3312", "Rue 1", "Cy Shop", "shop"))
                    .withRowSchema(SCHEMA))
            .apply(
                Dedupe.byKey("email")
                    .keepLatest("version")
                    .withBuckets(4)
                    .withPreferredSources(PREFER));
    PAssert.that(out)
        .containsInAnyOrder(
            row("a@x", 5, "+49301", "Billing Street 1", "Ada CRM", "crm"),
            row("b@x", 4, "+44202", "Newer Road 3", "Bob Billing 2", "billing"),
            row("c@x", 1, "+3312", "Rue 1", "Cy Shop", "shop"));
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aPreferredFieldMustBeANonKeyFieldOfTheRows(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.empty(org.apache.beam.sdk.values.TypeDescriptors.rows()).withRowSchema(SCHEMA));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            input.apply(
                Dedupe.byKey("email").withPreferredSources(Map.of("email", List.of("crm")))));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            input.apply(
                "second",
                Dedupe.byKey("email").withPreferredSources(Map.of("fax", List.of("crm")))));
    pipeline.enableAbandonedNodeEnforcement(false);
  }
}
