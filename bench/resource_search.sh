#!/usr/bin/env bash
# The resource center's search and the new-ticket form's suggestions on a large desk: each
# backend gets a new database with TICKETS tickets (examples/seed_tickets) and ARTICLES
# resource-center entries (examples/bench_resource_search writes them), then ROUNDS rounds
# of a search, the suggestions for what a customer types, and the baseline (one entry read
# by its number), timed in-process. Prints the medians, the 99th percentiles and the ratios.
#   TICKETS=1000000 ARTICLES=100000 ROUNDS=1000 BACKENDS="sqlite postgres" bench/resource_search.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tickets="${TICKETS:-1000000}"
articles="${ARTICLES:-100000}"
rounds="${ROUNDS:-1000}"
backends="${BACKENDS:-sqlite postgres}"
postgres="${POSTGRES:-postgres://postgres@127.0.0.1:5432}"
cargo build --release --quiet -p caredesk --example seed_tickets --example bench_resource_search
work=$(mktemp -d)
database="caredesk_search_$$"
trap 'rm -rf "$work"; psql "$postgres/postgres" -qc "DROP DATABASE IF EXISTS \"$database\"" >/dev/null 2>&1 || true' EXIT

for backend in $backends; do
  case "$backend" in
    sqlite) url="sqlite://$work/search.db" ;;
    postgres)
      psql "$postgres/postgres" -qc "CREATE DATABASE \"$database\""
      url="$postgres/$database"
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "== $backend: $tickets tickets, $articles entries"
  target/release/examples/seed_tickets "$url" "$tickets" >/dev/null
  if [ "$backend" = postgres ]; then
    psql "$url" -qc "VACUUM (ANALYZE)"
  fi
  target/release/examples/bench_resource_search "$url" "$articles" "$rounds"
done
