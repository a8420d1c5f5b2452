#!/usr/bin/env bash
# `caredesk sla due --batch` against Python's businesstimedelta (with the holidays package)
# on the same 100,000 operations, plus the wall time of a 1,000,000-line batch.
# Python packages go into a throwaway virtual environment under bench/.venv.
#   OPS=100000 BIG=1000000 RUNS=5 bench/batch_vs_python.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
fi
bench/.venv/bin/pip install --quiet --disable-pip-version-check businesstimedelta holidays

cargo build --release --quiet -p caredesk
bench/.venv/bin/python bench/run_batch_benchmark.py
