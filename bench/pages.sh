#!/usr/bin/env bash
# Server time of every page of the portal and the console with a large desk, on SQLite and
# PostgreSQL, against the API's own queue page measured in the same run.
#   SIZE=1000000 BACKENDS="sqlite postgres" DURATION=10 bench/pages.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
  apt-get install -y -q wrk >/dev/null
fi

cargo build --release --quiet -p caredesk --bin caredesk --example seed_tickets
python3 bench/run_pages.py
