#!/usr/bin/env bash
# SLA compliance, volume and people reports on a large desk: each backend gets a new database
# with TICKETS tickets opened over three years (examples/seed_tickets), then ROUNDS rounds of
# thirteen compliance reports, four volume reports, three people reports and the baseline (one
# ticket read by its number),
# timed in-process
# (examples/bench_reports). Prints the medians, the 99th percentiles and the ratios; on
# PostgreSQL also the database's own time for the three-year report (EXPLAIN ANALYZE).
#   TICKETS=1000000 ROUNDS=200 OPEN_PERCENT=1 BACKENDS="sqlite postgres" bench/reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tickets="${TICKETS:-1000000}"
rounds="${ROUNDS:-200}"
# One ticket in a hundred still open (opened in the last two weeks): about the backlog of a
# desk that opens a thousand tickets a day.
open_percent="${OPEN_PERCENT:-1}"
backends="${BACKENDS:-sqlite postgres}"
postgres="${POSTGRES:-postgres://postgres@127.0.0.1:5432}"
cargo build --release --quiet -p caredesk --example seed_tickets --example bench_reports
examples="${CARGO_TARGET_DIR:-target}/release/examples"
work="${WORK:-$(mktemp -d)}"
database="caredesk_reports_$$"
trap 'psql "$postgres/postgres" -qc "DROP DATABASE IF EXISTS \"$database\"" >/dev/null 2>&1 || true' EXIT

for backend in $backends; do
  case "$backend" in
    sqlite) url="sqlite://$work/reports.db" ;;
    postgres)
      psql "$postgres/postgres" -qc "CREATE DATABASE \"$database\""
      url="$postgres/$database"
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "== $backend: $tickets tickets"
  if [ ! -e "$work/reports.db" ] || [ "$backend" = postgres ]; then
    started=$(date +%s)
    "$examples"/seed_tickets "$url" "$tickets" "$open_percent" >/dev/null
    echo "seeded in $(( $(date +%s) - started )) s"
  fi
  if [ "$backend" = postgres ]; then
    psql "$url" -qc "VACUUM (ANALYZE)"
  fi
  "$examples"/bench_reports "$url" "$rounds"
  if [ "$backend" = postgres ]; then
    echo "PostgreSQL's own time for the three years' monthly totals by program and severity:"
    psql "$url" -Atc "EXPLAIN (ANALYZE, TIMING OFF) SELECT program, severity, SUM(tickets) FROM report_months GROUP BY program, severity" | grep -E "Execution Time"
  else
    echo "SQLite's own time for the same (sqlite3 .timer):"
    printf '.timer on\nSELECT program, severity, SUM(tickets) FROM report_months GROUP BY program, severity;\n' \
      | sqlite3 "$work/reports.db" | grep -E "^Run Time" || true
  fi
done
