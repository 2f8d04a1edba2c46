#!/usr/bin/env bash
# Identity resolution on the FEBRL data sets: pairwise precision, recall, F1, candidate pairs and
# the median time of 3 runs on embedded Flink. Writes docs/identity-benchmark.csv and the table
# quoted in docs/identity-benchmark.md to target/identity-benchmark-table.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
data="${FEBRL_DIR:-$root/../shared/data/febrl}"
mvn -q -B -DskipTests install -pl benchmarks -am
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs
java -Xmx4g \
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED \
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
  --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
  -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.FebrlIdentity target/identity-benchmark-table.md docs/identity-benchmark.csv \
  "$data/dataset1.csv" "$data/dataset2.csv"
