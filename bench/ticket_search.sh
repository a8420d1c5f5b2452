#!/usr/bin/env bash
# Staff's search of tickets by their words on a large desk: each backend gets a new database
# with TICKETS tickets (examples/seed_tickets: subjects, descriptions and messages of words
# from the demo's English articles), then the search is forgotten (as on a database written
# before it existed) and examples/bench_ticket_search times the store's start, which indexes
# every earlier text, then ROUNDS rounds of searches of one to three words, a next page and
# the baseline (one ticket by number), in-process. Prints the medians, the 99th percentiles
# and the ratios. Needs the sqlite3 and psql command-line tools.
#   TICKETS=1000000 ROUNDS=1000 BACKENDS="sqlite postgres" bench/ticket_search.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tickets="${TICKETS:-1000000}"
rounds="${ROUNDS:-1000}"
backends="${BACKENDS:-sqlite postgres}"
postgres="${POSTGRES:-postgres://postgres@127.0.0.1:5432}"
cargo build --release --quiet -p caredesk --example seed_tickets --example bench_ticket_search
work=$(mktemp -d)
database="caredesk_ticket_search_$$"
trap 'rm -rf "$work"; psql "$postgres/postgres" -qc "DROP DATABASE IF EXISTS \"$database\"" >/dev/null 2>&1 || true' EXIT
forget="UPDATE ticket_events SET terms = NULL; \
INSERT INTO ticket_terms_backlog (next_event_id, last_event_id) SELECT MIN(id), MAX(id) FROM ticket_events;"

for backend in $backends; do
  case "$backend" in
    sqlite) url="sqlite://$work/tickets.db" ;;
    postgres)
      psql "$postgres/postgres" -qc "CREATE DATABASE \"$database\""
      url="$postgres/$database"
      ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "== $backend: $tickets tickets"
  target/release/examples/seed_tickets "$url" "$tickets" >/dev/null
  case "$backend" in
    sqlite) sqlite3 "$work/tickets.db" "$forget" ;;
    postgres) psql "$url" -qc "$forget" && psql "$url" -qc "VACUUM (ANALYZE)" ;;
  esac
  target/release/examples/bench_ticket_search "$url" "$rounds"
done
