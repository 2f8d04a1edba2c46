package dev.watershed.pipelines.config;

import dev.watershed.io.Reachable;
import dev.watershed.io.WriteMode;
import dev.watershed.io.jdbc.JdbcEndpoint;

/**
 * A sink that is a database (DuckDB, PostgreSQL, MariaDB): it can merge, keeps the sources' read
 * marks with the rows, and holds history, identity and drift tables beside the models'.
 */
public interface TableSink extends SinkConfig {
  /** The database, paths resolved against the spec's folder. */
  JdbcEndpoint endpoint(Spec spec);

  /** The database schema tables go in, or null for the default one. */
  String schema();

  /** How deletes from a change stream are applied: {@code hard} or {@code soft}. */
  String deletes();

  /** The table holding {@code table} (a model's or a companion's name). */
  default String tableOf(String table) {
    return schema() == null ? table : schema() + "." + table;
  }

  @Override
  default DatasetName datasetName(Spec spec, String model) {
    return DatasetName.table(endpoint(spec).url(), tableOf(model));
  }

  @Override
  default void checkReachable(Spec spec, String where) throws Exception {
    Reachable.jdbc(where, endpoint(spec));
  }

  @Override
  default boolean streams() {
    return mode() == WriteMode.MERGE;
  }
}
