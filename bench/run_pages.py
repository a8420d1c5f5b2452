"""Server time of each page of the portal and the console with a large desk (SIZE tickets,
1,000,000 by default), on SQLite and PostgreSQL: wrk with one connection for DURATION
seconds per page (10), signed in through the sign-in form like a browser. In the same run,
the baseline: the API's queue page (JSON, the same first page the console shows) and the
health check.

Run it through bench/pages.sh. Loopback only; every load is bounded in time.
Environment: SIZE, BACKENDS ("sqlite postgres"), DURATION, POSTGRES (server URL without a
database), KEEP=1 to reuse a database seeded by an earlier run of this script, CAREDESK_BIN
and SEEDER_BIN (the binaries measured: by default this checkout's release build; point them
at an earlier commit's build to compare) and LABEL (names that build's databases, so that
two builds never share one).
"""

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
CAREDESK = os.environ.get("CAREDESK_BIN", os.path.join(ROOT, "target", "release", "caredesk"))
SEEDER = os.environ.get(
    "SEEDER_BIN", os.path.join(ROOT, "target", "release", "examples", "seed_tickets")
)
# Each build seeds its own databases: an earlier build refuses a database that a later one
# has migrated further.
LABEL = os.environ.get("LABEL", "")
SIZE = int(os.environ.get("SIZE", "1000000"))
DURATION = int(os.environ.get("DURATION", "10"))
POSTGRES = os.environ.get("POSTGRES", "postgres://postgres@127.0.0.1:5432")
KEEP = os.environ.get("KEEP") == "1"
PORT = 18490
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "caredesk-bench"


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def milliseconds(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(path, headers):
    command = ["wrk", "-t1", "-c1", f"-d{DURATION}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    output = run(command + [BASE + path]).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"{path}: {errors.group(1)} failed responses\n{output}")
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))
    return p50, p99


def database_url(backend):
    if backend == "sqlite":
        return "sqlite://" + os.path.join(OUT, f"pages{LABEL}-{SIZE}.db")
    return f"{POSTGRES}/caredesk_pages{LABEL}"


def seed(backend):
    url = database_url(backend)
    if KEEP:
        return url
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(OUT, f"pages{LABEL}-{SIZE}.db{suffix}")
            if os.path.exists(path):
                os.remove(path)
    else:
        name = f"caredesk_pages{LABEL}"
        run(["psql", f"{POSTGRES}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
        run(["psql", f"{POSTGRES}/postgres", "-qc", f"CREATE DATABASE {name}"])
    started = time.time()
    run([SEEDER, url, str(SIZE)])
    if backend == "postgres":
        # After a bulk load, as autovacuum would in time: the visibility map lets the portal's
        # list and search read the index alone.
        run(["psql", url, "-qc", "VACUUM (ANALYZE) tickets"])
    print(f"  {backend} {SIZE:,} tickets seeded in {time.time() - started:.0f} s", flush=True)
    return url


def serve(url):
    environment = dict(os.environ, CAREDESK_LOG="warn", CAREDESK_RUN_JOBS="false")
    process = subprocess.Popen(
        [CAREDESK, "serve", "--database", url, "--listen", f"127.0.0.1:{PORT}"],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/readyz", timeout=1) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("caredesk did not become ready")


def sign_in(email):
    """Signs in through the form, as a browser does; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{BASE}/sign-in").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf": csrf}).encode()
    opener.open(f"{BASE}/sign-in", data=form).read()
    cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar if cookie.name == "caredesk_session")
    if not cookies:
        raise SystemExit(f"{email} could not sign in")
    return cookies, opener


def first_ticket(opener, path):
    page = opener.open(BASE + path).read().decode()
    return int(re.search(r'href="/(?:portal|console)/tickets/(\d+)"', page).group(1))


def measure(backend):
    url = seed(backend)
    server = serve(url)
    try:
        staff, staff_browser = sign_in("bench-admin@caredesk.bench")
        contact, contact_browser = sign_in("contact0@bench.example")
        console_ticket = first_ticket(staff_browser, "/console")
        portal_ticket = first_ticket(contact_browser, "/portal")
        session = staff.split("=", 1)[1]
        rows = []
        baseline = [
            ("API: GET /api/v1/queue (JSON, baseline)", "/api/v1/queue", f"Authorization: Bearer {session}"),
            ("GET /healthz (baseline)", "/healthz", "X-Bench: 1"),
        ]
        pages = [
            ("sign-in", "/sign-in", "X-Bench: 1"),
            ("portal: tickets", "/portal", f"Cookie: {contact}"),
            ("portal: search, all tickets", "/portal?show=all&q=printing", f"Cookie: {contact}"),
            ("portal: new ticket", "/portal/tickets/new", f"Cookie: {contact}"),
            ("portal: a ticket", f"/portal/tickets/{portal_ticket}", f"Cookie: {contact}"),
            ("console: queue", "/console", f"Cookie: {staff}"),
            ("console: queue rows (htmx refresh)", "/console/queue-rows", f"Cookie: {staff}\r\nHX-Request: true"),
            ("console: apac + at risk", "/console?region=apac&at_risk=1", f"Cookie: {staff}"),
            ("console: breaches", "/console/views/breaches", f"Cookie: {staff}"),
            ("console: escalations", "/console/views/escalations", f"Cookie: {staff}"),
            ("console: consent unanswered", "/console/views/consent", f"Cookie: {staff}"),
            ("console: a ticket's workspace", f"/console/tickets/{console_ticket}", f"Cookie: {staff}"),
            ("console: workload", "/console/workload", f"Cookie: {staff}"),
            ("console: policy", "/console/policy", f"Cookie: {staff}"),
            ("console: staff", "/console/staff", f"Cookie: {staff}"),
            ("console: customers", "/console/customers", f"Cookie: {staff}"),
        ]
        for name, path, header in baseline + pages:
            p50, p99 = wrk(path, header.split("\r\n"))
            rows.append((name, p50, p99))
            print(f"    {name}: {p50:.2f} / {p99:.2f} ms", flush=True)
        return rows
    finally:
        server.terminate()
        server.wait()


def main():
    os.makedirs(OUT, exist_ok=True)
    backends = os.environ.get("BACKENDS", "sqlite postgres").split()
    results = {backend: measure(backend) for backend in backends}
    print()
    print(f"{SIZE:,} tickets; wrk, 1 connection, {DURATION} s per page; p50 / p99 (ratio of p50 to the API's queue page)")
    header = "| page | " + " | ".join(backends) + " |"
    print(header)
    print("|---" * (len(backends) + 1) + "|")
    names = [name for name, _, _ in results[backends[0]]]
    for index, name in enumerate(names):
        cells = []
        for backend in backends:
            _, p50, p99 = results[backend][index]
            api = results[backend][0][1]
            cells.append(f"{p50:.2f} / {p99:.2f} ms ({p50 / api:.1f}×)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
