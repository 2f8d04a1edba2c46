package dev.watershed.io.sync;

import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.records.RawRecords;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import org.apache.beam.sdk.values.Row;

/**
 * What one destination last received of one model, per key: the table {@value #TABLE} holds a row
 * per (pipeline, destination, model, key) with the key's values as JSON and a hash of the row the
 * destination acknowledged. A diff-based sync ({@link SyncDiff}) sends only rows whose hash differs
 * from the ledger's (and, mirroring, deletes keys the source no longer has); the destination's sink
 * records a key only after the destination accepted it, so a row it refused, or a run that failed
 * before it was sent, is sent again by the next run, and each destination keeps its own ledger.
 *
 * <p>The ledger lives in a database of its own choosing: a DuckDB file beside the spec by default,
 * or PostgreSQL/MariaDB when workers run on other machines.
 *
 * @param endpoint the database holding the ledger
 * @param pipeline the spec's name
 * @param destination the sink's name
 * @param model the model's name
 */
public record SyncLedger(JdbcEndpoint endpoint, String pipeline, String destination, String model)
    implements Serializable {

  /** The ledger table. */
  public static final String TABLE = "_watershed_sync";

  /** A key as the ledger holds it: its text (the grouping key), its values as JSON, its hash. */
  public record Entry(String keyText, String keyJson, String hash) implements Serializable {}

  /**
   * What one worker's destination accepted since the last {@link #flush}: rows as received, deletes
   * as removed keys. Not thread-safe; one per DoFn instance.
   */
  public static final class Accepted {
    private final SyncLedger ledger;
    private final CanonicalModel model;
    private List<Entry> received = new ArrayList<>();
    private List<String> removed = new ArrayList<>();

    public Accepted(SyncLedger ledger, CanonicalModel model) {
      this.ledger = ledger;
      this.model = model;
    }

    public void add(Row row) {
      if (RawRecords.isDeleted(row)) {
        removed.add(CanonicalModel.keyText(row, model.key()));
      } else {
        received.add(SyncDiff.entry(row, model));
      }
    }

    /** Writes what was added to the ledger, in one transaction. */
    public void flush() throws SQLException {
      ledger.record(received, removed);
      received = new ArrayList<>();
      removed = new ArrayList<>();
    }
  }

  /** Workers of one JVM write one DuckDB file in turns (concurrent upserts can conflict). */
  private static final Object WRITE_LOCK = new Object();

  /**
   * Creates the ledger table when missing. Workers of one JVM take turns: DuckDB refuses two
   * concurrent creates of one table ("write-write conflict"), even with IF NOT EXISTS.
   */
  public void prepare(Connection connection) throws SQLException {
    synchronized (WRITE_LOCK) {
      create(connection);
    }
  }

  private void create(Connection connection) throws SQLException {
    Dialect dialect = endpoint.dialect();
    // MariaDB limits a key to 3072 bytes (4 per character): names of 100, key text of 400.
    String text = dialect == Dialect.MARIADB ? "VARCHAR(100)" : "VARCHAR";
    String keyText = dialect == Dialect.MARIADB ? "VARCHAR(400)" : "VARCHAR";
    String json = dialect == Dialect.MARIADB ? "TEXT" : "VARCHAR";
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (pipeline "
              + text
              + " NOT NULL, destination "
              + text
              + " NOT NULL, model "
              + text
              + " NOT NULL, key_text "
              + keyText
              + " NOT NULL, key_json "
              + json
              + " NOT NULL, hash "
              + text
              + " NOT NULL, synced_at TIMESTAMP, PRIMARY KEY (pipeline, destination, model,"
              + " key_text))");
    }
  }

  /** Hands every entry of this destination and model to {@code entries}. */
  public void read(Consumer<Entry> entries) throws SQLException {
    try (Connection connection = endpoint.connect()) {
      prepare(connection);
      try (PreparedStatement select =
          connection.prepareStatement(
              "SELECT key_text, key_json, hash FROM "
                  + TABLE
                  + " WHERE pipeline = ? AND destination = ? AND model = ?")) {
        select.setString(1, pipeline);
        select.setString(2, destination);
        select.setString(3, model);
        select.setFetchSize(10_000);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            entries.accept(new Entry(rows.getString(1), rows.getString(2), rows.getString(3)));
          }
        }
      }
    }
  }

  /** Keys per statement: multi-row statements, as a per-row batch costs DuckDB a statement each. */
  static final int CHUNK = 500;

  /**
   * Records what the destination accepted: {@code received} keys now hold their new hash (an
   * upsert), {@code removed} keys are gone from it. One transaction, in statements of {@value
   * #CHUNK} keys (a million keys through per-row JDBC batches took DuckDB over six minutes).
   */
  public void record(Collection<Entry> received, Collection<String> removed) throws SQLException {
    if (received.isEmpty() && removed.isEmpty()) {
      return;
    }
    List<String> keys = new ArrayList<>(removed);
    List<Entry> entries = new ArrayList<>(received);
    synchronized (WRITE_LOCK) {
      try (Connection connection = endpoint.connect()) {
        prepare(connection);
        connection.setAutoCommit(false);
        Timestamp now = Timestamp.from(Instant.now());
        try {
          for (int from = 0; from < keys.size(); from += CHUNK) {
            List<String> chunk = keys.subList(from, Math.min(keys.size(), from + CHUNK));
            try (PreparedStatement delete =
                connection.prepareStatement(
                    "DELETE FROM "
                        + TABLE
                        + " WHERE pipeline = ? AND destination = ? AND model = ? AND key_text IN ("
                        + String.join(", ", Collections.nCopies(chunk.size(), "?"))
                        + ")")) {
              delete.setString(1, pipeline);
              delete.setString(2, destination);
              delete.setString(3, model);
              for (int i = 0; i < chunk.size(); i++) {
                delete.setString(4 + i, chunk.get(i));
              }
              delete.executeUpdate();
            }
          }
          for (int from = 0; from < entries.size(); from += CHUNK) {
            List<Entry> chunk = entries.subList(from, Math.min(entries.size(), from + CHUNK));
            try (PreparedStatement insert =
                connection.prepareStatement(
                    "INSERT INTO "
                        + TABLE
                        + " (pipeline, destination, model, key_text, key_json, hash, synced_at)"
                        + " VALUES "
                        + String.join(
                            ", ", Collections.nCopies(chunk.size(), "(?, ?, ?, ?, ?, ?, ?)"))
                        + replaceOnConflict())) {
              int p = 1;
              for (Entry entry : chunk) {
                insert.setString(p++, pipeline);
                insert.setString(p++, destination);
                insert.setString(p++, model);
                insert.setString(p++, entry.keyText());
                insert.setString(p++, entry.keyJson());
                insert.setString(p++, entry.hash());
                insert.setTimestamp(p++, now);
              }
              insert.executeUpdate();
            }
          }
          connection.commit();
        } catch (SQLException e) {
          connection.rollback();
          throw e;
        }
      }
    }
  }

  /** The clause that makes an insert replace a key's entry. */
  private String replaceOnConflict() {
    if (endpoint.dialect() == Dialect.MARIADB) {
      return " ON DUPLICATE KEY UPDATE key_json = VALUES(key_json), hash = VALUES(hash),"
          + " synced_at = VALUES(synced_at)";
    }
    return " ON CONFLICT (pipeline, destination, model, key_text) DO UPDATE SET key_json ="
        + " excluded.key_json, hash = excluded.hash, synced_at = excluded.synced_at";
  }

  /** Never shows credentials. */
  @Override
  public String toString() {
    return "sync ledger of " + destination + "." + model + " in " + endpoint.describe();
  }
}
