"""How fast a village's report reaches its agencies.

Starts a whole Jembatan (every service a real process, SQLite, the local RabbitMQ in a fresh
vhost), sends reports from several villages at once, and measures:
  - the time the village waits for its 202 (POST /api/v1/reports),
  - the time from that 202 until the case is routed with its tasks,
  - the time until the lead agency finds the task in its inbox,
  - reports per second end to end.

Run:  .venv/bin/python -m bench.report_to_routed [--reports 200] [--concurrency 10]
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import eventlet

from tests.e2e.system import System

VILLAGES = ["35.79.02.2001", "35.79.02.2008", "35.79.01.2005", "35.79.03.2004", "35.79.01.1001"]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def one_report(system, n):
    village = system.village(VILLAGES[n % len(VILLAGES)])
    started = time.monotonic()
    response = village.post("/reports", {
        "category": "air-bersih", "title": f"Air mati #{n}", "description": "Benchmark",
        "severity": "high", "affected_people": 100 + n})
    accepted = time.monotonic()
    assert response.status_code == 202, response.text
    case_id = response.json()["case_id"]
    while village.get(f"/cases/{case_id}").json()["status"] != "routed":
        eventlet.sleep(0.005)
    routed = time.monotonic()
    pdam = system.agency("pdam-batu")
    while not pdam.get("/notifications", params={"case_id": case_id}).json():
        eventlet.sleep(0.005)
    told = time.monotonic()
    return accepted - started, routed - accepted, told - accepted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        system = System(Path(tmp)).start()
        try:
            pool = eventlet.GreenPool(args.concurrency)
            began = time.monotonic()
            results = list(pool.imap(lambda n: one_report(system, n), range(args.reports)))
            elapsed = time.monotonic() - began
        finally:
            system.stop()
    print(f"command: {' '.join([sys.executable, '-m', 'bench.report_to_routed'] + sys.argv[1:])}")
    print(f"{args.reports} reports, {args.concurrency} at a time, SQLite, local RabbitMQ")
    for label, index in (("POST /reports → 202", 0), ("202 → case routed", 1),
                         ("202 → in PDAM's inbox", 2)):
        values = [r[index] * 1000 for r in results]
        print(f"  {label:<24} p50 {statistics.median(values):7.1f} ms   "
              f"p95 {percentile(values, 0.95):7.1f} ms   max {max(values):7.1f} ms")
    print(f"  throughput               {args.reports / elapsed:7.1f} reports/s (polling included)")


if __name__ == "__main__":
    main()
