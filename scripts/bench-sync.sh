#!/usr/bin/env bash
# Diff-based sync benchmark: a PostgreSQL table of ROWS customers propagated to another
# PostgreSQL table by whole Watershed runs; each round changes 1% of the source, then times a
# full re-send (merge every row) and a diff sync (sync: mirror, only the changed rows sent).
# Medians of RUNS rounds. Needs PostgreSQL on 127.0.0.1:5432 (scripts/services.sh starts it).
# Writes docs/sync-benchmark.csv and target/sync-benchmark-table.md (quoted by docs/benchmarks.md).
#   scripts/bench-sync.sh [ROWS=1000000] [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rows="${1:-1000000}"
runs="${2:-3}"
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs target
java -Xmx1g -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.SyncBenchmark "$rows" "$runs" "$root/runners/target/watershed.jar" \
  docs/sync-benchmark.csv target/sync-benchmark-table.md
cat target/sync-benchmark-table.md
