package dev.watershed.io.bigquery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.api.services.bigquery.model.Table;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableReference;
import com.google.api.services.bigquery.model.TableRow;
import dev.watershed.io.WriteMode;
import dev.watershed.transforms.deadletter.DeadLetter;
import dev.watershed.transforms.model.CanonicalModel;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestPipelineExtension;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The BigQuery sink against the fake BigQuery services Beam ships with its GCP IO (tables, the
 * Storage Write API's streams, CDC upserts and deletes, rejected rows), so it runs offline.
 */
@ExtendWith(TestPipelineExtension.class)
class BigQueryLoadTest {
  private static final String TABLE = "watershed-test:warehouse.account";
  private static final CanonicalModel ACCOUNT =
      CanonicalModel.builder("account")
          .field("account_id", "string")
          .field("balance", "decimal(12,2)")
          .field("exposure", "decimal(38,12)")
          .field("opened", "date")
          .field("updated_at", "timestamp")
          .field("active", "boolean")
          .field("visits", "long")
          .field("profile", "string")
          .key("account_id")
          .build();

  private FakeDatasetService datasets;
  private FakeBigQueryServices services;

  @BeforeEach
  void fakeBigQuery() throws Exception {
    FakeDatasetService.setUp();
    // Beam keeps Storage Write API clients in static caches; a new fake needs new clients.
    java.lang.reflect.Method clear =
        org.apache.beam.sdk.io.gcp.bigquery.BigQueryIO.class.getDeclaredMethod("clearStaticCaches");
    clear.setAccessible(true);
    clear.invoke(null);
    datasets = new FakeDatasetService();
    datasets.createDataset("watershed-test", "warehouse", "", "", null);
    services =
        new FakeBigQueryServices()
            .withDatasetService(datasets)
            .withJobService(new FakeJobService());
  }

  private static Row account(String id, String balance, String updated, String profile) {
    return Row.withSchema(ACCOUNT.schema())
        .addValues(
            id,
            new BigDecimal(balance),
            new BigDecimal("12345678901234567890123456.123456789012"),
            LocalDate.parse("2024-02-29"),
            Instant.parse(updated),
            true,
            42L,
            profile,
            "billing",
            "accounts.jsonl:" + id)
        .build();
  }

  private PCollection<Row> rows(TestPipeline pipeline, Row... rows) {
    return pipeline.apply(Create.of(List.of(rows)).withRowSchema(ACCOUNT.schema()));
  }

  /** The table's rows, each as its fields in name order, sorted. */
  private List<String> tableRows() throws Exception {
    List<String> out = new ArrayList<>();
    for (TableRow row : datasets.getAllRows("watershed-test", "warehouse", "account")) {
      out.add(new TreeMap<>(row).toString());
    }
    out.sort(null);
    return out;
  }

  private Table table() throws Exception {
    return datasets.getTable(
        new TableReference()
            .setProjectId("watershed-test")
            .setDatasetId("warehouse")
            .setTableId("account"));
  }

  @Test
  void appendsExactlyOnceIntoATableCreatedFromTheModel(TestPipeline pipeline) throws Exception {
    rows(
            pipeline,
            account("bill-1", "10.50", "2024-03-01T10:00:00Z", "{\"tier\":\"gold\"}"),
            account("bill-2", "-3.00", "2024-03-02T11:30:00.123456Z", null))
        .apply(
            BigQueryLoad.into(TABLE, ACCOUNT)
                .withMode(WriteMode.APPEND)
                .withPartitioning("opened")
                .withClustering(List.of("account_id"))
                .withJsonFields(List.of("profile"))
                .withTestServices(services));
    pipeline.run().waitUntilFinish();

    Table table = table();
    List<String> types = new ArrayList<>();
    for (TableFieldSchema field : table.getSchema().getFields()) {
      types.add(field.getName() + " " + field.getType());
    }
    assertEquals(
        List.of(
            "account_id STRING",
            "balance NUMERIC",
            "exposure BIGNUMERIC",
            "opened DATE",
            "updated_at TIMESTAMP",
            "active BOOL",
            "visits INT64",
            "profile JSON",
            "_source STRING"),
        types);
    assertEquals("opened", table.getTimePartitioning().getField());
    assertEquals(List.of("account_id"), table.getClustering().getFields());
    assertEquals(
        List.of(
            "{_source=billing, account_id=bill-1, active=true, balance=10.5, "
                + "exposure=12345678901234567890123456.123456789012, opened=2024-02-29, "
                + "profile={\"tier\":\"gold\"}, updated_at=2024-03-01 T10:00:00, visits=42}",
            "{_source=billing, account_id=bill-2, active=true, balance=-3, "
                + "exposure=12345678901234567890123456.123456789012, opened=2024-02-29, "
                + "updated_at=2024-03-02 T11:30:00.123456, visits=42}"),
        tableRows());
  }

  @Test
  void mergesUpsertByTheKeyAndTheNewestVersionWins(TestPipeline pipeline) throws Exception {
    rows(
            pipeline,
            account("bill-1", "1.00", "2024-03-01T00:00:00Z", null),
            account("bill-1", "3.00", "2024-03-03T00:00:00Z", null),
            account("bill-1", "2.00", "2024-03-02T00:00:00Z", null),
            account("bill-2", "7.00", "2024-03-01T00:00:00Z", null))
        .apply(
            BigQueryLoad.into(TABLE, ACCOUNT)
                .withMode(WriteMode.MERGE)
                .withVersionColumn("updated_at", Instant.parse("2024-06-01T00:00:00Z"))
                .withTestServices(services));
    pipeline.run().waitUntilFinish();
    List<String> balances = new ArrayList<>();
    for (TableRow row : datasets.getAllRows("watershed-test", "warehouse", "account")) {
      balances.add(row.get("account_id") + " " + row.get("balance"));
    }
    balances.sort(null);
    assertEquals(List.of("bill-1 3", "bill-2 7"), balances);
    assertEquals(List.of("account_id"), table().getTableConstraints().getPrimaryKey().getColumns());
  }

  @Test
  void aClosedQualityGateWritesNoRowAtAll(TestPipeline pipeline) throws Exception {
    org.apache.beam.sdk.values.PCollectionView<Boolean> closed =
        pipeline
            .apply("Gate", Create.of(false))
            .apply(org.apache.beam.sdk.transforms.View.asSingleton());
    rows(
            pipeline,
            account("bill-1", "1.00", "2024-03-01T00:00:00Z", null),
            account("bill-2", "2.00", "2024-03-01T00:00:00Z", null))
        .apply(
            BigQueryLoad.into(TABLE, ACCOUNT)
                .withMode(WriteMode.APPEND)
                .withGate(closed)
                .withTestServices(services));
    pipeline.run().waitUntilFinish();
    Table table = table();
    assertEquals(
        List.of(),
        table == null ? List.of() : datasets.getAllRows("watershed-test", "warehouse", "account"),
        "a closed gate loads nothing");
  }

  @Test
  void rowsBigQueryRejectsBecomeDeadLettersWithTheirKeyAndPayload(TestPipeline pipeline)
      throws Exception {
    datasets.setShouldFailRow(
        (java.util.function.Function<TableRow, Boolean> & java.io.Serializable)
            row -> "bill-2".equals(row.get("account_id")));
    PCollection<Row> deadLetters =
        rows(
                pipeline,
                account("bill-1", "1.00", "2024-03-01T00:00:00Z", null),
                account("bill-2", "2.00", "2024-03-01T00:00:00Z", null))
            .apply(
                BigQueryLoad.into(TABLE, ACCOUNT)
                    .withMode(WriteMode.APPEND)
                    .withAtLeastOnce()
                    .withTestServices(services));
    PAssert.that(
            deadLetters.apply(
                MapElements.into(TypeDescriptors.strings())
                    .via(
                        (Row d) ->
                            String.join(
                                " | ",
                                d.getString(DeadLetter.STAGE),
                                d.getString(DeadLetter.REASON),
                                d.getString(DeadLetter.SOURCE),
                                d.getString(DeadLetter.POSITION),
                                String.valueOf(
                                    d.getString(DeadLetter.PAYLOAD).contains("\"bill-2\""))))))
        .containsInAnyOrder(
            "load | rejected by BigQuery | billing | table " + TABLE + " key bill-2 | true");
    pipeline.run().waitUntilFinish();
    List<String> ids = new ArrayList<>();
    for (TableRow row : datasets.getAllRows("watershed-test", "warehouse", "account")) {
      ids.add(String.valueOf(row.get("account_id")));
    }
    assertEquals(List.of("bill-1"), ids);
  }
}
