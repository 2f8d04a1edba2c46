#!/usr/bin/env bash
# Load throughput benchmark: PostgreSQL to PostgreSQL (append; merge with dedupe), DuckDB and
# Parquet, and CSV files to DuckDB, against the physical limit (psql COPY pipe, server-side
# DISTINCT ON, DuckDB's read_csv), plain Java and the peers a user would pick instead (Spark
# local[2], Flink SQL with the JDBC connector, stock Beam JdbcIO on the Direct runner), all
# measured in the same run on the same seeded data; then Kafka to PostgreSQL streaming (an
# in-process broker) against a plain KafkaConsumer writing with COPY: events/s at saturation and
# latency p50/p99 at half of it. Medians of RUNS runs, start-up measured apart. Writes
# docs/benchmarks.csv and docs/stream-benchmark.csv, and the tables docs/benchmarks.md quotes to
# target/benchmarks-table.md and target/stream-benchmark-table.md.
#   scripts/bench.sh [ROWS=2000000] [RUNS=3]      (sizes: 100000, 2000000, 10000000; the stream
#                                                  benchmark publishes ROWS/4 events)
#   PEERS=none scripts/bench.sh ...               (Watershed and the limits only)
#   ONLY=load or ONLY=stream scripts/bench.sh ... (one of the two)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${1:-2000000}"
runs="${2:-3}"
bash scripts/services.sh
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
peers="$root/benchmarks/peers"
if [ "${PEERS:-all}" != none ]; then
  # The peers are projects of their own (not modules of the product's build): their jars never
  # meet Watershed's.
  mvn -q -B -f "$peers/pom.xml" -DskipTests package
  for peer in spark flink-sql beam-jdbcio; do
    (cd "$peers/$peer" && mvn -q -B dependency:build-classpath -Dmdep.outputFile=target/classpath.txt >/dev/null)
  done
else
  rm -f "$peers"/*/target/classpath.txt
fi
mkdir -p docs target
classpath="benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)"
if [ "${ONLY:-all}" != stream ]; then
  java -Xmx1g -cp "$classpath" dev.watershed.benchmarks.LoadBenchmark "$rows" "$runs" \
    runners/target/watershed.jar "$peers" docs/benchmarks.csv target/benchmarks-table.md
fi
if [ "${ONLY:-all}" != load ]; then
  java -Xmx2g -cp "$classpath" dev.watershed.benchmarks.StreamBenchmark "$((rows / 4))" "$runs" \
    runners/target/watershed.jar "$root/$classpath" docs/stream-benchmark.csv \
    target/stream-benchmark-table.md
fi
