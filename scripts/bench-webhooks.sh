#!/usr/bin/env bash
# Webhook intake benchmark: accepted events/s and accept latency (p50, p99) of signed events
# posted by concurrent HTTP senders to the intake (verify, dedupe, durable write to an in-process
# Kafka broker, answer), against plain KafkaProducer threads writing the same events to the same
# broker and waiting for each acknowledgement. Medians of RUNS.
# Writes docs/webhook-benchmark.csv and target/webhook-benchmark-table.md (quoted by docs/benchmarks.md).
#   scripts/bench-webhooks.sh [EVENTS=20000] [SENDERS=8] [RUNS=3]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
events="${1:-20000}"
senders="${2:-8}"
runs="${3:-3}"
mvn -q -B -DskipTests install
mvn -q -B dependency:build-classpath -pl benchmarks -Dmdep.outputFile=target/bench.classpath >/dev/null
mkdir -p docs target
java -Xmx1g -cp "benchmarks/target/classes:$(cat benchmarks/target/bench.classpath)" \
  dev.watershed.benchmarks.WebhookBenchmark "$events" "$senders" "$runs" \
  docs/webhook-benchmark.csv target/webhook-benchmark-table.md
cat target/webhook-benchmark-table.md
