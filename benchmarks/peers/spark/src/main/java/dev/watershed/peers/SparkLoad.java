package dev.watershed.peers;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.lower;
import static org.apache.spark.sql.functions.row_number;

import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;

/**
 * The benchmark's loads written as a Spark user would, on {@code local[2]}: a JDBC read split on
 * the integer key (as many partitions as Watershed reads key ranges), the email lower-cased, for
 * the dedupe scenario the latest row per customer_key (a window, since {@code dropDuplicates} keeps
 * an arbitrary row and would fail the checksum), and a JDBC write in batches with pgjdbc's
 * batched-insert rewrite into an empty table.
 *
 * <p>Usage: {@code SparkLoad append|merge JDBC_URL SOURCE_TABLE TARGET_TABLE MIN_ID MAX_ID}
 */
public final class SparkLoad {
  private SparkLoad() {}

  public static void main(String[] args) {
    String scenario = args[0];
    String url = args[1];
    String source = args[2];
    String target = args[3];
    long minId = Long.parseLong(args[4]);
    long maxId = Long.parseLong(args[5]);
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("watershed-benchmark-peer")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .getOrCreate();
    spark.sparkContext().setLogLevel("ERROR");
    Properties read = new Properties();
    read.setProperty("user", "postgres");
    read.setProperty("fetchsize", "10000");
    Dataset<Row> rows = spark.read().jdbc(url, source, "id", minId, maxId + 1, 8, read);
    rows = rows.withColumn("email", lower(col("email")));
    if (scenario.equals("merge")) {
      rows =
          rows.withColumn(
                  "rn",
                  row_number().over(Window.partitionBy("customer_key").orderBy(desc("updated_at"))))
              .filter(col("rn").equalTo(1))
              .drop("rn");
    }
    Properties write = new Properties();
    write.setProperty("user", "postgres");
    write.setProperty("batchsize", "10000");
    rows.write()
        .mode(SaveMode.Append)
        .jdbc(url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true", target, write);
    spark.stop();
  }
}
