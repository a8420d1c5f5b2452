#!/usr/bin/env bash
# The resource center's ranking, judged on bench/ranking/queries.toml (40 queries in six
# languages, each with the entry that should come first), on SQLite and PostgreSQL, each in
# a new database holding the demo desk's resource center.
#   POSTGRES=postgres://postgres@127.0.0.1:5432 bench/ranking.sh
set -euo pipefail
cd "$(dirname "$0")/.."

postgres="${POSTGRES:-postgres://postgres@127.0.0.1:5432}"
cargo build --release --quiet -p caredesk --example rank_resources
rank=target/release/examples/rank_resources
work=$(mktemp -d)
database="caredesk_ranking_$$"
trap 'rm -rf "$work"; psql "$postgres/postgres" -qc "DROP DATABASE IF EXISTS \"$database\"" >/dev/null 2>&1 || true' EXIT

echo "== SQLite"
"$rank" "sqlite://$work/ranking.db" bench/ranking/queries.toml
echo "== PostgreSQL"
psql "$postgres/postgres" -qc "CREATE DATABASE \"$database\""
"$rank" "$postgres/$database" bench/ranking/queries.toml
