package dev.watershed.transforms.quality;

import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.quality.QualityRule.OnFailure;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
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
class QualityTest {
  private static final Schema ACCOUNT =
      Schema.builder()
          .addStringField("id")
          .addNullableField("email", Schema.FieldType.STRING)
          .addNullableField("plan", Schema.FieldType.STRING)
          .addNullableField("balance", Schema.FieldType.DECIMAL)
          .addNullableField("updated_at", Schema.FieldType.logicalType(SqlTypes.TIMESTAMP))
          .addStringField("_source")
          .addStringField("_position")
          .build();

  private static final Schema CUSTOMER =
      Schema.builder()
          .addStringField("email")
          .addStringField("_source")
          .addStringField("_position")
          .build();

  private static Row account(String id, String email, String plan, String balance, String updated) {
    return Row.withSchema(ACCOUNT)
        .addValues(
            id,
            email,
            plan,
            balance == null ? null : new BigDecimal(balance),
            updated == null ? null : Instant.parse(updated),
            "billing",
            "a.jsonl:" + id)
        .build();
  }

  private static final List<Row> ACCOUNTS =
      List.of(
          account("1", "a@example.com", "pro", "10.00", "2024-03-01T00:00:00Z"),
          account("2", null, "free", "0.00", "2024-03-02T00:00:00Z"),
          account("3", "c@example.com", "gold", "-5.00", "2024-03-03T00:00:00Z"),
          account("4", "a@example.com", "pro", "999999.00", null),
          account("5", "e@example.com", null, null, "2024-03-05T00:00:00Z"));

  private static int step;

  private static PCollection<String> ids(PCollection<Row> rows) {
    return rows.apply(
        "Ids" + step++,
        MapElements.into(TypeDescriptors.strings()).via((Row r) -> r.getString("id")));
  }

  private static PCollection<String> describe(PCollection<Row> rows, String... fields) {
    return rows.apply(
        "Describe" + step++,
        MapElements.into(TypeDescriptors.strings())
            .via(
                (Row r) -> {
                  StringBuilder s = new StringBuilder();
                  for (String field : fields) {
                    s.append(s.length() == 0 ? "" : "|").append(r.<Object>getValue(field));
                  }
                  return s.toString();
                }));
  }

  private PCollectionTuple check(TestPipeline pipeline, List<QualityRule> rules) {
    PCollection<Row> customers =
        pipeline.apply(
            "Customers",
            Create.of(Row.withSchema(CUSTOMER).addValues("a@example.com", "crm", "c:1").build())
                .withRowSchema(CUSTOMER));
    return pipeline
        .apply("Accounts", Create.of(ACCOUNTS).withRowSchema(ACCOUNT))
        .apply(
            Quality.of("account", rules)
                .withReference("customer", customers)
                .withClock(Instant.parse("2024-03-06T00:00:00Z"))
                .withLastRunRows(10L));
  }

  @Test
  void eachRowRuleDeadLettersTheRowsThatFailIt(TestPipeline pipeline) {
    PCollectionTuple out =
        check(
            pipeline,
            List.of(
                QualityRule.notNull("email"),
                QualityRule.acceptedValues("plan", List.of("free", "pro")),
                QualityRule.range("balance", "-1", "100000"),
                QualityRule.regex("email", "[a-z]@example\\.com")));
    PAssert.that(ids(out.get(Quality.ROWS))).containsInAnyOrder("1", "5");
    PAssert.that(
            describe(
                out.get(Quality.DEAD_LETTERS),
                DeadLetter.STAGE,
                DeadLetter.REASON,
                DeadLetter.RULE,
                DeadLetter.DETAIL,
                DeadLetter.POSITION))
        .containsInAnyOrder(
            "quality|quality rule failed|not_null(email)|email is null|a.jsonl:2",
            "quality|quality rule failed|accepted_values(plan)|plan 'gold' is not one of [free, pro]|a.jsonl:3",
            "quality|quality rule failed|range(balance)|balance 999999.00 is above the maximum 100000|a.jsonl:4");
    PAssert.that(out.get(Quality.CHECKS)).empty();
    pipeline.run().waitUntilFinish();
  }

  @Test
  void uniqueRelationshipsAndExpressionsWithEveryOnFailure(TestPipeline pipeline) {
    Schema schema = ACCOUNT;
    PCollectionTuple out =
        check(
            pipeline,
            List.of(
                QualityRule.unique("email").withOnFailure(OnFailure.WARN),
                QualityRule.relationships("email", "customer", "email")
                    .withOnFailure(OnFailure.DROP),
                QualityRule.expression(Expression.parse("balance is null or balance >= 0", schema))
                    .withName("no_debt")
                    .withOnFailure(OnFailure.FAIL)));
    // Per-row rules run first: 3 is in debt (fails the run, kept). Then 1 and 4 share an email
    // (warned, kept); 3 and 5 have no customer (dropped); 2 has no email (relationships allow
    // null).
    PAssert.that(ids(out.get(Quality.ROWS))).containsInAnyOrder("1", "2", "4");
    PAssert.that(out.get(Quality.DEAD_LETTERS)).empty();
    PAssert.that(describe(out.get(Quality.FINDINGS), "rule", "on_failure", "position", "detail"))
        .containsInAnyOrder(
            "unique(email)|warn|a.jsonl:1|email 'a@example.com' occurs in 2 rows",
            "unique(email)|warn|a.jsonl:4|email 'a@example.com' occurs in 2 rows",
            "relationships(email)|drop|a.jsonl:3|email 'c@example.com' is not a customer.email",
            "relationships(email)|drop|a.jsonl:5|email 'e@example.com' is not a customer.email",
            "no_debt|fail|a.jsonl:3|not true: balance is null or balance >= 0");
    PAssert.that(describe(out.get(Quality.CHECKS), "rule", "passed", "observed"))
        .containsInAnyOrder("no_debt|false|1");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void aRowRuleSetToFailYieldsAFailedCheckAndKeepsTheRows(TestPipeline pipeline) {
    PCollectionTuple out =
        check(
            pipeline,
            List.of(
                QualityRule.expression(Expression.parse("balance >= 0", ACCOUNT))
                    .withName("no_debt")
                    .withOnFailure(OnFailure.FAIL)));
    PAssert.that(ids(out.get(Quality.ROWS))).containsInAnyOrder("1", "2", "3", "4", "5");
    PAssert.that(describe(out.get(Quality.CHECKS), "rule", "on_failure", "passed", "observed"))
        .containsInAnyOrder("no_debt|fail|false|2");
    pipeline.run().waitUntilFinish();
  }

  @Test
  void datasetRulesPassAndFailWithTheObservedValues(TestPipeline pipeline) {
    PCollectionTuple out =
        check(
            pipeline,
            List.of(
                QualityRule.rowCount(1L, 10L),
                QualityRule.rowCount(6L, null)
                    .withName("at_least_six")
                    .withOnFailure(OnFailure.WARN),
                QualityRule.rowCount(null, null)
                    .withMinRatioOfLastRun(0.8)
                    .withName("like_last_run"),
                QualityRule.freshness("updated_at", Duration.ofDays(1)),
                QualityRule.freshness("updated_at", Duration.ofHours(12)).withName("fresh_12h"),
                QualityRule.nullRate("plan", 0.2),
                QualityRule.nullRate("balance", 0.1).withName("balance_nulls"),
                QualityRule.duplicateRate("email", 0.25),
                QualityRule.duplicateRate("plan", 0.1).withName("plan_repeats")));
    PAssert.that(describe(out.get(Quality.CHECKS), "rule", "on_failure", "passed", "observed"))
        .containsInAnyOrder(
            "row_count|fail|true|5",
            "at_least_six|warn|false|5",
            "like_last_run|fail|false|5",
            "freshness(updated_at)|fail|true|2024-03-05T00:00:00Z",
            "fresh_12h|fail|false|2024-03-05T00:00:00Z",
            "null_rate(plan)|fail|true|0.2000",
            "balance_nulls|fail|false|0.2000",
            "duplicate_rate(email)|fail|true|0.2500",
            "plan_repeats|fail|false|0.2500");
    pipeline.run().waitUntilFinish();
  }
}
