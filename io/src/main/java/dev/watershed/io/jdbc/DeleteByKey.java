package dev.watershed.io.jdbc;

import dev.watershed.transforms.metrics.RunCounters;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * Deletes the rows of a destination table whose key column holds one of the given values, all in
 * one transaction, and only when the run's gate allows commits. Identity resolution retires the
 * golden rows of ids merged into others with it.
 */
public final class DeleteByKey extends PTransform<PCollection<String>, PCollection<Long>> {
  private final JdbcEndpoint endpoint;
  private final String table;
  private final String column;
  private final PCollectionView<Boolean> gate;
  private final String counter;

  private DeleteByKey(
      JdbcEndpoint endpoint,
      String table,
      String column,
      PCollectionView<Boolean> gate,
      String counter) {
    this.endpoint = endpoint;
    this.table = table;
    this.column = column;
    this.gate = gate;
    this.counter = counter;
  }

  public static DeleteByKey from(JdbcEndpoint endpoint, String table, String column) {
    return new DeleteByKey(endpoint, table, column, null, "deleted." + table);
  }

  /** Deletes nothing unless the view holds true (the quality gate). */
  public DeleteByKey withGate(PCollectionView<Boolean> commitAllowed) {
    return new DeleteByKey(endpoint, table, column, commitAllowed, counter);
  }

  /** The run counter that counts deleted rows. */
  public DeleteByKey withCounter(String name) {
    return new DeleteByKey(endpoint, table, column, gate, name);
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("database", endpoint.describe()));
    builder.add(DisplayData.item("table", table));
    builder.add(DisplayData.item("keyColumn", column));
  }

  @Override
  public PCollection<Long> expand(PCollection<String> keys) {
    ParDo.SingleOutput<KV<String, Iterable<String>>, Long> delete = ParDo.of(new DeleteFn(this));
    return keys.apply("AllKeys", WithKeys.of(""))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StringUtf8Coder.of()))
        .apply("Together", GroupByKey.create())
        .apply("Delete", gate == null ? delete : delete.withSideInputs(gate));
  }

  private static final class DeleteFn extends DoFn<KV<String, Iterable<String>>, Long> {
    private final DeleteByKey spec;
    private final Counter deleted;

    DeleteFn(DeleteByKey spec) {
      this.spec = spec;
      this.deleted = RunCounters.counter(spec.counter);
    }

    @ProcessElement
    public void process(ProcessContext context) throws SQLException {
      if (spec.gate != null && !context.sideInput(spec.gate)) {
        context.output(0L);
        return;
      }
      Dialect dialect = spec.endpoint.dialect();
      long rows = 0;
      try (Connection connection = spec.endpoint.connect()) {
        try (Statement probe = connection.createStatement()) {
          probe.executeQuery("SELECT 1 FROM " + dialect.quote(spec.table) + " WHERE 1 = 0").close();
        } catch (SQLException e) {
          context.output(0L);
          return; // nothing loaded yet, nothing to delete
        }
        connection.setAutoCommit(false);
        try (PreparedStatement statement =
            connection.prepareStatement(
                "DELETE FROM "
                    + dialect.quote(spec.table)
                    + " WHERE "
                    + dialect.quote(spec.column)
                    + " = ?")) {
          for (String key : context.element().getValue()) {
            statement.setString(1, key);
            rows += statement.executeUpdate();
          }
          connection.commit();
        } catch (SQLException e) {
          connection.rollback();
          throw e;
        }
      }
      deleted.inc(rows);
      context.output(rows);
    }
  }
}
