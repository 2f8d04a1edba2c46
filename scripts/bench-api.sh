#!/usr/bin/env bash
# API source benchmark against a local HTTP server: the request budget (achieved rate and 429s
# counted at the server, which enforces the rate it announces) and records/s of the source transform
# alone and of whole Watershed runs (API to Parquet on embedded Flink), one resource and four in
# parallel, against a plain single-threaded HttpClient loop that only fetches and parses the same
# pages. Medians of RUNS.
# Writes docs/api-benchmark.csv and target/api-benchmark-table.md (quoted by docs/benchmarks.md).
#   scripts/bench-api.sh [PAGES=400] [RECORDS_PER_PAGE=500] [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
pages="${1:-400}"
per_page="${2:-500}"
runs="${3:-3}"
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs target
java -Xmx1g -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.ApiBenchmark "$pages" "$per_page" "$runs" "$root/runners/target/watershed.jar" \
  docs/api-benchmark.csv target/api-benchmark-table.md
cat target/api-benchmark-table.md
