package dev.watershed.pipelines.sources;

import dev.watershed.io.Reachable;
import dev.watershed.io.SourceSizes;
import dev.watershed.io.drift.SourceSchemas;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.IncrementalRange;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.io.jdbc.JdbcSource;
import dev.watershed.pipelines.config.DatasetName;
import dev.watershed.pipelines.config.Key;
import dev.watershed.pipelines.config.ParseContext;
import dev.watershed.pipelines.config.ReadContext;
import dev.watershed.pipelines.config.ReadRange;
import dev.watershed.pipelines.config.SourceBasics;
import dev.watershed.pipelines.config.SourceConfig;
import dev.watershed.pipelines.config.SourceType;
import dev.watershed.pipelines.config.Spec;
import dev.watershed.pipelines.config.YamlObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** {@code type: jdbc}: a table or query of PostgreSQL, MariaDB/MySQL or DuckDB. */
public final class JdbcSourceType implements SourceType {
  /** Key ranges a whole-table read is split into (more than workers, to even them out). */
  static final int READ_PARTITIONS = 8;

  /**
   * An incremental source: a run reads only rows past the mark (the greatest {@code column}, then
   * {@code tieBreak}, value loaded so far).
   */
  public record Incremental(String column, String tieBreak) {}

  /**
   * A database source: one of {@code table} and {@code query}; {@code key} the columns that
   * identify a row (they split a whole-table read); {@code initSql} a file run on each connection
   * first; {@code incremental} null when read whole.
   */
  public record Config(
      SourceBasics basics,
      String url,
      String user,
      String password,
      String table,
      String query,
      List<String> key,
      String initSql,
      int fetchSize,
      Incremental incremental)
      implements SourceConfig {

    /** The database, with the spec's credentials. */
    public JdbcEndpoint endpoint() {
      return JdbcEndpoint.of(url).withUser(user).withPassword(password);
    }

    @Override
    public PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> read(
        ReadContext context) {
      JdbcEndpoint endpoint = endpoint();
      JdbcSource read =
          JdbcSource.read(name(), endpoint)
              .withMissingColumns(context.missingColumns())
              .withColumns(context.columns())
              .withKeyColumns(key)
              .withFetchSize(fetchSize)
              // A whole table with an integer key is read in key ranges, on every worker.
              .withPartitions(READ_PARTITIONS);
      ReadRange range = context.range();
      if (incremental != null) {
        IncrementalRange.Bound bound =
            IncrementalRange.query(
                endpoint.dialect(),
                table,
                query,
                incremental.column(),
                incremental.tieBreak(),
                range == null ? null : range.from(),
                range == null ? null : range.to());
        read = read.fromQuery(bound.sql(), bound.parameters());
      } else {
        read = table != null ? read.fromTable(table) : read.fromQuery(query);
      }
      if (initSql != null) {
        read = read.withInitSql(context.spec().resolve(initSql));
      }
      return read;
    }

    @Override
    public void checkReachable(Spec spec, String where) throws Exception {
      // An in-memory DuckDB is created by connecting: nothing to reach.
      if (!url.equals("jdbc:duckdb:")) {
        Reachable.jdbc(where, endpoint());
      }
    }

    @Override
    public DatasetName datasetName(Spec spec) {
      // A query is named by the source: what it reads is in its SQL.
      return DatasetName.table(url, table != null ? table : name());
    }

    /** A whole table's estimate; a query's or an incremental read's size is not known. */
    @Override
    public long estimatedRecords(Spec spec) {
      return table == null || incremental != null || initSql != null
          ? -1
          : SourceSizes.tableRows(endpoint(), table);
    }

    @Override
    public boolean readsMissingColumnsAsNull() {
      return false;
    }

    @Override
    public boolean readsInPart() {
      return incremental != null;
    }

    @Override
    public String currentMark() throws Exception {
      return IncrementalRange.currentMark(
          endpoint(), table, query, incremental.column(), incremental.tieBreak());
    }

    @Override
    public Map<String, String> observeColumns(Spec spec) throws Exception {
      return SourceSchemas.jdbc(
          endpoint(), table, query, initSql == null ? null : spec.resolve(initSql));
    }

    /** Never shows credentials. */
    @Override
    public String toString() {
      return "source " + name() + " (jdbc)";
    }
  }

  @Override
  public String name() {
    return "jdbc";
  }

  @Override
  public String description() {
    return "a table or query of PostgreSQL, MariaDB/MySQL or DuckDB";
  }

  @Override
  public List<Key> keys() {
    return List.of(
        Key.string("url", "the JDBC URL: jdbc:postgresql://, jdbc:mariadb://, jdbc:duckdb:..."),
        Key.string("user", "the database user"),
        Key.string("password", "the password; write it as ${env:NAME} or ${file:PATH}"),
        Key.string("table", "the table to read (or give query)"),
        Key.string("query", "a SELECT to read (or give table)"),
        Key.strings("key", "the columns identifying a row; an integer key splits the read"),
        Key.string("init_sql", "a SQL file run on each connection before reading"),
        Key.integer("fetch_size", "rows fetched per round trip (default 10000)"),
        Key.object(
            "incremental",
            "read only rows past the mark the last run committed",
            Key.string("column", "the column that grows with each change (updated_at, id)"),
            Key.string("tie_break", "a unique column ordering rows of equal column values")));
  }

  /**
   * A DuckDB file named by a relative path is the spec folder's, like every path in a spec (DuckDB
   * would otherwise open, and create empty, a file of that name in whatever folder the run starts
   * in); a file that is not there is a problem of the spec.
   */
  static String duckDbFile(String url, YamlObject block, ParseContext context) {
    String prefix = "jdbc:duckdb:";
    if (!url.startsWith(prefix)) {
      return url;
    }
    String rest = url.substring(prefix.length());
    int properties = rest.indexOf('?');
    String file = properties < 0 ? rest : rest.substring(0, properties);
    if (file.isEmpty() || file.startsWith(":memory:") || file.contains(":")) {
      return url;
    }
    context.checkFileExists(block, "url", file);
    return prefix + context.baseDir().resolve(file).normalize() + rest.substring(file.length());
  }

  @Override
  public Config parse(SourceBasics basics, YamlObject block, ParseContext context) {
    String url = block.string("url", true);
    if (url != null) {
      try {
        Dialect.of(url);
      } catch (IllegalArgumentException e) {
        block.error("url", e.getMessage());
      }
      url = duckDbFile(url, block, context);
    }
    String table = block.string("table", false);
    String query = block.string("query", false);
    if ((table == null) == (query == null)) {
      block.error(null, "give exactly one of 'table' and 'query'");
    }
    String initSql = block.string("init_sql", false);
    context.checkFileExists(block, "init_sql", initSql);
    int fetchSize = block.integer("fetch_size", 10_000);
    if (fetchSize < 1) {
      block.error("fetch_size", "must be at least 1");
    }
    Incremental incremental = null;
    if (block.has("incremental")) {
      YamlObject inc = block.object("incremental", true);
      inc.rejectUnknown(Set.of("column", "tie_break"));
      String column = inc.string("column", true);
      String tieBreak = inc.string("tie_break", true);
      if (column != null && tieBreak != null) {
        incremental = new Incremental(column, tieBreak);
      }
    }
    return new Config(
        basics,
        url,
        block.string("user", false),
        block.string("password", false),
        table,
        query,
        block.strings("key"),
        initSql,
        fetchSize,
        incremental);
  }
}
