package dev.watershed.transforms.conform;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class ConformTest {
  private static final CanonicalModel CUSTOMER =
      CanonicalModel.builder("customer")
          .field("customer_id", "string")
          .field("email", "string")
          .field("balance", "decimal(10,2)")
          .field("signup_date", "date")
          .field("active", "boolean")
          .field("updated_at", "timestamp")
          .field("source_system", "string")
          .key("customer_id")
          .build();

  private static final Schema RAW =
      RawRecords.schema(List.of("id", "mail", "amount", "since", "is_active", "changed"));

  private static Row raw(String position, String... values) {
    List<Object> all = new ArrayList<>(List.of((Object[]) values));
    all.add("crm");
    all.add(position);
    all.add(String.join(",", values));
    return Row.withSchema(RAW).attachValues(all);
  }

  private static Conform conform() {
    return Conform.to(CUSTOMER)
        .withField("customer_id", FieldRule.from("id").withPrefix("crm-"))
        .withField("email", FieldRule.from("mail").withNormalizers("email"))
        .withField("balance", FieldRule.from("amount").withNormalizers("amount"))
        .withField("signup_date", FieldRule.from("since").withFormats("yyyy-MM-dd", "dd/MM/yyyy"))
        .withField("active", FieldRule.from("is_active").withNormalizers("boolean"))
        .withField("updated_at", FieldRule.from("changed"))
        .withField("source_system", FieldRule.constant("crm"));
  }

  @Test
  void conformsGoodRowsAndDeadLettersBadOnesWithReasonAndPosition(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw(
                        "a.csv:2",
                        "7",
                        " Anna@Example.com ",
                        "$1,200.5",
                        "05/04/2023",
                        "yes",
                        "2024-03-01T10:00:00Z"),
                    raw(
                        "a.csv:3",
                        "8",
                        "ben@example.com",
                        "12",
                        "2023-02-31",
                        "no",
                        "2024-03-01T10:00:00Z"),
                    raw(
                        "a.csv:4",
                        "9",
                        "cara@example.com",
                        "twelve",
                        "2023-01-01",
                        "no",
                        "2024-03-01T10:00:00Z"),
                    raw(
                        "a.csv:5",
                        "",
                        "dan@example.com",
                        "1",
                        "2023-01-01",
                        "no",
                        "2024-03-01T10:00:00Z"),
                    raw("a.csv:6", "10", "", "", "", "", ""))
                .withRowSchema(RAW));

    PCollectionTuple result = input.apply(conform());

    PAssert.that(result.get(Conform.ROWS))
        .containsInAnyOrder(
            Row.withSchema(CUSTOMER.schema())
                .addValues(
                    "crm-7",
                    "anna@example.com",
                    new BigDecimal("1200.50"),
                    LocalDate.of(2023, 4, 5),
                    true,
                    Instant.parse("2024-03-01T10:00:00Z"),
                    "crm",
                    "crm",
                    "a.csv:2")
                .build(),
            Row.withSchema(CUSTOMER.schema())
                .addValues("crm-10", null, null, null, null, null, "crm", "crm", "a.csv:6")
                .build());
    PAssert.that(
            result
                .get(Conform.DEAD_LETTERS)
                .apply(
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (Row d) ->
                                d.getString(DeadLetter.STAGE)
                                    + "|"
                                    + d.getString(DeadLetter.REASON)
                                    + "|"
                                    + d.getString(DeadLetter.SOURCE)
                                    + "|"
                                    + d.getString(DeadLetter.POSITION)
                                    + "|"
                                    + d.getString(DeadLetter.PAYLOAD))))
        .containsInAnyOrder(
            "conform|unparsable date|crm|a.csv:3|8,ben@example.com,12,2023-02-31,no,2024-03-01T10:00:00Z",
            "conform|non-numeric value|crm|a.csv:4|9,cara@example.com,twelve,2023-01-01,no,2024-03-01T10:00:00Z",
            "conform|missing key|crm|a.csv:5|,dan@example.com,1,2023-01-01,no,2024-03-01T10:00:00Z");
    pipeline.run().waitUntilFinish();
  }

  /** A NUL character no text column can store (PostgreSQL refused the whole load): dead letter. */
  @Test
  void aValueWithANulCharacterIsADeadLetter(TestPipeline pipeline) {
    PCollectionTuple result =
        pipeline
            .apply(
                Create.of(
                        raw("n.csv:2", "1", "a\u0000b@example.com", "1", "", "", ""),
                        raw("n.csv:3", "2", "ok@example.com", "1", "", "", ""))
                    .withRowSchema(RAW))
            .apply(conform());
    PAssert.that(ids(result.get(Conform.ROWS))).containsInAnyOrder("crm-2");
    PAssert.that(reasonsAndPositions(result.get(Conform.DEAD_LETTERS)))
        .containsInAnyOrder("NUL character|n.csv:2");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void rejectsRulesForFieldsTheModelLacks() {
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class,
        () -> Conform.to(CUSTOMER).withField("nickname", FieldRule.from("nick")));
  }

  /** A change whose version or change time cannot be read is a dead letter, not a failed run. */
  @Test
  void aChangeWithAnUnreadableVersionOrTimeIsADeadLetter(TestPipeline pipeline) {
    CanonicalModel changes =
        CanonicalModel.builder("customer")
            .field("customer_id", "string")
            .key("customer_id")
            .build()
            .withChanges();
    Schema raw = RawRecords.changeSchema(List.of("id"));
    List<Row> rows =
        List.of(
            Row.withSchema(raw)
                .addValues("1", "crm", "t/0@1", null, "upsert", "17", "2026-01-01T00:00:00Z")
                .build(),
            Row.withSchema(raw)
                .addValues("2", "crm", "t/0@2", null, "upsert", "x17", "2026-01-01T00:00:00Z")
                .build(),
            Row.withSchema(raw)
                .addValues("3", "crm", "t/0@3", null, "upsert", "18", "yesterday")
                .build());
    PCollectionTuple result =
        pipeline
            .apply(Create.of(rows).withRowSchema(raw))
            .apply(Conform.to(changes).withField("customer_id", FieldRule.from("id")));
    PAssert.that(ids(result.get(Conform.ROWS))).containsInAnyOrder("1");
    PAssert.that(reasonsAndPositions(result.get(Conform.DEAD_LETTERS)))
        .containsInAnyOrder("invalid change version|t/0@2", "unparsable timestamp|t/0@3");
    pipeline.run().waitUntilFinish();
  }

  private static PCollection<String> ids(PCollection<Row> rows) {
    return rows.apply(
        "ids",
        MapElements.into(TypeDescriptors.strings()).via((Row r) -> r.getString("customer_id")));
  }

  private static PCollection<String> reasonsAndPositions(PCollection<Row> deadLetters) {
    return deadLetters.apply(
        "reasons",
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row d) ->
                    d.getString(DeadLetter.REASON) + "|" + d.getString(DeadLetter.POSITION)));
  }
}
