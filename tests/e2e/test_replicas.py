"""Two processes of every service (issue 10): one of each killed with `kill -9` while reports
flow loses and doubles nothing, and when the requests process that watches the deadlines is
killed, the other takes over and each missed deadline is still reminded once.

After the fault the databases of every service are read: every report a village got a 202 for
is exactly one case, routed once, and each party was told of each event once.
"""
import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import eventlet
import pytest

from tests.broker import eventually
from tests.e2e.steady_load import (
    assert_each_case_routed_once_and_each_party_told_once, report_until_accepted, send_steadily,
)
from tests.e2e.system import SERVICES, System

REPORTS, PER_SECOND = 150, 25


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """Every service twice over, the two processes of a service sharing its SQLite file
    (requests and notifications start on new files, which their two processes migrate
    together). Not on PostgreSQL: ten processes, each with its own pool, need more
    connections than the tests' server may give (README, "Replicas")."""
    running = System(tmp_path_factory.mktemp("replicas"), replicas=2).start()
    try:
        yield running
    finally:
        running.stop()


def reports_answered(system, gateway):
    """How many reports this gateway process answered 202 (its access log)."""
    return len(re.findall(r'"POST /api/v1/reports HTTP/1.1" 202', system.log(gateway, tail=None)))


def test_one_process_of_every_service_killed_while_reports_flow_loses_and_doubles_nothing(system):
    sender = send_steadily(system, REPORTS, PER_SECOND, "replica")
    for turn, service in enumerate(SERVICES, start=1):
        # each killed while reports are in flight, and started again as `jembatan up` does
        eventually(lambda: system.count("villages", "reports") >= 20 * turn, timeout=60)
        system.kill(f"{service}#1")
        system.run(service, replica=1)
    sent = sender.wait()
    system.wait_healthy()

    case_ids = {case_id for _key, case_id, _refused in sent}
    assert len(case_ids) == REPORTS, "two reports got the same case"
    assert system.count("villages", "reports") == REPORTS
    assert_each_case_routed_once_and_each_party_told_once(system, case_ids)
    # Sent once more, every report is the same case.
    again = {case_id for _key, case_id, _refused in eventlet.GreenPool(10).imap(
        lambda n: report_until_accepted(system, n, "replica"), range(REPORTS))}
    assert again == case_ids and system.count("villages", "reports") == REPORTS

    # The kernel spread the connections over both gateways; no process of a service that
    # shares its SQLite file with another found it locked.
    assert reports_answered(system, "gateway#1") > 0 and reports_answered(system, "gateway#2") > 0
    for name in system.processes:
        assert "database is locked" not in system.log(name, tail=None), name


def at(value):
    """A time as the database gives it back (naive UTC on SQLite)."""
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc)


def test_after_the_watchers_replica_is_killed_each_missed_deadline_is_reminded_once(system):
    """The deadline watcher runs in the requests process holding the lease (shared/lease.py);
    killed, another takes the lease over, and every step of the ladder is taken once. (The
    case's version would refuse a second reminder even without the lease: the lease spares
    the work twice over.)"""
    fresh = {case_id for _key, case_id, _refused in eventlet.GreenPool(5).imap(
        lambda n: report_until_accepted(system, n, "watched"), range(10))}
    assert_each_case_routed_once_and_each_party_told_once(system, fresh)
    lease = "SELECT holder, expires_at FROM leases WHERE name = 'deadlines'"

    def live_watcher():
        """The requests process holding the lease (the lease of one killed before, in the
        test above, lasts until it expires)."""
        holder = system.rows("requests", lease)[0][0]
        return next((name for name, process in system.processes.items()
                     if name.startswith("requests#") and f":{process.pid}:" in holder), None)

    watcher = eventually(live_watcher, timeout=90, interval=1)
    system.kill(watcher)
    system.run("requests", replica=int(watcher.partition("#")[2]))

    pending = system.rows("requests", "SELECT id, case_id, agency_id, accept_due_at FROM tasks "
                                      "WHERE status = 'pending'")
    system.set_clock(max(at(due) for *_task, due in pending) + timedelta(minutes=1))

    def reminded():
        missed = [case_id for case_id, in system.rows(
            "requests", "SELECT case_id FROM timeline WHERE type = 'deadline_missed'")]
        told = system.rows("notifications", "SELECT case_id, recipient FROM notifications "
                                            "WHERE type = 'deadline_missed'")
        assert len(missed) >= len(pending) and len(told) >= len(pending), (
            f"{len(missed)} missed, {len(told)} told of {len(pending)}")
        return missed, told

    eventually(reminded, timeout=90, interval=1)
    # A few more rounds of the watcher (its lease renewed twice) change nothing.
    renewed = system.rows("requests", lease)[0][1]
    eventually(lambda: at(system.rows("requests", lease)[0][1]) > at(renewed) + timedelta(
        seconds=2 * system.scheduler_seconds), timeout=30)
    eventually(lambda: system.vhost.messages_in("jembatan.notifications.events") == 0)
    missed, told = reminded()
    assert Counter(missed) == Counter(case_id for _task, case_id, _agency, _due in pending)
    assert Counter(told) == Counter((case_id, f"agency:{agency}")
                                    for _task, case_id, agency, _due in pending)
    steps = Counter(system.rows("requests", "SELECT case_id, type, data FROM timeline "
                                            "WHERE type IN ('deadline_missed', 'escalated')"))
    assert [step for step, count in steps.items() if count > 1] == []
    holder = system.rows("requests", lease)[0][0]
    assert any(f":{process.pid}:" in holder for name, process in system.processes.items()
               if name.startswith("requests#"))
