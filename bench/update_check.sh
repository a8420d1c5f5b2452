#!/usr/bin/env bash
# The update manager's throughput (GET /api/v1/updates, what every installed product calls
# daily) with 100,000 activated licences, on SQLite and PostgreSQL, against the same rows
# read straight through the store in the same run.
#   LICENCES=100000 BACKENDS="sqlite postgres" DURATION=15 CONNECTIONS="8 32" bench/update_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  apt-get install -y -q wrk >/dev/null
fi

cargo build --release --quiet -p caredesk --bin caredesk --example bench_updates
python3 bench/run_update_check.py
