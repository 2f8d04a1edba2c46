package dev.watershed.transforms.identity;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.records.RawRecords;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * Rows of another model, reshaped as rows of the model being resolved, so that they take part in
 * its identity resolution: a billing account's {@code customer_email} as a customer's {@code
 * email}. The row's key becomes the resolved model's key field; mapped fields are copied; lineage
 * ({@code _source}, {@code _position}) is kept; every other field is null.
 *
 * <pre>{@code
 * PCollection<Row> accountsAsCustomers =
 *     accounts.apply(IncludedRecords.of(customer, account, Map.of("email", "customer_email")));
 * }</pre>
 */
public final class IncludedRecords extends PTransform<PCollection<Row>, PCollection<Row>> {
  private final CanonicalModel resolved;
  private final CanonicalModel other;
  private final Map<String, String> fields;

  private IncludedRecords(
      CanonicalModel resolved, CanonicalModel other, Map<String, String> fields) {
    this.resolved = resolved;
    this.other = other;
    this.fields = Map.copyOf(fields);
  }

  /**
   * Rows of {@code other} as rows of {@code resolved}; {@code fields}: resolved field → other's.
   */
  public static IncludedRecords of(
      CanonicalModel resolved, CanonicalModel other, Map<String, String> fields) {
    return new IncludedRecords(resolved, other, fields);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("into", resolved.name()));
    builder.add(DisplayData.item("fields", new TreeMap<>(fields).toString()));
  }

  @Override
  public PCollection<Row> expand(PCollection<Row> rows) {
    return rows.apply("As" + resolved.name(), ParDo.of(new ReshapeFn(resolved, other, fields)))
        .setRowSchema(resolved.schema());
  }

  private static final class ReshapeFn extends DoFn<Row, Row> {
    private final CanonicalModel resolved;
    private final CanonicalModel other;
    private final Map<String, String> fields;

    ReshapeFn(CanonicalModel resolved, CanonicalModel other, Map<String, String> fields) {
      this.resolved = resolved;
      this.other = other;
      this.fields = fields;
    }

    @ProcessElement
    public void process(@Element Row row, OutputReceiver<Row> out) {
      String key = resolved.key().get(0);
      List<Object> values = new ArrayList<>();
      for (Schema.Field field : resolved.schema().getFields()) {
        String name = field.getName();
        if (name.equals(key)) {
          values.add(CanonicalModel.keyText(row, other.key()));
        } else if (name.equals(RawRecords.SOURCE) || name.equals(RawRecords.POSITION)) {
          values.add(row.getValue(name));
        } else {
          String from = fields.get(name);
          values.add(from == null ? null : row.getValue(from));
        }
      }
      out.output(Row.withSchema(resolved.schema()).attachValues(values));
    }
  }
}
