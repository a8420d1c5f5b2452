"""caredesk `sla due --batch` against Python's businesstimedelta, on the same operations.

Run through bench/batch_vs_python.sh, which prepares a throwaway virtual environment with
businesstimedelta and holidays. Prints wall times (medians where runs repeat), the ratio,
how many answers agree, and the time of a 1,000,000-line batch.
"""

import datetime
import os
import random
import statistics
import subprocess
import sys
import time

import businesstimedelta
import holidays
import pytz
from dateutil.easter import easter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench", "out")
CAREDESK = os.path.join(ROOT, "target", "release", "caredesk")
MONTREAL = pytz.timezone("America/Montreal")
FIRST = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
LAST = datetime.datetime(2032, 1, 1, tzinfo=datetime.timezone.utc)
MAX_MINUTES = 15 * 540  # fifteen business days of the americas calendar


class PolicyHolidays(holidays.HolidayBase):
    """The six holidays of the default policy, built with the holidays package."""

    def _populate(self, year):
        super()._populate(year)
        sunday = easter(year)
        self[datetime.date(year, 1, 1)] = "New Year's Day"
        self[sunday - datetime.timedelta(days=2)] = "Good Friday"
        self[sunday + datetime.timedelta(days=1)] = "Easter Monday"
        september_first = datetime.date(year, 9, 1)
        self[september_first + datetime.timedelta(days=(7 - september_first.weekday()) % 7)] = "Labour Day"
        self[datetime.date(year, 12, 25)] = "Christmas Day"
        self[datetime.date(year, 12, 26)] = "Boxing Day"


def operations(count, seed):
    rng = random.Random(seed)
    span = int((LAST - FIRST).total_seconds())
    for _ in range(count):
        start = FIRST + datetime.timedelta(seconds=rng.randrange(span))
        yield start.astimezone(MONTREAL), rng.randint(1, MAX_MINUTES)


def write_operations(path, count, seed):
    with open(path, "w") as out:
        out.write("calendar,start,minutes\n")
        for start, minutes in operations(count, seed):
            out.write(f"americas,{start.isoformat()},{minutes}\n")


def time_caredesk(path, runs):
    """Median wall time of `caredesk sla due --batch` over the file, and its answers."""
    times = []
    answers = None
    for _ in range(runs):
        with open(path) as stdin:
            began = time.perf_counter()
            done = subprocess.run([CAREDESK, "sla", "due", "--batch"], stdin=stdin, capture_output=True, check=True)
            times.append(time.perf_counter() - began)
        answers = done.stdout.decode().splitlines()
    return statistics.median(times), answers


def time_python(path):
    workday = businesstimedelta.WorkDayRule(
        start_time=datetime.time(8), end_time=datetime.time(17), working_days=[0, 1, 2, 3, 4], tz=MONTREAL
    )
    closed = businesstimedelta.HolidayRule(PolicyHolidays(), tz=MONTREAL)
    rules = businesstimedelta.Rules([workday, closed])
    with open(path) as source:
        next(source)
        parsed = []
        for line in source:
            _, start, minutes = line.rstrip("\n").split(",")
            parsed.append((datetime.datetime.fromisoformat(start), int(minutes)))
    answers = []
    began = time.perf_counter()
    for start, minutes in parsed:
        due = start + businesstimedelta.BusinessTimeDelta(rules, seconds=minutes * 60)
        answers.append(due.astimezone(MONTREAL).isoformat())
    return time.perf_counter() - began, answers


def main():
    count = int(os.environ.get("OPS", "100000"))
    big = int(os.environ.get("BIG", "1000000"))
    runs = int(os.environ.get("RUNS", "5"))
    os.makedirs(OUT, exist_ok=True)

    ops = os.path.join(OUT, "ops.csv")
    write_operations(ops, count, seed=2026)
    caredesk_seconds, caredesk_answers = time_caredesk(ops, runs)
    print(f"caredesk sla due --batch, {count:,} operations: {caredesk_seconds:.3f} s (median of {runs} runs, whole process)")
    sys.stdout.flush()
    python_seconds, python_answers = time_python(ops)
    print(f"businesstimedelta + holidays, {count:,} operations: {python_seconds:.3f} s (one run, the loop only)")
    agree = sum(1 for ours, theirs in zip(caredesk_answers, python_answers) if ours == theirs)
    print(f"answers that agree: {agree:,} of {count:,}")
    print(f"ratio python / caredesk: {python_seconds / caredesk_seconds:.0f}x")
    if agree != count:
        for ours, theirs, line in zip(caredesk_answers, python_answers, open(ops).readlines()[1:]):
            if ours != theirs:
                print(f"  first disagreement: {line.strip()} -> caredesk {ours}, python {theirs}")
                break

    if big:
        big_ops = os.path.join(OUT, "ops-big.csv")
        write_operations(big_ops, big, seed=1)
        big_seconds, big_answers = time_caredesk(big_ops, runs)
        assert len(big_answers) == big
        print(f"caredesk sla due --batch, {big:,} lines: {big_seconds:.3f} s (median of {runs} runs)")


if __name__ == "__main__":
    main()
