"""How fast the coordinator's board answers on a regency-sized history (a million cases).

Against a requests database filled by bench/big_history.py (filled first if it holds no case),
runs each read of the board as three of the demo's actors — the coordinator of Bumiaji
(35.79.02), the Kantor Walikota Batu (35.79) and the PDAM (pdam-batu): GET /cases with no
filter and with each filter, in each sort, its first page and a later one (the middle of the
list); GET /cases/summary; GET /escalations. Each is timed `--repeat` times (after two untimed
calls), and p50 and p95 printed:

  direct  the requests service's own RPC methods (queries.py and views.py, as the gateway gets
          them), on a Store of that database, in this process;
  http    the same through a whole Jembatan (tests/e2e/system.py, PostgreSQL profile, the
          requests service pointed at that database): token check, gateway, RPC over the
          local RabbitMQ, service, database, JSON. The deadline watcher is kept from running
          (it would write to the history while it is measured).

Then the plan of every statement the direct calls ran, with EXPLAIN (ANALYZE, BUFFERS).

Run:  .venv/bin/python -m bench.board_queries [--database jembatan_bench_board]
          [--cases 1000000] [--repeat 30] [--via both|direct|http] [--no-plans]
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import math
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

from bench import big_history
from services.requests.models import Base
from shared import policy
from shared.db import Store
from tests.e2e.system import System
from tests.service.requests_world import service_on

ACTORS = {  # as the gateway hands them to the requests service
    "coordinator": {"id": "bench-coordinator", "role": "coordinator", "scope": "35.79.02",
                    "name": "Koordinator Kecamatan Bumiaji", "regency": "35.79"},
    "regency": {"id": "bench-regency", "role": "regency", "scope": "35.79",
                "name": "Kantor Walikota Batu", "regency": "35.79"},
    "agency": {"id": "bench-pdam", "role": "agency", "scope": "pdam-batu",
               "name": "Petugas PDAM", "regency": "35.79"},
}
FILTERS = (  # GET /cases: each filter once (with the default sort), then each other sort
    {}, {"status": "in_progress"}, {"status": "closed"}, {"category": "air-bersih"},
    {"village": "35.79.02.2001"}, {"district": "35.79.02"}, {"overdue": "true"},
    {"escalation_level": "district"}, {"likely_duplicate": "true"}, {"no_lead": "true"},
    {"sort": "oldest"}, {"sort": "updated"}, {"sort": "escalation"}, {"sort": "deadline"},
)


def agency_filter(who):
    """The agency filter: the PDAM's cases for the others; for the PDAM, those of Dinas PUPR."""
    return {"agency": "pupr-batu" if who == "agency" else "pdam-batu"}


def percentile(values, share):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Reads:
    """The board's reads as one actor, through the service's RPC methods (`direct`) or HTTP."""

    def __init__(self, service=None, client=None):
        self.service, self.client = service, client

    def call(self, actor, path, query):
        if self.client is not None:
            response = self.client.get(path, params=query)
            assert response.status_code == 200, response.text
            return response.json()
        typed = {k: (v == "true" if v in ("true", "false") else v) for k, v in query.items()}
        if path == "/cases/summary":
            return self.service.summary(actor)
        if path == "/escalations":
            return self.service.escalations(actor, typed)
        return self.service.list_cases(actor, typed)


def specs(reads):
    """[(actor name, path, query, label, total)]: every read the bench times, the later page of
    each list found from its first."""
    found = []
    for who, actor in ACTORS.items():
        escalations = [("/escalations", {})] if policy.role_may(
            actor["role"], "escalations.list") else []  # not an agency's
        for path, query in ([("/cases", q) for q in FILTERS] + [("/cases", agency_filter(who))]
                            + escalations):
            first = reads.call(actor, path, query)
            label = " ".join(f"{k}={v}" for k, v in query.items()) or "(no filter)"
            found.append((who, path, query, f"{path} {label} p1", first["total"]))
            middle = math.ceil(first["total"] / first["per_page"] / 2)
            if middle > 1:
                found.append((who, path, {**query, "page": str(middle)},
                              f"{path} {label} p{middle}", first["total"]))
        summary = reads.call(actor, "/cases/summary", {})
        found.append((who, "/cases/summary", {}, "/cases/summary", summary["total"]))
    return found


def timed(reads, actor, path, query, repeat):
    for _ in range(2):
        reads.call(actor, path, query)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        reads.call(actor, path, query)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), percentile(times, 0.95)


def capture(store):
    """The statements the store runs (SQL with its parameters), as a list that fills."""
    statements = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def keep(_connection, cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(cursor.mogrify(statement, parameters).decode())
    return statements


def plans(store, reads, found):
    """EXPLAIN (ANALYZE, BUFFERS) of each statement a read ran; a statement that reads the
    page's cases, tasks or photos by their ids, once (they differ only by the ids)."""
    statements = capture(store)
    seen = set()
    with store.engine.connect() as connection:
        for who, path, query, label, _total in found:
            del statements[:]
            reads.call(ACTORS[who], path, query)
            for statement in list(statements):
                shape = re.sub(r" IN \(('[^']*'(, )?)+\)", " IN (…)", statement)
                if shape in seen:
                    continue
                seen.add(shape)
                plan = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement)
                print(f"\n-- {who}: GET {label}\n{shape}\n"
                      + "\n".join(line for line, in plan))


class BoardSystem(System):
    """A whole Jembatan on PostgreSQL whose requests service reads the history's database."""

    def __init__(self, tmp_path, requests_url):
        super().__init__(tmp_path, database="postgresql", scheduler_seconds=24 * 3600)
        self.requests_url = requests_url

    def seed(self):
        printed = super().seed()
        self.urls["requests"] = self.requests_url
        self.env["JEMBATAN_DATABASE_URL_REQUESTS"] = self.requests_url
        return printed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="jembatan_bench_board")
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="the history's size, if the database holds none yet")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--via", choices=("both", "direct", "http"), default="both")
    parser.add_argument("--no-plans", action="store_true")
    args = parser.parse_args()
    print(f"command: {' '.join([sys.executable, '-m', 'bench.board_queries'] + sys.argv[1:])}")
    url = big_history.ensure(args.database, args.cases)
    store = Store("requests", Base.metadata, url=url)
    store.migrate()  # the indexes of the service's latest migrations
    direct = Reads(service=service_on(store))
    found = specs(direct)
    results = [{} for _spec in found]
    if args.via in ("both", "direct"):
        for (who, path, query, _label, _total), result in zip(found, results):
            result["direct"] = timed(direct, ACTORS[who], path, query, args.repeat)
    if args.via in ("both", "http"):
        with tempfile.TemporaryDirectory() as tmp:
            system = BoardSystem(Path(tmp), url).start()
            try:
                clients = {"coordinator": system.coordinator("35.79.02"),
                           "regency": system.regency("35.79"),
                           "agency": system.agency("pdam-batu")}
                for (who, path, query, _label, _total), result in zip(found, results):
                    result["http"] = timed(Reads(client=clients[who]), None, path, query,
                                           args.repeat)
            finally:
                system.stop()
    with store.engine.connect() as connection:
        size = connection.scalar(text("SELECT count(*) FROM cases"))
    print(f"{size:,} cases in {args.database} (PostgreSQL); {args.repeat} timed calls each, "
          "ms (p50 / p95)")
    print(f"{'actor':<12}{'read':<52}{'total':>8}  {'direct':>15}  {'http':>15}")
    for (who, _path, _query, label, total), timing in zip(found, results):
        cells = [f"{timing[via][0]:6.1f} /{timing[via][1]:6.1f}" if via in timing else ""
                 for via in ("direct", "http")]
        print(f"{who:<12}{label:<52}{total:>8}  {cells[0]:>15}  {cells[1]:>15}")
    worst = max(t[1] for timing in results for t in timing.values())
    print(f"worst p95: {worst:.1f} ms")
    if not args.no_plans:
        plans(store, direct, found)
    store.close()


if __name__ == "__main__":
    main()
