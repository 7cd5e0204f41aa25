"""How fast a village's report reaches its agencies.

Starts a whole Jembatan (every service a real process, SQLite, the local RabbitMQ in a fresh
vhost), sends reports from several villages at once, then reads from the system's own records:
  - the time the village waits for its 202 (POST /api/v1/reports, measured by the client),
  - report → case routed with its tasks (the case's `created_at` to its `routed` timeline entry),
  - report → the task in the lead agency's inbox (to the notification's `created_at`),
  - reports per second, from the first report to the last case routed.
The bench does not poll while the reports flow, so it measures the system, not its own load.

Run:  .venv/bin/python -m bench.report_to_routed [--reports 200] [--concurrency 10] [--pause 0]
      (--pause S: each sender waits S seconds after each report, to measure an idle system)
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import eventlet

from tests.broker import eventually
from tests.e2e.helpers import every, timeline
from tests.e2e.system import System

VILLAGES = ["35.79.02.2001", "35.79.02.2008", "35.79.01.2005", "35.79.03.2004", "35.79.01.1001"]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def at(value):
    return datetime.fromisoformat(value)


def send(system, n, pause):
    village = system.village(VILLAGES[n % len(VILLAGES)])
    started = time.monotonic()
    response = village.post("/reports", {
        "category": "air-bersih", "title": f"Air mati #{n}", "description": "Benchmark",
        "severity": "high", "affected_people": 100 + n})
    assert response.status_code == 202, response.text
    waited = time.monotonic() - started
    eventlet.sleep(pause)
    return response.json()["case_id"], waited


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp), scheduler_seconds=30).start()  # the default period
        try:
            pool = eventlet.GreenPool(args.concurrency)
            sent = list(pool.imap(lambda n: send(system, n, args.pause), range(args.reports)))
            admin, pdam = system.admin(), system.agency("pdam-batu")
            eventually(lambda: admin.get("/cases", params={"status": "routed", "per_page": 1})
                       .json()["total"] == args.reports, timeout=300, interval=0.5)
            eventually(lambda: pdam.get("/notifications", params={"per_page": 1}).json()["total"]
                       >= args.reports, timeout=300, interval=0.5)
            told = {n["case_id"]: at(n["created_at"]) for n in every(pdam, "/notifications")
                    if n["type"] == "case_routed"}
            reported, routed = {}, {}
            for case_id, _wait in sent:
                steps = timeline(admin, case_id)
                reported[case_id] = at(steps[0]["at"])
                routed[case_id] = next(at(e["at"]) for e in steps if e["type"] == "routed")
        finally:
            system.stop()
    print(f"command: {' '.join([sys.executable, '-m', 'bench.report_to_routed'] + sys.argv[1:])}")
    print(f"{args.reports} reports, {args.concurrency} at a time, {args.pause} s apart, SQLite, "
          "local RabbitMQ")
    rows = (("POST /reports → 202", [wait * 1000 for _id, wait in sent]),
            ("report → case routed", [(routed[c] - reported[c]).total_seconds() * 1000 for c in routed]),
            ("report → PDAM's inbox", [(told[c] - reported[c]).total_seconds() * 1000 for c in told]))
    for label, values in rows:
        print(f"  {label:<24} p50 {statistics.median(values):7.1f} ms   "
              f"p95 {percentile(values, 0.95):7.1f} ms   max {max(values):7.1f} ms")
    span = (max(routed.values()) - min(reported.values())).total_seconds()
    print(f"  throughput               {args.reports / span:7.1f} reports/s routed"
          + (" (paced by --pause)" if args.pause else ""))


if __name__ == "__main__":
    main()
