"""The floor under Jembatan's speed: a bare chain of three nameko services.

Each hop is a nameko service in its own process that takes an event, commits one row to its
own SQLite file (WAL, synchronous=NORMAL, as Jembatan's) and publishes the next event with
publisher confirms (nameko's EventDispatcher) — nothing else: no schemas, no signatures, no
outbox. What Jembatan does per report on top of this is its own overhead.

`--hops 5` makes the chain as long as a report's path in Jembatan (villages, requests, routing,
requests again, notifications: each commits and passes it on): the floor of that shape.

Its queues are nameko's own (classic, durable), or with `--quorum` quorum queues as
Jembatan's event queues are (replicated, written to disk before the confirm): the cost of that
guarantee, apart from Jembatan's own.

Run alone:  .venv/bin/python -m bench.bare_chain [--chains 3000] [--hops 3] [--quorum]
(bench.throughput runs it in the same invocation as Jembatan and prints the ratio.)
"""
import jembatan  # noqa: F401  (eventlet first)

import argparse
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from nameko.events import EventDispatcher, EventHandler
from nameko.runners import ServiceRunner
from nameko.standalone.events import event_dispatcher

HOPS = 3
WORKERS = 10  # as a Jembatan service (JEMBATAN_MAX_WORKERS)


class QuorumEventHandler(EventHandler):
    """nameko's event handler on a quorum queue."""

    def setup(self):
        super().setup()
        self.queue.queue_arguments = {"x-queue-type": "quorum"}


def database(folder, hop):
    connection = sqlite3.connect(Path(folder) / f"{hop}.db", timeout=30,
                                 isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE IF NOT EXISTS seen (n INTEGER PRIMARY KEY, at REAL)")
    return connection


def hop_names(hops):
    return [f"hop{n}" for n in range(1, hops + 1)]


def previous_of(hop):
    n = int(hop.removeprefix("hop"))
    return "bench" if n == 1 else f"hop{n - 1}"


def hop_service(hop, folder, quorum, last):
    handled = database(folder, hop)
    handler = (QuorumEventHandler if quorum else EventHandler).decorator

    class Hop:
        name = hop
        dispatch = EventDispatcher()

        @handler(previous_of(hop), "passed")
        def take(self, n):
            handled.execute("INSERT INTO seen VALUES (?, ?)", (n, time.time()))
            if not last:
                self.dispatch("passed", n)

    return Hop


def run_hop(hop, folder, amqp_uri, quorum, last):
    runner = ServiceRunner({"AMQP_URI": amqp_uri, "max_workers": WORKERS})
    runner.add_service(hop_service(hop, folder, quorum, last))
    runner.start()
    runner.wait()


def queues_ready(amqp_uri, names):
    from kombu import Connection

    with Connection(amqp_uri) as connection:
        for hop in names:
            try:
                connection.default_channel.queue_declare(
                    f"evt-{previous_of(hop)}-passed--{hop}.take", passive=True)
            except Exception:
                return False
    return True


@dataclass
class Floor:
    chains_per_second: float
    cpu_ms_per_chain: float     # the hops' processes, from start to end


def measure(amqp_uri, folder, chains, quorum=False, hops=HOPS):
    """The chain's rate, all `chains` sent at once (a saturation run), and its CPU."""
    names = hop_names(hops)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    processes = [subprocess.Popen([sys.executable, "-m", "bench.bare_chain", "--hop", hop,
                                   "--folder", str(folder), "--amqp-uri", amqp_uri]
                                  + (["--quorum"] if quorum else [])
                                  + (["--last"] if hop == names[-1] else []),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for hop in names]
    try:
        deadline = time.monotonic() + 60
        while not queues_ready(amqp_uri, names):
            if time.monotonic() > deadline:
                raise RuntimeError("the bare chain's services did not start")
            time.sleep(0.2)
        last = database(folder, names[-1])
        started = time.time()
        dispatch = event_dispatcher({"AMQP_URI": amqp_uri})
        for n in range(chains):
            dispatch("bench", "passed", n)
        deadline = time.monotonic() + 600
        while last.execute("SELECT count(*) FROM seen").fetchone()[0] < chains:
            if time.monotonic() > deadline:
                raise RuntimeError("the bare chain did not finish")
            time.sleep(0.2)
        finished = last.execute("SELECT max(at) FROM seen").fetchone()[0]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return Floor(chains / (finished - started), cpu * 1000 / chains)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chains", type=int, default=3000)
    parser.add_argument("--hops", type=int, default=HOPS, help="hops in the chain")
    parser.add_argument("--quorum", action="store_true", help="quorum queues, as Jembatan's")
    parser.add_argument("--hop", help=argparse.SUPPRESS)
    parser.add_argument("--last", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--amqp-uri", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hop:
        return run_hop(args.hop, args.folder, args.amqp_uri, args.quorum, args.last)
    import tempfile

    from tests.broker import Vhost

    vhost = Vhost()
    try:
        with tempfile.TemporaryDirectory() as folder:
            floor = measure(vhost.create(), folder, args.chains, args.quorum, args.hops)
    finally:
        vhost.delete()
    print(f"command: {' '.join([Path(sys.executable).name, '-m', 'bench.bare_chain'] + sys.argv[1:])}")
    print(f"  bare chain ({args.hops} nameko hops, SQLite commit + confirmed event each, {WORKERS} workers, "
          f"{'quorum' if args.quorum else 'classic'} queues): {floor.chains_per_second:7.1f} "
          f"chains/s over {args.chains} chains, {floor.cpu_ms_per_chain:.2f} ms CPU a chain")


if __name__ == "__main__":
    sys.exit(main())
