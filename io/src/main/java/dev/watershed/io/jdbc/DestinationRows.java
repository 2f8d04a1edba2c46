package dev.watershed.io.jdbc;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The rows of a model already loaded into a destination table, typed as the model's rows again (its
 * data fields and {@code _source}; {@code _position} names the table); nothing when the table does
 * not exist yet. Identity resolution reads them to match new records against earlier ones.
 */
public final class DestinationRows extends PTransform<PBegin, PCollection<Row>> {
  private final JdbcEndpoint endpoint;
  private final String table;
  private final CanonicalModel model;

  private DestinationRows(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    this.endpoint = endpoint;
    this.table = table;
    this.model = model;
  }

  public static DestinationRows of(JdbcEndpoint endpoint, String table, CanonicalModel model) {
    return new DestinationRows(endpoint, table, model);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
  }

  @Override
  public PCollection<Row> expand(PBegin input) {
    return input
        .apply("Table", Create.of(table))
        .apply("ReadRows", ParDo.of(new ReadFn(endpoint, model)))
        .setRowSchema(model.schema());
  }

  private static final class ReadFn extends DoFn<String, Row> {
    private final JdbcEndpoint endpoint;
    private final CanonicalModel model;

    ReadFn(JdbcEndpoint endpoint, CanonicalModel model) {
      this.endpoint = endpoint;
      this.model = model;
    }

    @ProcessElement
    public void process(@Element String table, OutputReceiver<Row> out) throws SQLException {
      Dialect dialect = endpoint.dialect();
      List<Schema.Field> fields = new ArrayList<>(model.dataFields());
      fields.add(model.schema().getField(RawRecords.SOURCE));
      List<String> names = fields.stream().map(Schema.Field::getName).toList();
      try (Connection connection = endpoint.connect();
          Statement statement = connection.createStatement()) {
        try {
          statement.executeQuery("SELECT 1 FROM " + dialect.quote(table) + " WHERE 1 = 0").close();
        } catch (SQLException e) {
          return; // no earlier run loaded the table
        }
        connection.setAutoCommit(
            false); // PostgreSQL streams by the fetch size only in a transaction
        statement.setFetchSize(1000);
        String sql = "SELECT " + dialect.columnList(names) + " FROM " + dialect.quote(table);
        try (ResultSet result = statement.executeQuery(sql)) {
          while (result.next()) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < fields.size(); i++) {
              values.add(value(result, i + 1, fields.get(i)));
            }
            values.add("table " + table);
            for (int i = values.size(); i < model.schema().getFieldCount(); i++) {
              values.add(null);
            }
            out.output(Row.withSchema(model.schema()).attachValues(values));
          }
        }
      }
    }
  }

  /** A column's value as the model field's Java type. */
  static Object value(ResultSet result, int column, Schema.Field field) throws SQLException {
    Object value;
    switch (ModelTypes.kind(field)) {
      case INT:
        value = result.getInt(column);
        break;
      case LONG:
        value = result.getLong(column);
        break;
      case BOOLEAN:
        value = result.getBoolean(column);
        break;
      case DECIMAL:
        BigDecimal decimal = result.getBigDecimal(column);
        value =
            decimal == null
                ? null
                : decimal.setScale(ModelTypes.scale(field), RoundingMode.HALF_UP);
        break;
      case DATE:
        String date = result.getString(column);
        value = date == null ? null : LocalDate.parse(date.trim().substring(0, 10));
        break;
      case TIMESTAMP:
        String timestamp = result.getString(column);
        value = timestamp == null ? null : ModelTypes.instant(timestamp);
        break;
      default:
        value = result.getString(column);
    }
    return result.wasNull() ? null : value;
  }
}
