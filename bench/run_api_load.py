"""Ticket creation throughput and queue-page latency through the HTTP API, on SQLite and on
PostgreSQL, with 100,000 and 1,000,000 tickets in the database; in the same run, the
physical limit: the same rows (a ticket and its first event, one transaction per ticket)
written directly through the database's own client (sqlite3, pgbench).

Run it through bench/api_load.sh. Loopback only; every load is bounded in time.
Environment: SIZES ("100000 1000000"), BACKENDS ("sqlite postgres"), DURATION (seconds per
load, 15), CONNECTIONS (for the queue pages, 4), CREATE_CONNECTIONS (each a creation load
and a direct-write run at that many connections, "4 16"), POSTGRES (server URL without a
database), CAREDESK_BIN and SEEDER_BIN (the binaries measured: by default this checkout's
release build; another commit's build to compare the two in one run).

Creation is measured at more than one concurrency: four callers keep four tickets in flight at
most, which leaves the server idle between them (its new tickets meet at the writer in twos);
sixteen saturate it. The direct writes run at the same number of connections each time.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
# CAREDESK_BIN and SEEDER_BIN measure other builds (an earlier commit's, to compare).
CAREDESK = os.environ.get("CAREDESK_BIN", os.path.join(ROOT, "target", "release", "caredesk"))
SEEDER = os.environ.get(
    "SEEDER_BIN", os.path.join(ROOT, "target", "release", "examples", "seed_tickets")
)
DURATION = int(os.environ.get("DURATION", "15"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "4"))
CREATE_CONNECTIONS = [int(count) for count in os.environ.get("CREATE_CONNECTIONS", "4 16").split()]
POSTGRES = os.environ.get("POSTGRES", "postgres://postgres@127.0.0.1:5432")
PORT = 18480

# The row the API writes for a ticket: the same columns, realistic values.
TICKET_COLUMNS = (
    "customer_id, contact_id, product_id, product_line, version, serial, program, region, language, "
    "channel, subject, description, details, severity, state, assignee_id, escalated, escalation_open, "
    "version_number, opened_at, updated_at, closed_at, calendar, severity_rank, placement_rank, due_sort, "
    "next_due_at, at_risk_at, sweep_due_at, first_response_due_at, next_update_due_at, "
    "resolution_due_at, breached, created_by, idempotency_key, request_hash"
)
TICKET_VALUES = (
    "1, 1, NULL, 'ol-connect', '2026.1', 'SN-1', 'standard', 'americas', 'en', 'portal', "
    "'Invoices stopped printing', 'Since this morning no invoice leaves the print queue.', "
    "'{{\"business_impact\":\"late invoices\",\"error_messages\":null,\"steps_to_reproduce\":null,\"workaround\":null}}', "
    "'P3', 'new', NULL, {false}, {false}, 1, {now}, {now}, NULL, 'americas', 2, 1, {due}, {due}, {risk}, {due}, "
    "{due}, NULL, {resolution}, {false}, 'staff:1', NULL, NULL"
)
EVENT = "'{{\"type\":\"staff\",\"id\":1,\"role\":\"admin\"}}', 'created', {true}, '{{\"kind\":\"created\",\"severity\":\"P3\",\"channel\":\"portal\"}}'"

OPEN_TICKET = json.dumps({
    "customer_id": 1,
    "channel": "portal",
    "severity": "P3",
    "product_line": "ol-connect",
    "version": "2026.1",
    "serial": "SN-1",
    "subject": "Invoices stopped printing",
    "description": "Since this morning no invoice leaves the print queue.",
    "business_impact": "late invoices",
})


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def milliseconds(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, token, script=None, connections=CONNECTIONS):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        command += ["-s", script]
    output = run(command + [url]).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses:\n{output}")
    return rate, p50, p99


def database_url(backend, size):
    if backend == "sqlite":
        return "sqlite://" + os.path.join(OUT, f"bench-{size}.db")
    return f"{POSTGRES}/caredesk_bench"


def fresh_database(backend, size):
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(OUT, f"bench-{size}.db{suffix}")
            if os.path.exists(path):
                os.remove(path)
    else:
        run(["psql", f"{POSTGRES}/postgres", "-qc", "DROP DATABASE IF EXISTS caredesk_bench WITH (FORCE)"])
        run(["psql", f"{POSTGRES}/postgres", "-qc", "CREATE DATABASE caredesk_bench"])


def serve(url):
    environment = dict(os.environ, CAREDESK_LOG="warn", CAREDESK_BREACH_SWEEP_SECONDS="3600")
    process = subprocess.Popen(
        [CAREDESK, "serve", "--database", url, "--listen", f"127.0.0.1:{PORT}"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("caredesk did not become ready")


def peak_memory_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def direct_writes(backend, url, connections):
    """Transactions per second writing the API's rows straight through the database client
    (sqlite3 is one connection whatever `connections` says: SQLite has one writer)."""
    now = int(time.time())
    values = dict(now=now, due=now + 7200, risk=now + 5760, resolution=now + 15 * 32400)
    if backend == "sqlite":
        count = 20000
        path = url[len("sqlite://"):]
        ticket = TICKET_VALUES.format(false=0, **values)
        event = EVENT.format(true=1)
        lines = ["PRAGMA journal_mode = WAL;", "PRAGMA synchronous = NORMAL;", "PRAGMA foreign_keys = ON;"]
        for _ in range(count):
            lines.append(
                f"BEGIN IMMEDIATE; INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({ticket}); "
                f"INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data) "
                f"VALUES (last_insert_rowid(), 1, {now}, {event}); COMMIT;"
            )
        script = "\n".join(lines)
        began = time.perf_counter()
        run(["sqlite3", path], input=script)
        return count / (time.perf_counter() - began)
    ticket = TICKET_VALUES.format(false="FALSE", **values)
    event = EVENT.format(true="TRUE")
    script_path = os.path.join(OUT, "direct-write.sql")
    with open(script_path, "w") as script:
        script.write(
            "BEGIN;\n"
            f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({ticket}) RETURNING id AS ticket \\gset\n"
            f"INSERT INTO ticket_events (ticket_id, seq, at, actor, kind, public, data) VALUES (:ticket, 1, {now}, {event});\n"
            "COMMIT;\n"
        )
    output = run(["pgbench", "-n", f"-c{connections}", "-j2", f"-T{DURATION}", "-f", script_path, url]).stdout
    return float(re.search(r"tps = ([\d.]+)", output).group(1))


def measure(backend, size):
    url = database_url(backend, size)
    fresh_database(backend, size)
    began = time.perf_counter()
    token = run([SEEDER, url, str(size)]).stdout.strip()
    seeded = time.perf_counter() - began
    if backend == "postgres":
        # After a bulk load, as autovacuum would in time: the visibility map lets the filtered
        # queue read its index alone, and the statistics know the tables' sizes.
        run(["psql", url, "-qc", "VACUUM (ANALYZE)"])
    print(f"  {backend} {size:,} tickets seeded in {seeded:.0f} s", flush=True)
    process = serve(url)
    try:
        base = f"http://127.0.0.1:{PORT}/api/v1"
        queue = wrk(f"{base}/queue?limit=50", token)
        filtered = wrk(f"{base}/queue?limit=50&region=apac&at_risk=true", token)
        script = os.path.join(OUT, "open-ticket.lua")
        with open(script, "w") as lua:
            lua.write('wrk.method = "POST"\n')
            lua.write('wrk.headers["Content-Type"] = "application/json"\n')
            lua.write(f"wrk.body = [[{OPEN_TICKET}]]\n")
        create = {count: wrk(f"{base}/tickets", token, script, count) for count in CREATE_CONNECTIONS}
        memory = peak_memory_mb(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    direct = {count: direct_writes(backend, url, count) for count in CREATE_CONNECTIONS}
    return dict(backend=backend, size=size, queue=queue, filtered=filtered, create=create, direct=direct, memory=memory)


def main():
    for tool in ("wrk", "sqlite3", "pgbench", "psql"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (bench/api_load.sh installs it)")
    os.makedirs(OUT, exist_ok=True)
    sizes = [int(size) for size in os.environ.get("SIZES", "100000 1000000").split()]
    backends = os.environ.get("BACKENDS", "sqlite postgres").split()
    results = []
    for backend in backends:
        for size in sizes:
            results.append(measure(backend, size))
    print()
    print(f"{DURATION} s per load; queue pages at {CONNECTIONS} connections, medians of wrk's latency distribution")
    print("| backend | tickets | queue p50 / p99 | queue apac+at risk p50 / p99 | connections | create tickets/s (p50 / p99) | direct writes/s | HTTP / direct | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        q, f = r["queue"], r["filtered"]
        for count in CREATE_CONNECTIONS:
            c, direct = r["create"][count], r["direct"][count]
            print(
                f"| {r['backend']} | {r['size']:,} | {q[1]:.2f} / {q[2]:.2f} ms | {f[1]:.2f} / {f[2]:.2f} ms | {count} | "
                f"{c[0]:.0f} ({c[1]:.1f} / {c[2]:.1f} ms) | {direct:.0f} | {100 * c[0] / direct:.0f} % | {r['memory']:.0f} MB |"
            )


if __name__ == "__main__":
    main()
