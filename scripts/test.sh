#!/usr/bin/env bash
# Runs every test: starts (or installs) PostgreSQL and MariaDB, then builds the reactor with the
# format check, the unit tests, the database tests and the end-to-end runs on embedded Flink and
# the Direct runner, and packages the runnable jar.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/services.sh
mvn -B install "$@"
