package dev.watershed.pipelines.sinks;

import dev.watershed.io.WriteMode;
import dev.watershed.io.jdbc.ChangeApply;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcLoad;
import dev.watershed.io.sync.RecordLedger;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.LoadContext;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.SinkBasics;
import dev.watershed.pipelines.config.SinkType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.SyncSpec;
import dev.watershed.pipelines.config.TableSink;
import dev.watershed.pipelines.config.YamlObject;
import dev.watershed.transforms.model.CanonicalModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * The database sinks: {@code duckdb} (a file), {@code postgres} and {@code mariadb} (servers). Each
 * model loads into a table of its name, staged and committed in one transaction with the sources'
 * read marks.
 */
public abstract class TableSinkType implements SinkType {
  private static final Key DELETES =
      Key.oneOf(
          "deletes",
          "how a change stream's deletes are applied: hard (default) removes the row, soft marks"
              + " it",
          "hard",
          "soft");

  /**
   * A database sink: a DuckDB file ({@code path}) or a server ({@code url}, {@code user}, {@code
   * password}, and the {@code schema} tables go in, null for the default).
   */
  public record Config(
      SinkBasics basics,
      String path,
      String url,
      String user,
      String password,
      String schema,
      String deletes,
      SyncSpec sync)
      implements TableSink {
    @Override
    public JdbcEndpoint endpoint(Spec spec) {
      if (path != null) {
        return JdbcEndpoint.of("jdbc:duckdb:" + spec.resolve(path));
      }
      return JdbcEndpoint.of(url).withUser(user).withPassword(password);
    }

    @Override
    public PCollection<Row> load(PCollection<Row> rows, String step, LoadContext context) {
      Spec spec = context.spec();
      CanonicalModel model = context.model();
      String table = tableOf(model.name());
      String version = context.versionColumn();
      JdbcLoad jdbc =
          JdbcLoad.into(endpoint(spec), table, model)
              .withPipeline(spec.name())
              .withMode(context.mode())
              .withVersionColumn(version)
              .withSinkName(name());
      if (model.tracksChanges()) {
        jdbc = jdbc.withDeletes(ChangeApply.Deletes.valueOf(deletes.toUpperCase(Locale.ROOT)));
      }
      if (spec.isStreaming()) {
        jdbc = jdbc.perBundle();
      } else {
        jdbc =
            jdbc.withGate(context.gate())
                .withState(spec.name(), context.marks())
                .withFoundMarks(context.foundMarks());
      }
      PCollection<Long> committed = rows.apply(step, jdbc);
      if (context.ledger() != null) {
        rows.apply(
            step + " ledger",
            RecordLedger.after(committed, context.ledger(), model, context.gate()));
      }
      return null;
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return "sink " + name() + " (" + type() + ")";
    }
  }

  @Override
  public WriteMode defaultMode() {
    return WriteMode.MERGE;
  }

  @Override
  public List<WriteMode> modes() {
    return List.of(WriteMode.MERGE, WriteMode.APPEND, WriteMode.OVERWRITE);
  }

  /** {@code duckdb}: a DuckDB database file, the embedded default warehouse. */
  public static final class DuckDb extends TableSinkType {
    @Override
    public String name() {
      return "duckdb";
    }

    @Override
    public String description() {
      return "tables in a DuckDB database file";
    }

    @Override
    public List<Key> keys() {
      return List.of(
          Key.string("path", "the database file, relative to the spec's folder"),
          DELETES,
          SyncSpec.key());
    }

    @Override
    public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
      return new Config(
          basics,
          block.string("path", true),
          null,
          null,
          null,
          null,
          deletes(block),
          sync(basics, block));
    }
  }

  /** {@code postgres}: tables in a PostgreSQL database. */
  public static final class Postgres extends TableSinkType {
    @Override
    public String name() {
      return "postgres";
    }

    @Override
    public String description() {
      return "tables in a PostgreSQL database (loaded with COPY)";
    }

    @Override
    public List<Key> keys() {
      return serverKeys("jdbc:postgresql://host:5432/db");
    }

    @Override
    public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
      return server(basics, block, Dialect.POSTGRES, "jdbc:postgresql:");
    }
  }

  /** {@code mariadb}: tables in a MariaDB or MySQL database. */
  public static final class MariaDb extends TableSinkType {
    @Override
    public String name() {
      return "mariadb";
    }

    @Override
    public String description() {
      return "tables in a MariaDB or MySQL database";
    }

    @Override
    public List<Key> keys() {
      return serverKeys("jdbc:mariadb://host:3306/db");
    }

    @Override
    public Config parse(SinkBasics basics, YamlObject block, ParseContext context) {
      return server(basics, block, Dialect.MARIADB, "jdbc:mariadb: or jdbc:mysql:");
    }
  }

  private static List<Key> serverKeys(String example) {
    List<Key> keys = new ArrayList<>();
    keys.add(Key.string("url", "the JDBC URL, such as " + example));
    keys.add(Key.string("user", "the database user"));
    keys.add(Key.string("password", "the password; write it as ${env:NAME} or ${file:PATH}"));
    keys.add(Key.string("schema", "the database schema the tables go in (default: the user's)"));
    keys.add(DELETES);
    keys.add(SyncSpec.key());
    return List.copyOf(keys);
  }

  Config server(SinkBasics basics, YamlObject block, Dialect dialect, String urlForm) {
    String url = block.string("url", true);
    if (url != null) {
      try {
        if (Dialect.of(url) != dialect) {
          block.error("url", "a " + name() + " sink needs a " + urlForm + " url");
        }
      } catch (IllegalArgumentException e) {
        block.error("url", e.getMessage());
      }
    }
    return new Config(
        basics,
        null,
        url,
        block.string("user", false),
        block.string("password", false),
        block.string("schema", false),
        deletes(block),
        sync(basics, block));
  }

  /** A table sink's {@code sync:}: the diff is applied as changes, so the table merges. */
  static SyncSpec sync(SinkBasics basics, YamlObject block) {
    SyncSpec sync = SyncSpec.parse(block);
    if (sync != null && basics.mode() != WriteMode.MERGE) {
      block.error(
          "sync",
          "a synced table applies changes by key; set write: merge (it is "
              + basics.mode().specName()
              + ")");
    }
    return sync;
  }

  static String deletes(YamlObject block) {
    String deletes = block.string("deletes", "hard");
    if (!deletes.equals("hard") && !deletes.equals("soft")) {
      block.error("deletes", "unknown delete policy '" + deletes + "'; allowed: hard, soft");
    }
    return deletes;
  }
}
