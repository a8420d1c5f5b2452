"""The update manager under load: GET /api/v1/updates through HTTP with every check a
different licence (its serial, installed version and activation code drawn from the
seeded ones), against the baseline of the same run: the rows one check reads (product,
active activation, customer, contracts, the line's releases and notes) read straight
through the store by as many tasks, without HTTP, signature check, entitlement or JSON.

Run it through bench/update_check.sh. Loopback only; every load is bounded in time.
Environment: LICENCES (100000), BACKENDS ("sqlite postgres"), DURATION (seconds per
load, 15), CONNECTIONS (each a load and a baseline at that many, "8 32"), POSTGRES
(server URL without a database), RUNS (loads per point, the median is kept, 3).
"""

import os
import re
import signal
import statistics
import subprocess
import time
import urllib.request
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
CAREDESK = os.environ.get("CAREDESK_BIN", os.path.join(ROOT, "target", "release", "caredesk"))
BENCH = os.path.join(ROOT, "target", "release", "examples", "bench_updates")
LICENCES = int(os.environ.get("LICENCES", "100000"))
BACKENDS = os.environ.get("BACKENDS", "sqlite postgres").split()
DURATION = int(os.environ.get("DURATION", "15"))
CONNECTIONS = [int(count) for count in os.environ.get("CONNECTIONS", "8 32").split()]
POSTGRES = os.environ.get("POSTGRES", "postgres://postgres@127.0.0.1:5432")
RUNS = int(os.environ.get("RUNS", "3"))
PORT = 18490

# Each wrk thread reads the licences and asks for a different one each time.
LUA = r"""
local licences = {}
local next_one = 1
function init(args)
  local file = io.open(args[1], "r")
  file:read("*l")
  for line in file:lines() do
    local serial, version, code = line:match("([^,]+),([^,]+),(.+)")
    licences[#licences + 1] = {serial, version, code}
  end
  file:close()
  -- Each thread starts elsewhere in the licences (setup gave it its number).
  next_one = ((thread_id or 0) * 7919) % #licences + 1
end
function request()
  local licence = licences[next_one]
  next_one = (next_one + 104729) % #licences + 1
  local language = (next_one % 2 == 0) and "fr" or "en"
  return wrk.format("GET", "/api/v1/updates?serial=" .. licence[1] .. "&version=" .. licence[2]
    .. "&language=" .. language, {["Authorization"] = "Activation " .. licence[3]})
end
thread_count = 0
function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end
"""


def run(command, **kwargs):
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)


def milliseconds(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def database_url(backend):
    if backend == "sqlite":
        return "sqlite://" + os.path.join(OUT, "updates.db")
    return f"{POSTGRES}/caredesk_bench_updates"


def fresh_database(backend):
    if backend == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(OUT, f"updates.db{suffix}")
            if os.path.exists(path):
                os.remove(path)
    else:
        run(["psql", f"{POSTGRES}/postgres", "-qc", "DROP DATABASE IF EXISTS caredesk_bench_updates WITH (FORCE)"])
        run(["psql", f"{POSTGRES}/postgres", "-qc", "CREATE DATABASE caredesk_bench_updates"])


def serve(url):
    environment = dict(
        os.environ,
        CAREDESK_LOG="warn",
        CAREDESK_BREACH_SWEEP_SECONDS="3600",
        # The load asks far more often than products do: the limits stay on (their cost is
        # measured), set past what the load reaches.
        CAREDESK_UPDATE_CHECKS_PER_SERIAL_PER_HOUR="1000000",
        CAREDESK_UPDATE_CHECKS_PER_ADDRESS_PER_MINUTE="100000000",
    )
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


def wrk(csv, connections):
    script = os.path.join(OUT, "update-check.lua")
    with open(script, "w") as lua:
        lua.write(LUA)
    command = ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", "-s", script,
               f"http://127.0.0.1:{PORT}", "--", csv]
    output = run(command).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} failed responses:\n{output}")
    return rate, p50, p99


def direct(url, csv, connections):
    output = run([BENCH, "direct", url, csv, str(DURATION), str(connections)]).stdout
    return json.loads(output.strip().splitlines()[-1])["per_second"]


def measure(backend):
    url = database_url(backend)
    csv = os.path.join(OUT, f"updates-{backend}.csv")
    fresh_database(backend)
    began = time.perf_counter()
    run([BENCH, "seed", url, str(LICENCES), csv])
    if backend == "postgres":
        run(["psql", url, "-qc", "VACUUM (ANALYZE)"])
    print(f"  {backend}: {LICENCES:,} licences seeded and activated in {time.perf_counter() - began:.0f} s", flush=True)
    results = {}
    for connections in CONNECTIONS:
        loads, baselines = [], []
        for _ in range(RUNS):
            process = serve(url)
            try:
                # A probe first: the first licence answers 200 with a status.
                with open(csv) as licences:
                    licences.readline()
                    serial, version, code = licences.readline().strip().split(",", 2)
                request = urllib.request.Request(
                    f"http://127.0.0.1:{PORT}/api/v1/updates?serial={serial}&version={version}",
                    headers={"Authorization": f"Activation {code}"},
                )
                with urllib.request.urlopen(request, timeout=5) as answer:
                    assert json.load(answer)["status"] in ("available", "up_to_date", "not_entitled")
                loads.append(wrk(csv, connections))
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
            baselines.append(direct(url, csv, connections))
        rate = statistics.median(load[0] for load in loads)
        p50 = statistics.median(load[1] for load in loads)
        p99 = statistics.median(load[2] for load in loads)
        baseline = statistics.median(baselines)
        results[connections] = (rate, p50, p99, baseline)
        print(f"  {backend} c={connections}: {rate:,.0f} checks/s (p50 {p50:.2f} ms, p99 {p99:.2f} ms); "
              f"direct reads {baseline:,.0f}/s; ratio {rate / baseline:.2f}", flush=True)
    return backend, results


def main():
    os.makedirs(OUT, exist_ok=True)
    print(f"Update checks, {LICENCES:,} licences, {DURATION} s per load, median of {RUNS}")
    rows = [measure(backend) for backend in BACKENDS]
    print()
    print("| backend | connections | update checks/s (median) | p50 ms | p99 ms | direct reads/s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for backend, results in rows:
        for connections, (rate, p50, p99, baseline) in results.items():
            print(f"| {backend} | {connections} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {baseline:,.0f} | {rate / baseline:.2f} |")


if __name__ == "__main__":
    main()
