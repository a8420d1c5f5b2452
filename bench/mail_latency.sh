#!/usr/bin/env bash
# Acknowledgement latency: from a portal ticket's creation (POST /api/v1/tickets) to the SMTP
# server's receipt of its acknowledgement, over 1,000 tickets, on SQLite and PostgreSQL.
#   TICKETS=1000 RATE=50 BACKENDS="sqlite postgres" bench/mail_latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p caredesk --bin caredesk --example seed_tickets
cargo build --release --quiet -p caredesk-testkit --example smtp_sink
python3 bench/run_mail_latency.py
