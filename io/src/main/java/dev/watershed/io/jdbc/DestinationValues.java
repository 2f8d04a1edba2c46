package dev.watershed.io.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

/**
 * The values of one column already in a destination table, each with the key of its row, as {@code
 * KV(value text, key text)}; nothing when the table does not exist yet. Quality rules use it to
 * check uniqueness against what earlier runs loaded. Key text joins the key columns' values as
 * {@code Dedupe} does.
 */
public final class DestinationValues extends PTransform<PBegin, PCollection<KV<String, String>>> {
  private final JdbcEndpoint endpoint;
  private final String table;
  private final List<String> key;
  private final String column;
  private final char separator;

  private DestinationValues(JdbcEndpoint endpoint, String table, List<String> key, String column) {
    this(endpoint, table, key, column, '\u0001');
  }

  private DestinationValues(
      JdbcEndpoint endpoint, String table, List<String> key, String column, char separator) {
    this.separator = separator;
    this.endpoint = endpoint;
    this.table = table;
    this.key = List.copyOf(key);
    this.column = column;
  }

  public static DestinationValues of(
      JdbcEndpoint endpoint, String table, List<String> key, String column) {
    return new DestinationValues(endpoint, table, key, column);
  }

  /**
   * Rows of a destination table as {@code KV(column value, the other columns' values each followed
   * by |)}; nothing when the table does not exist yet. E.g. a crosswalk's {@code source_id} with
   * {@code golden_id|first_seen|}.
   */
  public static DestinationValues rows(
      JdbcEndpoint endpoint, String table, String column, List<String> others) {
    return new DestinationValues(endpoint, table, others, column, '|');
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("key", String.join(", ", key)));
  }

  @Override
  public PCollection<KV<String, String>> expand(PBegin input) {
    return input
        .apply("Table", Create.of(table))
        .apply("ReadValues", ParDo.of(new ReadFn(endpoint, key, column, separator)))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()));
  }

  private static final class ReadFn extends DoFn<String, KV<String, String>> {
    private final JdbcEndpoint endpoint;
    private final List<String> key;
    private final String column;
    private final char separator;

    ReadFn(JdbcEndpoint endpoint, List<String> key, String column, char separator) {
      this.separator = separator;
      this.endpoint = endpoint;
      this.key = key;
      this.column = column;
    }

    @ProcessElement
    public void process(@Element String table, OutputReceiver<KV<String, String>> out)
        throws SQLException {
      Dialect dialect = endpoint.dialect();
      try (Connection connection = endpoint.connect();
          Statement statement = connection.createStatement()) {
        try {
          statement.executeQuery("SELECT 1 FROM " + dialect.quote(table) + " WHERE 1 = 0").close();
        } catch (SQLException e) {
          return; // the first load creates the table: nothing to compare with yet
        }
        String sql =
            "SELECT "
                + dialect.quote(column)
                + ", "
                + dialect.columnList(key)
                + " FROM "
                + dialect.quote(table)
                + " WHERE "
                + dialect.quote(column)
                + " IS NOT NULL";
        try (ResultSet result = statement.executeQuery(sql)) {
          while (result.next()) {
            StringBuilder keyText = new StringBuilder();
            for (int k = 0; k < key.size(); k++) {
              keyText.append(result.getString(k + 2));
              if (key.size() > 1) {
                keyText.append(separator);
              }
            }
            out.output(KV.of(result.getString(1), keyText.toString()));
          }
        }
      }
    }
  }
}
