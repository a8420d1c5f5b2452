"""Acknowledgement latency, end to end: a portal ticket is created through the HTTP API and
the time until the SMTP server (the test sink, `caredesk-testkit`'s `smtp_sink`, on loopback)
has received its acknowledgement is measured, ticket by ticket, over TICKETS tickets opened
at RATE per second, with `caredesk serve` at its defaults but for the SMTP settings.

Run it through bench/mail_latency.sh. Loopback only, bounded in time.
Environment: TICKETS (1000), RATE (tickets per second, 50), BACKENDS ("sqlite postgres"),
POSTGRES (server URL without a database).
"""

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAREDESK = os.path.join(ROOT, "target", "release", "caredesk")
SEEDER = os.path.join(ROOT, "target", "release", "examples", "seed_tickets")
SINK = os.path.join(ROOT, "target", "release", "examples", "smtp_sink")
TICKETS = int(os.environ.get("TICKETS", "1000"))
RATE = float(os.environ.get("RATE", "50"))
BACKENDS = os.environ.get("BACKENDS", "sqlite postgres").split()
POSTGRES = os.environ.get("POSTGRES", "postgres://postgres@127.0.0.1:5432")
PORT = 18481

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
}).encode()


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def database(backend, directory):
    if backend == "sqlite":
        return f"sqlite://{directory}/latency.db"
    run(["psql", f"{POSTGRES}/postgres", "-qc", "DROP DATABASE IF EXISTS caredesk_mail_bench WITH (FORCE)"])
    run(["psql", f"{POSTGRES}/postgres", "-qc", "CREATE DATABASE caredesk_mail_bench"])
    return f"{POSTGRES}/caredesk_mail_bench"


def wait_ready():
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("caredesk did not become ready")


def acknowledgements(path):
    """Ticket id -> receipt time (ns) of its acknowledgement, from the sink's log."""
    received = {}
    with open(path) as log:
        for line in log:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 5 and "We received your request" in parts[4]:
                received.setdefault(int(parts[1]), int(parts[0]))
    return received


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(backend):
    directory = tempfile.mkdtemp(prefix="caredesk-mail-bench-")
    url = database(backend, directory)
    token = run([SEEDER, url, "1000"]).stdout.strip()
    log = os.path.join(directory, "received.tsv")
    sink = subprocess.Popen([SINK, "0", log], stdout=subprocess.PIPE, text=True)
    sink_port = sink.stdout.readline().split()[-1]
    environment = dict(
        os.environ,
        CAREDESK_LOG="warn",
        CAREDESK_MAIL_TRANSPORT="smtp",
        CAREDESK_SMTP_HOST="127.0.0.1",
        CAREDESK_SMTP_PORT=sink_port,
        CAREDESK_SMTP_SECURITY="none",
        CAREDESK_MAIL_FROM="Bench desk <desk@bench.example>",
    )
    server = subprocess.Popen(
        [CAREDESK, "serve", "--database", url, "--listen", f"127.0.0.1:{PORT}"],
        env=environment, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready()
        sent = {}
        started = time.monotonic()
        for index in range(TICKETS):
            pause = started + index / RATE - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            request = urllib.request.Request(
                f"http://127.0.0.1:{PORT}/api/v1/tickets", data=OPEN_TICKET, method="POST",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            before = time.time_ns()
            with urllib.request.urlopen(request, timeout=30) as answer:
                ticket = json.load(answer)
            sent[ticket["id"]] = before
        deadline = time.time() + 60
        received = acknowledgements(log)
        while len(set(sent) & set(received)) < len(sent) and time.time() < deadline:
            time.sleep(0.2)
            received = acknowledgements(log)
        latencies = [(received[id] - at) / 1e6 for id, at in sent.items() if id in received]
        missing = len(sent) - len(latencies)
        return {
            "backend": backend,
            "tickets": len(sent),
            "received": len(latencies),
            "missing": missing,
            "p50_ms": statistics.median(latencies) if latencies else None,
            "p99_ms": percentile(latencies, 0.99) if latencies else None,
            "max_ms": max(latencies) if latencies else None,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)
        sink.terminate()
        sink.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
        if backend == "postgres":
            run(["psql", f"{POSTGRES}/postgres", "-qc", "DROP DATABASE IF EXISTS caredesk_mail_bench WITH (FORCE)"])


def main():
    print(f"{TICKETS} portal tickets at {RATE:g}/s; latency from the POST to the SMTP server's receipt")
    print("| backend | tickets | acknowledged | p50 | p99 | max |")
    print("|---|---|---|---|---|---|")
    for backend in BACKENDS:
        result = measure(backend)
        print(
            f"| {result['backend']} | {result['tickets']} | {result['received']} | "
            f"{result['p50_ms']:.0f} ms | {result['p99_ms']:.0f} ms | {result['max_ms']:.0f} ms |",
            flush=True,
        )


if __name__ == "__main__":
    main()
