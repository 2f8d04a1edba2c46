package dev.watershed.transforms.conform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.watershed.transforms.expression.LookupTable;
import dev.watershed.transforms.expression.SqlExpression;
import dev.watershed.transforms.expression.ValueType;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
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

/**
 * Conform rules for real schemas: expressions, phone regions from the row, field-level error
 * policies, lookup tables, timestamps into dates, decimal commas and international addresses. Each
 * rule's exact output is checked.
 */
@ExtendWith(TestPipelineExtension.class)
class ConformRulesTest {
  private static final Schema RAW =
      RawRecords.schema(
          List.of(
              "id", "first", "last", "phone", "country", "land", "price", "qty", "seen", "mail"));

  private static final LookupTable LANDS =
      LookupTable.of(
          "country_codes",
          "name",
          List.of("name", "iso2"),
          List.of(
              Map.of("name", "Deutschland", "iso2", "DE"),
              Map.of("name", "Vereinigtes Königreich", "iso2", "GB"),
              Map.of("name", "Frankreich", "iso2", "FR")));

  private static final CanonicalModel CONTACT =
      CanonicalModel.builder("contact")
          .field("contact_id", "string")
          .field("full_name", "string")
          .field("phone", "string")
          .field("country", "string")
          .field("total", "decimal(12,2)")
          .field("seen_on", "date")
          .field("email", "string")
          .key("contact_id")
          .build();

  /** A raw record: id, first, last, phone, country, land, price, qty, seen, mail. */
  private static Row raw(String position, String... values) {
    List<Object> all = new ArrayList<>(Arrays.asList((Object[]) values));
    all.add("crm");
    all.add(position);
    all.add(String.join(",", Objects.toString(values[0])));
    return Row.withSchema(RAW).attachValues(all);
  }

  private static SqlExpression expr(String text) {
    return SqlExpression.parse(
        text,
        column -> RAW.hasField(column) ? ValueType.TEXT : null,
        Map.of("country_codes", LANDS));
  }

  private static PCollection<String> render(PCollection<Row> rows, String... fields) {
    return rows.apply(
        "render " + String.join(",", fields),
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row row) -> {
                  List<String> values = new ArrayList<>();
                  for (String field : fields) {
                    values.add(String.valueOf(row.<Object>getValue(field)));
                  }
                  return String.join("|", values);
                }));
  }

  private static PCollection<String> reasons(PCollection<Row> deadLetters) {
    return deadLetters.apply(
        "reasons",
        MapElements.into(TypeDescriptors.strings())
            .via((Row row) -> row.getString("reason") + "|" + row.getString("detail")));
  }

  @Test
  void expressionsComputeFieldsFromSeveralColumns(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw("1", "1", "Ada", "Lovelace", null, null, null, "12,50", "3", null, null),
                    raw("2", "2", " Alan", null, null, null, null, "2", "x", null, null),
                    // Columns read as from: reads them: trimmed, and an empty one is null.
                    raw("3", "3", " grace ", "", null, null, null, "1", "2", null, null))
                .withRowSchema(RAW));
    PCollectionTuple out =
        input.apply(
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.expression(expr("'c-' || lpad(id, 4, '0')")))
                .withField(
                    "full_name",
                    FieldRule.expression(expr("concat_ws(' ', trim(first), last)"))
                        .withNormalizers("title"))
                .withField(
                    "total",
                    FieldRule.expression(
                        expr("cast(replace(price, ',', '.') as decimal(10,2)) * qty"))));
    PAssert.that(render(out.get(Conform.ROWS), "contact_id", "full_name", "total"))
        .containsInAnyOrder("c-0001|Ada Lovelace|37.50", "c-0003|Grace|2.00");
    // 'x' is not a number: the record is a dead letter naming the field and the value.
    PAssert.that(reasons(out.get(Conform.DEAD_LETTERS)))
        .containsInAnyOrder("expression failed|total: 'x' is not a number");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aPhoneIsReadInTheRegionOfTheRowsCountry(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw(
                        "1",
                        "1",
                        null,
                        null,
                        "030 1234567",
                        "Deutschland",
                        null,
                        null,
                        null,
                        null,
                        null),
                    raw("2", "2", null, null, "020 7946 0018", "GB", null, null, null, null, null),
                    raw(
                        "3",
                        "3",
                        null,
                        null,
                        "01 23 45 67 89",
                        "France",
                        null,
                        null,
                        null,
                        null,
                        null),
                    // No country, or one nobody knows: the rule's fixed region (US) reads it.
                    raw("4", "4", null, null, "(212) 555-0100", null, null, null, null, null, null),
                    raw(
                        "5",
                        "5",
                        null,
                        null,
                        "(212) 555-0100",
                        "Atlantis",
                        null,
                        null,
                        null,
                        null,
                        null))
                .withRowSchema(RAW));
    PCollectionTuple out =
        input.apply(
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.from("id"))
                .withField(
                    "phone",
                    FieldRule.from("phone").withNormalizers("phone").withRegionFrom("country")));
    PAssert.that(render(out.get(Conform.ROWS), "contact_id", "phone"))
        .containsInAnyOrder(
            "1|+49301234567",
            "2|+442079460018",
            "3|+33123456789",
            "4|+12125550100",
            "5|+12125550100");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aFieldThatFailsCanBeSetToNullOrKeptRawWithoutLosingTheRecord(TestPipeline pipeline) {
    CanonicalModel model = CONTACT.withRawColumns(List.of("email"));
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw("1", "1", null, null, "not a phone", "DE", null, null, null, null, "a@b"),
                    raw(
                        "2",
                        "2",
                        null,
                        null,
                        "030 1234567",
                        "DE",
                        null,
                        null,
                        null,
                        null,
                        "x@example.com"))
                .withRowSchema(RAW));
    PCollectionTuple out =
        input.apply(
            Conform.to(model)
                .withField("contact_id", FieldRule.from("id"))
                .withField(
                    "phone",
                    FieldRule.from("phone")
                        .withNormalizers("phone")
                        .withRegionFrom("country")
                        .withOnError(FieldRule.OnError.NULL))
                .withField(
                    "email",
                    FieldRule.from("mail")
                        .withNormalizers("email")
                        .withOnError(FieldRule.OnError.KEEP_RAW)));
    PAssert.that(render(out.get(Conform.ROWS), "contact_id", "phone", "email", "_raw_email"))
        .containsInAnyOrder("1|null|null|a@b", "2|+49301234567|x@example.com|null");
    PAssert.that(out.get(Conform.DEAD_LETTERS)).empty();
    PAssert.that(
            out.get(Conform.FINDINGS)
                .apply(
                    "findings",
                    MapElements.into(TypeDescriptors.strings())
                        .via(
                            (Row f) ->
                                f.getString("rule")
                                    + "|"
                                    + f.getString("on_failure")
                                    + "|"
                                    + f.getString("detail")
                                    + "|"
                                    + f.getString("position"))))
        .containsInAnyOrder(
            "conform phone|null|invalid phone: 'not a phone' is not a phone number: The string"
                + " supplied did not seem to be a phone number.|1",
            "conform email|keep_raw|invalid email: 'a@b' is not an email address|1");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aKeyFieldCannotGiveWay() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Conform.to(CONTACT)
                    .withField(
                        "contact_id", FieldRule.from("id").withOnError(FieldRule.OnError.NULL)));
    assertTrue(e.getMessage().contains("key field 'contact_id' needs a value"), e.getMessage());
    IllegalArgumentException noRawColumn =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                Conform.to(CONTACT)
                    .withField(
                        "email", FieldRule.from("mail").withOnError(FieldRule.OnError.KEEP_RAW)));
    assertTrue(noRawColumn.getMessage().contains("_raw_email"), noRawColumn.getMessage());
  }

  @Test
  void lookupsTranslateCodesEachSystemSpellsItsOwnWay(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw("1", "1", null, null, null, null, "deutschland ", null, null, null, null),
                    raw(
                        "2",
                        "2",
                        null,
                        null,
                        null,
                        null,
                        "Vereinigtes Königreich",
                        null,
                        null,
                        null,
                        null),
                    raw("3", "3", null, null, null, null, "Atlantis", null, null, null, null),
                    raw("4", "4", null, null, null, null, null, null, null, null, null))
                .withRowSchema(RAW));
    PCollectionTuple strict =
        input.apply(
            "strict",
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.from("id"))
                .withField(
                    "country",
                    FieldRule.from("land")
                        .withLookup(LANDS, "name", "iso2", FieldRule.OnMissing.ERROR)
                        .withNormalizers("country")));
    PAssert.that(render(strict.get(Conform.ROWS), "contact_id", "country"))
        .containsInAnyOrder("1|DE", "2|GB", "4|null");
    PAssert.that(reasons(strict.get(Conform.DEAD_LETTERS)))
        .containsInAnyOrder(
            "not in lookup table|country: 'Atlantis' is not a name in lookup table country_codes");
    PCollectionTuple lenient =
        input.apply(
            "lenient",
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.from("id"))
                .withField(
                    "country",
                    FieldRule.from("land")
                        .withLookup(LANDS, "name", "iso2", FieldRule.OnMissing.KEEP))
                .withField(
                    "full_name",
                    FieldRule.expression(
                        expr("coalesce(lookup('country_codes', 'iso2', land), 'unknown')"))));
    PAssert.that(render(lenient.get(Conform.ROWS), "contact_id", "country", "full_name"))
        .containsInAnyOrder("1|DE|DE", "2|GB|GB", "3|Atlantis|unknown", "4|null|unknown");
    PCollectionTuple nulled =
        input.apply(
            "nulled",
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.from("id"))
                .withField(
                    "country",
                    FieldRule.from("land")
                        .withLookup(LANDS, "name", "iso2", FieldRule.OnMissing.NULL)));
    PAssert.that(render(nulled.get(Conform.ROWS), "contact_id", "country", "email"))
        .containsInAnyOrder("1|DE|null", "2|GB|null", "3|null|null", "4|null|null");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void typesFromOtherSystems(TestPipeline pipeline) {
    PCollection<Row> input =
        pipeline.apply(
            Create.of(
                    raw(
                        "1",
                        "1",
                        null,
                        null,
                        null,
                        null,
                        null,
                        "1.234,5",
                        null,
                        "2024-03-05T23:30:00Z",
                        "Jörg@Müller.DE"),
                    raw(
                        "2",
                        "2",
                        null,
                        null,
                        null,
                        null,
                        null,
                        "-0,75",
                        null,
                        "2024-03-05 10:00:00",
                        "用户@例子.广告"),
                    raw(
                        "3",
                        "3",
                        null,
                        null,
                        null,
                        null,
                        null,
                        "12",
                        null,
                        "2024-03-05",
                        "δοκιμή@παράδειγμα.δοκιμή"),
                    raw(
                        "4",
                        "4",
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        null,
                        "a..b@example.com"))
                .withRowSchema(RAW));
    PCollectionTuple out =
        input.apply(
            Conform.to(CONTACT)
                .withField("contact_id", FieldRule.from("id"))
                .withField("total", FieldRule.from("price").withLocale("de-DE"))
                // A timestamp column into a date field needs no format; the zone gives the day.
                .withField("seen_on", FieldRule.from("seen").withZone("Europe/Berlin"))
                .withField("email", FieldRule.from("mail").withNormalizers("email")));
    PAssert.that(render(out.get(Conform.ROWS), "contact_id", "total", "seen_on", "email"))
        .containsInAnyOrder(
            "1|1234.50|2024-03-06|jörg@müller.de",
            "2|-0.75|2024-03-05|用户@例子.广告",
            "3|12.00|2024-03-05|δοκιμή@παράδειγμα.δοκιμή");
    PAssert.that(reasons(out.get(Conform.DEAD_LETTERS)))
        .containsInAnyOrder("invalid email|'a..b@example.com' is not an email address");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void rulesNameTheColumnsTheyRead() {
    assertEquals(
        List.of("first", "last"),
        List.copyOf(FieldRule.expression(expr("concat_ws(' ', first, last)")).columns()));
    assertEquals(
        List.of("phone", "country"),
        List.copyOf(FieldRule.from("phone").withRegionFrom("country").columns()));
  }
}
