package dev.watershed.peers;

import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;

/**
 * The benchmark's loads written in Flink SQL, batch mode, parallelism 2, with the JDBC connector
 * tuned as its documentation suggests: a read split on the integer key into 8 ranges with a fetch
 * size of 10,000, writes flushed every 10,000 rows with pgjdbc's batched-insert rewrite. The dedupe
 * is Flink's documented deduplication query (ROW_NUMBER over the key, newest first); the merge
 * target has a primary key, so the connector upserts ({@code INSERT ... ON CONFLICT}).
 *
 * <p>Usage: {@code FlinkSqlLoad append|merge JDBC_URL SOURCE_TABLE TARGET_TABLE MIN_ID MAX_ID}
 */
public final class FlinkSqlLoad {
  private FlinkSqlLoad() {}

  private static final String COLUMNS =
      "id BIGINT, customer_key BIGINT, first_name STRING, last_name STRING, email STRING,"
          + " amount DECIMAL(12, 2), currency STRING, created_at TIMESTAMP(6),"
          + " updated_at TIMESTAMP(6)";

  public static void main(String[] args) {
    String scenario = args[0];
    String url = args[1];
    String source = args[2];
    String target = args[3];
    long minId = Long.parseLong(args[4]);
    long maxId = Long.parseLong(args[5]);
    TableEnvironment tables = TableEnvironment.create(EnvironmentSettings.inBatchMode());
    tables.getConfig().set("parallelism.default", "2");
    tables.executeSql(
        "CREATE TABLE src ("
            + COLUMNS
            + ") WITH ('connector' = 'jdbc', 'url' = '"
            + url
            + "', 'table-name' = '"
            + source
            + "', 'username' = 'postgres', 'password' = '', 'scan.fetch-size' = '10000',"
            + " 'scan.partition.column' = 'id', 'scan.partition.num' = '8',"
            + " 'scan.partition.lower-bound' = '"
            + minId
            + "', 'scan.partition.upper-bound' = '"
            + maxId
            + "')");
    boolean merge = scenario.equals("merge");
    tables.executeSql(
        "CREATE TABLE dst ("
            + COLUMNS
            + (merge ? ", PRIMARY KEY (customer_key) NOT ENFORCED" : "")
            + ") WITH ('connector' = 'jdbc', 'url' = '"
            + url
            + (url.contains("?") ? "&" : "?")
            + "reWriteBatchedInserts=true', 'table-name' = '"
            + target
            + "', 'username' = 'postgres', 'password' = '', 'sink.buffer-flush.max-rows' = '10000',"
            + " 'sink.buffer-flush.interval' = '0')");
    String select =
        "SELECT id, customer_key, first_name, last_name, LOWER(email), amount, currency,"
            + " created_at, updated_at FROM ";
    String insert =
        merge
            ? "INSERT INTO dst "
                + select
                + "(SELECT *, ROW_NUMBER() OVER (PARTITION BY customer_key ORDER BY updated_at"
                + " DESC) AS rn FROM src) WHERE rn = 1"
            : "INSERT INTO dst " + select + "src";
    try {
      tables.executeSql(insert).await();
    } catch (Exception e) {
      throw new IllegalStateException("the Flink SQL job failed", e);
    }
  }
}
