package dev.watershed.peers;

import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.SerializableBiFunction;
import org.apache.beam.sdk.transforms.Values;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The benchmark's loads written with stock Beam as its documentation shows them: {@code
 * JdbcIO.readRows()} and {@code JdbcIO.write().withTable()} with their defaults, the email
 * lower-cased by {@code MapElements}, for the dedupe scenario {@code Combine.perKey} keeping the
 * newest row of each customer_key, on the Direct runner with its default options. This is what
 * Watershed's loaders and runner defaults replace.
 *
 * <p>Usage: {@code BeamJdbcIoLoad append|merge JDBC_URL SOURCE_TABLE TARGET_TABLE}
 */
public final class BeamJdbcIoLoad {
  private BeamJdbcIoLoad() {}

  /** Keeps the row with the later updated_at; ties by id, so the choice is deterministic. */
  static final class Latest implements SerializableBiFunction<Row, Row, Row> {
    @Override
    public Row apply(Row a, Row b) {
      int byTime = a.getDateTime("updated_at").compareTo(b.getDateTime("updated_at"));
      if (byTime != 0) {
        return byTime > 0 ? a : b;
      }
      return a.getInt64("id") <= b.getInt64("id") ? a : b;
    }
  }

  public static void main(String[] args) {
    String scenario = args[0];
    String url = args[1];
    String source = args[2];
    String target = args[3];
    JdbcIO.DataSourceConfiguration database =
        JdbcIO.DataSourceConfiguration.create("org.postgresql.Driver", url)
            .withUsername("postgres");
    Pipeline pipeline = Pipeline.create(PipelineOptionsFactory.fromArgs().create());
    PCollection<Row> rows =
        pipeline.apply(
            "Read",
            JdbcIO.readRows()
                .withDataSourceConfiguration(database)
                .withQuery(
                    "SELECT id, customer_key, first_name, last_name, email, amount, currency,"
                        + " created_at, updated_at FROM "
                        + source));
    Schema schema = rows.getSchema();
    rows =
        rows.apply(
                "LowerEmail",
                MapElements.into(TypeDescriptor.of(Row.class))
                    .via(
                        (Row row) ->
                            Row.fromRow(row)
                                .withFieldValue("email", row.getString("email").toLowerCase())
                                .build()))
            .setRowSchema(schema);
    if (scenario.equals("merge")) {
      rows =
          rows.apply(
                  "KeyByCustomer",
                  WithKeys.of((Row row) -> row.getInt64("customer_key"))
                      .withKeyType(TypeDescriptors.longs()))
              .setCoder(KvCoder.of(VarLongCoder.of(), rows.getCoder()))
              .apply("Latest", Combine.perKey(Combine.BinaryCombineFn.of(new Latest())))
              .apply("Rows", Values.create())
              .setRowSchema(schema);
    }
    rows.apply(
        "Write", JdbcIO.<Row>write().withDataSourceConfiguration(database).withTable(target));
    pipeline.run().waitUntilFinish();
  }
}
