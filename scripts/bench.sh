#!/usr/bin/env bash
# Load throughput benchmark: PostgreSQL source to PostgreSQL (append; merge with dedupe), DuckDB and
# Parquet, against the psql COPY pipe, a server-side DISTINCT ON and plain Java, all measured in
# the same run on the same seeded data. Medians of RUNS runs; writes docs/benchmarks.csv and the
# table quoted in docs/benchmarks.md to target/benchmarks-table.md.
#   scripts/bench.sh [ROWS=2000000] [RUNS=3]      (sizes: 100000, 2000000, 10000000)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${1:-2000000}"
runs="${2:-3}"
bash scripts/services.sh
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs target
java -Xmx1g -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.LoadBenchmark "$rows" "$runs" runners/target/watershed.jar \
  docs/benchmarks.csv target/benchmarks-table.md
