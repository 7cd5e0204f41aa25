"""How fast villages' reports reach their lead agency, and how that compares with the floor.

Starts a whole Jembatan (every service a real process, a fresh vhost on the local RabbitMQ, the
demo city seeded; SQLite by default, or PostgreSQL), then in one invocation:

1. an open-loop run: reports sent at a fixed rate (`--rate`, each at its own scheduled moment
   whether or not the ones before were answered), from every village of the demo and every
   category that has a rule, with mixed severities; latencies count from the scheduled moment,
   so a slow system cannot hide them by sending less;
2. a saturation run: `--senders` clients each sending its next report as soon as the last was
   answered, for `--saturation-reports` reports: how many reports a second end routed with the
   lead agency told (from the first report sent to the last lead agency's notification), and
   the CPU each process (and the broker) spent per report;
3. the bare chain (bench/bare_chain.py: three nameko hops that commit and publish confirmed
   events, nothing else), on nameko's classic queues and on quorum queues as Jembatan's, and
   the ratio of 2 to each; then the bare chain as long as a report's path (five hops: villages,
   requests, routing, requests, notifications), the floor of Jembatan's own shape.

Times come from the system's own records (the case's `routed` timeline entry, the lead
agency's notification), read from each service's database once a run is over; the bench only
counts notifications now and then while the reports flow. It prints each figure with the
command that produced it.

Run:  .venv/bin/python -m bench.throughput [--rate 50] [--reports 1500] [--senders 16]
      [--saturation-reports 3000] [--chains 3000] [--database sqlite|postgresql] [--skip-bare]
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import eventlet
from eventlet.queue import LightQueue
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench import bare_chain
from tests.broker import Vhost
from tests.e2e.system import System

SEVERITIES = ("low", "medium", "medium", "high", "critical")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class Sent:
    n: int
    scheduled: float            # wall clock (time.time()) the report was due to be sent
    answered: float = 0.0
    status: int = 0
    case_id: str | None = None


@dataclass
class Reports:
    """The reports a run sends: every village of the demo × every category with a rule."""

    tokens: list
    categories: list
    counter: itertools.count = field(default_factory=itertools.count)

    def next(self):
        n = next(self.counter)
        rng = random.Random(n)
        body = {"category": rng.choice(self.categories), "title": f"Laporan uji #{n}",
                "description": "Laporan dari bench.throughput.",
                "severity": rng.choice(SEVERITIES), "affected_people": rng.randint(1, 2000)}
        return n, self.tokens[n % len(self.tokens)], json.dumps(body)


class Connections:
    """Keep-alive HTTP connections to the gateway, one per request in flight."""

    def __init__(self, base):
        parts = urlsplit(base)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.idle = LightQueue()

    def post_report(self, token, body):
        try:
            connection = self.idle.get_nowait()
        except eventlet.queue.Empty:
            connection = HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request("POST", self.path + "/reports", body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        except Exception:
            connection.close()
            raise
        self.idle.put(connection)
        return response.status, answer


def send_one(connections, reports, scheduled):
    n, token, body = reports.next()
    sent = Sent(n, scheduled)
    try:
        sent.status, answer = connections.post_report(token, body)
        if sent.status == 202:
            sent.case_id = json.loads(answer)["case_id"]
    except Exception:  # refused or cut: counted as not accepted
        sent.status = -1
    sent.answered = time.time()
    return sent


def open_loop(connections, reports, rate, count):
    """Send `count` reports at `rate` a second, each at its scheduled moment."""
    pool = eventlet.GreenPool(10_000)
    results = []
    start = time.time() + 0.2
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - time.time()
        if delay > 0:
            eventlet.sleep(delay)
        pool.spawn(lambda s=scheduled: results.append(send_one(connections, reports, s)))
    pool.waitall()
    return results


def closed_loop(connections, reports, senders, count):
    """`senders` clients, each sending its next report once the last was answered."""
    results = []
    left = itertools.count()

    def sender():
        while next(left) < count:
            results.append(send_one(connections, reports, time.time()))

    pool = eventlet.GreenPool(senders)
    for _ in range(senders):
        pool.spawn(sender)
    pool.waitall()
    return results


class Records:
    """What the services' own databases say of the reports of a run."""

    def __init__(self, system):
        self.engines = {service: create_engine(system.database_url(service), poolclass=NullPool)
                        for service in ("villages", "requests", "routing", "notifications")}

    def told_count(self, case_ids):
        """How many of these cases have reached an agency's inbox."""
        with self.engines["notifications"].connect() as connection:
            told = set(connection.execute(text(
                "SELECT DISTINCT case_id FROM notifications "
                "WHERE type = 'case_routed' AND recipient LIKE 'agency:%'")).scalars())
        return len(told & case_ids)

    def times(self, case_ids):
        """case id -> (routed at, lead agency told at), as epoch seconds."""
        with self.engines["requests"].connect() as connection:
            routed = dict(connection.execute(text(
                "SELECT case_id, min(at) FROM timeline WHERE type = 'routed' GROUP BY case_id")).all())
            lead = dict(connection.execute(text(
                "SELECT case_id, agency_id FROM tasks WHERE role = 'lead'")).all())
        with self.engines["notifications"].connect() as connection:
            told = {(case_id, recipient): at for case_id, recipient, at in connection.execute(
                text("SELECT case_id, recipient, min(created_at) FROM notifications "
                     "WHERE type = 'case_routed' GROUP BY case_id, recipient")).all()}
        result = {}
        for case_id in case_ids:
            at = told.get((case_id, f"agency:{lead.get(case_id)}"))
            if case_id in routed and at is not None:
                result[case_id] = (epoch(routed[case_id]), epoch(at))
        return result


    def emitted(self, service, event_type):
        """case id -> when `service` emitted its event of this type (the outbox row's
        created_at: in the handler's transaction, just before its commit), as epoch seconds."""
        with self.engines[service].connect() as connection:
            rows = connection.execute(text(
                "SELECT body, created_at FROM outbox WHERE type = :type"), {"type": event_type})
            return {json.loads(body)["correlation_id"]: epoch(at) for body, at in rows}


# Where a report's time goes, hop by hop: (step, the service and event that mark its end).
HOPS = (("villages stored the report", "villages", "issue_reported"),
        ("requests opened the case", "requests", "case_opened"),
        ("routing decided", "routing", "routing_decided"),
        ("requests routed the case", "requests", "case_routed"))


def hop_lines(sent, records, times):
    """Each step's share of report → lead agency's inbox: p50 and p99 of the time from the
    step before (the first from the moment the report was due to be sent)."""
    marks = [records.emitted(service, event_type) for _step, service, event_type in HOPS]
    steps = {step: [] for step, _service, _type in HOPS + (("lead agency told", None, None),)}
    for s in sent:
        if s.case_id not in times or not all(s.case_id in m for m in marks):
            continue
        moments = [s.scheduled] + [m[s.case_id] for m in marks] + [times[s.case_id][1]]
        for step, before, after in zip(steps, moments, moments[1:]):
            steps[step].append((after - before) * 1000)
    lines = ["    where the time goes (each step from the one before, from the services' "
             "outboxes):"]
    for step, values in steps.items():
        if values:
            lines.append(f"      {step:<28} p50 {percentile(values, 0.5):8.1f} ms   "
                         f"p99 {percentile(values, 0.99):8.1f} ms")
    return lines


def epoch(value):
    """A timestamp column (UTC, no zone) as epoch seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()


def wait_until_told(records, accepted, timeout=600):
    deadline = time.monotonic() + timeout
    while records.told_count(accepted) < len(accepted):
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {records.told_count(accepted)} of {len(accepted)} "
                               "reports reached their agency in time")
        eventlet.sleep(0.5)


def summarise(label, sent, records):
    accepted = {s.case_id for s in sent if s.status == 202}
    refused = len(sent) - len(accepted)
    wait_until_told(records, accepted)
    times = records.times(accepted)
    by_case = {s.case_id: s for s in sent if s.status == 202}
    post = [(s.answered - s.scheduled) * 1000 for s in sent if s.status == 202]
    routed = [(times[c][0] - by_case[c].scheduled) * 1000 for c in times]
    told = [(times[c][1] - by_case[c].scheduled) * 1000 for c in times]
    span = max(t[1] for t in times.values()) - min(s.scheduled for s in sent)
    lines = [f"{label}: {len(sent)} reports, {len(accepted)} accepted (202), {refused} refused"]
    for name, values in (("POST /reports → 202", post), ("report → case routed", routed),
                         ("report → lead agency's inbox", told)):
        lines.append(f"    {name:<30} p50 {percentile(values, 0.5):8.1f} ms   "
                     f"p99 {percentile(values, 0.99):8.1f} ms   max {max(values):8.1f} ms")
    rate = len(times) / span
    lines.append(f"    {'routed, lead agency told':<30} {rate:8.1f} reports/s "
                 f"(first sent → last told, {span:.1f} s)")
    return lines + hop_lines(sent, records, times), rate


def cpu_seconds(pid):
    """The CPU time (user + system) a process has spent so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_of(user, command):
    """The processes of `command` run by `user` (as Debian's packages run RabbitMQ and
    PostgreSQL)."""
    return [int(pid) for pid in subprocess.run(["pgrep", "-u", user, command],
                                               capture_output=True, text=True).stdout.split()]


class CpuMeter:
    """CPU spent by each service process, the broker and (on PostgreSQL) the database server
    between start() and per_report(). A server's CPU is its processes': those that ended
    meanwhile are not counted, those that started are counted whole."""

    def __init__(self, system):
        self.groups = {name: lambda pid=process.pid: [pid]
                       for name, process in system.processes.items()}
        self.groups["rabbitmq"] = lambda: pids_of("rabbitmq", "beam.smp")
        if system.database == "postgresql":
            self.groups["postgresql"] = lambda: pids_of("postgres", "postgres")
        self.before = {}

    def _spent(self, pids):
        spent = {}
        for pid in pids:
            try:
                spent[pid] = cpu_seconds(pid)
            except FileNotFoundError:  # ended just now
                pass
        return spent

    def start(self):
        self.before = {name: self._spent(pids()) for name, pids in self.groups.items()}

    def per_report(self, reports):
        spent = {}
        for name, pids in self.groups.items():
            now = self._spent(pids())
            seconds = sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in now.items())
            spent[name] = seconds * 1000 / reports
        parts = ", ".join(f"{name} {ms:.1f}" for name, ms in spent.items())
        return [f"    CPU per report (ms): {parts}; in all {sum(spent.values()):.1f} ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop reports a second")
    parser.add_argument("--reports", type=int, default=1500, help="open-loop reports")
    parser.add_argument("--senders", type=int, default=16, help="saturation run's clients")
    parser.add_argument("--saturation-reports", type=int, default=3000)
    parser.add_argument("--chains", type=int, default=3000, help="bare chain's chains")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--skip-bare", action="store_true", help="do not run the bare chain")
    args = parser.parse_args()
    command = " ".join([Path(sys.executable).name, "-m", "bench.throughput"] + sys.argv[1:])
    out = [f"command: {command}",
           f"machine: {os.cpu_count()} cores, {platform.python_implementation()} "
           f"{platform.python_version()}; database {args.database}, local RabbitMQ; "
           f"load average before: {os.getloadavg()[0]:.2f}"]
    with tempfile.TemporaryDirectory() as tmp:
        # As in production, no movable clock (the tests' clock file costs every `utcnow`).
        system = System(Path(tmp), database=args.database, scheduler_seconds=30,
                        env={"JEMBATAN_CLOCK_OFFSET_FILE": ""}).start()
        try:
            tokens = [a["token"] for a in system.actors.values() if a["role"] == "village"]
            categories = sorted({r["category"] for r in json.loads(
                (Path(__file__).parents[1] / "services/routing/data/35.79-kota-batu.json")
                .read_text())["rules"]})
            reports = Reports(tokens, categories)
            connections = Connections(system.base)
            records = Records(system)
            for _warm in open_loop(connections, reports, 20, 40):
                pass
            out.append(f"reports from {len(tokens)} villages, {len(categories)} categories, "
                       "severities low..critical")
            lines, _ = summarise(
                f"open loop at {args.rate:g} reports/s",
                open_loop(connections, reports, args.rate, args.reports), records)
            out += lines
            meter = CpuMeter(system)
            meter.start()
            sent = closed_loop(connections, reports, args.senders, args.saturation_reports)
            lines, product = summarise(f"saturation, {args.senders} senders", sent, records)
            out += lines + meter.per_report(len(sent))
        finally:
            system.stop()
    if not args.skip_bare:
        floors = {}
        for hops, quorum in ((3, False), (3, True), (5, True)):
            vhost = Vhost()
            try:
                with tempfile.TemporaryDirectory() as folder:
                    floor = bare_chain.measure(vhost.create(), folder, args.chains, quorum, hops)
            finally:
                vhost.delete()
            floors[hops, quorum] = floor.chains_per_second
            kind = "quorum queues, as Jembatan's" if quorum else "nameko's classic queues"
            shape = ", as long as a report's path" if hops == 5 else ""
            out.append(f"bare chain ({hops} nameko hops{shape}, SQLite commit + confirmed event "
                       f"each, {kind}): {floor.chains_per_second:.1f} chains/s over "
                       f"{args.chains} chains, {floor.cpu_ms_per_chain:.2f} ms CPU a chain "
                       "(hops only)")
            out.append(f"    ratio: Jembatan's saturation throughput / this bare chain = "
                       f"{product / floor.chains_per_second:.2f}")
        out.append(f"    ratio: the 5-hop bare chain / the 3-hop one (both quorum) = "
                   f"{floors[5, True] / floors[3, True]:.2f}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
