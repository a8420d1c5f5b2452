#!/usr/bin/env bash
# Ticket creation throughput and queue latency through the HTTP API on SQLite and PostgreSQL,
# with 100,000 and 1,000,000 tickets, against the database's own client writing the same rows.
#   SIZES="100000 1000000" BACKENDS="sqlite postgres" DURATION=15 bench/api_load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in wrk sqlite3; do
  if ! command -v "$tool" >/dev/null; then
    apt-get install -y -q "$tool" >/dev/null
  fi
done

cargo build --release --quiet -p caredesk --bin caredesk --example seed_tickets
python3 bench/run_api_load.py
