package dev.watershed.pipelines.config;

import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.sync.SyncDiff;
import dev.watershed.io.sync.SyncLedger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A sink's {@code sync:} block: the sink receives only what changed since it last received the
 * model ({@link SyncDiff}), and keeps what it received in a ledger ({@link SyncLedger}).
 *
 * <pre>{@code
 * sync: { mode: mirror, ledger: .watershed/sync.duckdb }
 * }</pre>
 *
 * @param mode {@code upsert} (rows added or changed), {@code update} (only keys the sink received
 *     before) or {@code mirror} (deletes too)
 * @param ledger a DuckDB file (relative to the spec) or a JDBC URL of PostgreSQL or MariaDB
 */
public record SyncSpec(SyncDiff.Mode mode, String ledger) {
  /** Where the ledger is kept unless the spec says. */
  public static final String DEFAULT_LEDGER = ".watershed/sync.duckdb";

  /** The keys of a {@code sync:} block, for a sink type's {@code keys()}. */
  public static Key key() {
    return Key.object(
        "sync",
        "send only what changed since this sink last received it (a diff against its ledger)",
        Key.oneOf(
            "mode",
            "upsert (rows added or changed), update (only keys the sink received before) or"
                + " mirror (deletes too)",
            "upsert",
            "update",
            "mirror"),
        Key.string(
            "ledger",
            "where the sink's ledger is kept: a DuckDB file or a jdbc: URL (default "
                + DEFAULT_LEDGER
                + ")"));
  }

  /** The {@code sync:} block of {@code block}, or null when it has none. */
  public static SyncSpec parse(YamlObject block) {
    if (!block.has("sync")) {
      return null;
    }
    YamlObject sync = block.object("sync", true);
    sync.rejectUnknown(Set.of("mode", "ledger"));
    String mode = sync.string("mode", "upsert");
    if (!List.of("upsert", "update", "mirror").contains(mode)) {
      sync.error("mode", "unknown value '" + mode + "'; allowed: upsert, update, mirror");
      mode = "upsert";
    }
    return new SyncSpec(
        SyncDiff.Mode.valueOf(mode.toUpperCase(Locale.ROOT)),
        sync.string("ledger", DEFAULT_LEDGER));
  }

  /** The ledger of {@code destination}'s {@code model} in the run of {@code spec}. */
  public SyncLedger ledgerOf(Spec spec, String destination, String model) {
    JdbcEndpoint endpoint;
    if (ledger.startsWith("jdbc:") && !ledger.startsWith("jdbc:duckdb:")) {
      endpoint = JdbcEndpoint.of(ledger);
    } else {
      // A DuckDB file, named as a path or a jdbc:duckdb: URL, relative to the spec's folder.
      Path file = Path.of(spec.resolve(ledger.replaceFirst("^jdbc:duckdb:", "")));
      try {
        if (file.getParent() != null) {
          Files.createDirectories(file.getParent());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the folder of the sync ledger " + file, e);
      }
      endpoint = JdbcEndpoint.of("jdbc:duckdb:" + file);
    }
    return new SyncLedger(endpoint, spec.name(), destination, model);
  }
}
