#!/usr/bin/env bash
# Conform expressions benchmark: a CSV file of ROWS records loaded into DuckDB by whole Watershed
# runs, the same model filled by plain from: rules, by expr: rules naming each column, and by
# expr: rules that compute. Medians of RUNS rounds, each case against from: in the same round.
# Writes docs/conform-benchmark.csv and target/conform-benchmark-table.md (quoted by
# docs/benchmarks.md).
#   scripts/bench-conform.sh [ROWS=1000000] [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${1:-1000000}"
runs="${2:-3}"
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs target
java -Xmx1g -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.ConformBenchmark "$rows" "$runs" "$root/runners/target/watershed.jar" \
  docs/conform-benchmark.csv target/conform-benchmark-table.md
cat target/conform-benchmark-table.md
