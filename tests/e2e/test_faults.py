"""Never lose a case (issue 3): services killed, the broker restarted, events repeated.

After each fault the databases of every service are counted: every accepted report is exactly
one case, routed once, and each party was told once.
"""
import json
import shutil
import signal
import subprocess

import eventlet
import pytest
import requests
from sqlalchemy import create_engine, text
from kombu import Connection, Producer

from shared import dead_letters, signing
from shared.messaging import EVENTS_EXCHANGE
from tests.broker import eventually
from tests.e2e.helpers import (
    PUNTEN, case_when, clean_water_report, inbox_types, task_of, timeline,
)
from tests.e2e.system import SERVICES

VILLAGES = ["35.79.02.2001", "35.79.02.2008", "35.79.01.2005", "35.79.03.2004"]
PARTIES_TOLD_OF_ROUTING = 4  # the village, the coordinator, the PDAM (lead), Dinas PUPR


def report_surely(village, body, key, timeout=90):
    """What a careful client does: send again with the same Idempotency-Key until accepted."""
    def attempt():
        try:
            response = village.post("/reports", body, headers={"Idempotency-Key": key})
        except requests.RequestException:
            return None
        assert response.status_code in (202, 503), response.text
        return response.json() if response.status_code == 202 else None

    return eventually(attempt, timeout=timeout, interval=0.2)


def send_reports(system, count, tag):
    def one(n):
        village = system.village(VILLAGES[n % len(VILLAGES)])
        body = clean_water_report(title=f"{tag} #{n}", affected_people=100 + n)
        return report_surely(village, body, key=f"{tag}-{n}")["case_id"]

    return eventlet.spawn(lambda: list(eventlet.GreenPool(5).imap(one, range(count))))


def reports_flowing(system, before, at_least):
    """Wait until villages has taken `at_least` more reports than `before`."""
    eventually(lambda: system.count("villages", "reports") >= before + at_least, timeout=60)


def assert_every_report_routed_once(system):
    """Every report villages accepted is one case in requests, decided once by routing, with
    its two tasks and one `routed` step, and each party told of it once."""
    total = system.count("villages", "reports")
    expected = {
        ("requests", "cases", ()): total,
        ("routing", "decisions", ()): total,
        ("requests", "tasks", ()): 2 * total,
        ("requests", "timeline", (("type", "routed"),)): total,
        ("notifications", "notifications", (("type", "case_routed"),)): PARTIES_TOLD_OF_ROUTING * total,
        ("notifications", "notifications", (("type", "case_opened"),)): 2 * total,
    }

    def counted():
        return {key: system.count(key[0], key[1], **dict(key[2])) for key in expected}

    eventually(lambda: counted() == expected, timeout=240, interval=0.5)


def test_every_service_killed_in_turn_while_reports_flow_loses_and_doubles_nothing(system):
    before = system.count("villages", "reports")
    sender = send_reports(system, 200, "kill9")
    for turn, service in enumerate(SERVICES, start=1):
        reports_flowing(system, before, 10 * turn)  # each killed while reports are in flight
        system.kill(service, signal.SIGKILL)
        system.run(service)
        system.wait_healthy()
    case_ids = sender.wait()
    assert len(set(case_ids)) == 200, "two reports got the same case"
    assert system.count("villages", "reports") == before + 200
    assert_every_report_routed_once(system)


def test_a_service_stopped_with_sigterm_finishes_its_work_first(system):
    before = system.count("villages", "reports")
    sender = send_reports(system, 40, "sigterm")
    reports_flowing(system, before, 5)
    process = system.processes.pop("requests")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    system.run("requests")
    system.wait_healthy()
    assert len(set(sender.wait())) == 40
    assert_every_report_routed_once(system)


def test_a_repeated_or_late_event_changes_nothing(system):
    village, pdam = system.village(PUNTEN), system.agency("pdam-batu")
    accepted = report_surely(village, clean_water_report(title="Diulang"), key="repeat-1")
    case = case_when(village, accepted["case_id"], "routed")
    task = task_of(case, "pdam-batu")["id"]
    assert pdam.post(f"/cases/{case['id']}/tasks/{task}/accept", {}).status_code == 200
    inbox_types(village, case["id"], ["task_accepted"])
    notified = system.count("notifications", "notifications", case_id=case["id"])
    steps = timeline(village, case["id"])

    # Every event of this case, three times over and newest first; plus routing's decision
    # again under a new id, as if routing had decided twice.
    bodies = []
    for service in ("requests", "routing"):
        engine = create_engine(system.database_url(service))
        with engine.connect() as connection:
            bodies += [row[0] for row in connection.execute(text(
                "SELECT body FROM outbox WHERE body LIKE :id ORDER BY seq DESC"),
                {"id": f"%{case['id']}%"})]
        engine.dispose()
    decided = next(json.loads(b) for b in bodies if '"routing_decided"' in b)
    redecided = dict(decided, event_id="00000000-0000-4000-8000-000000000001")
    with Connection(system.vhost.uri) as connection:
        producer = Producer(connection.default_channel)
        for body in bodies * 3 + [json.dumps(redecided)]:
            producer.publish(body, exchange=EVENTS_EXCHANGE, routing_key=json.loads(body)["type"],
                             content_type="application/json", content_encoding="utf-8",
                             headers={signing.SIGNATURE_HEADER: signing.signature(body.encode())})

    # A later, real step goes through; the repeats changed nothing.
    assert pdam.post(f"/cases/{case['id']}/tasks/{task}/progress", {"note": "Jalan"}).status_code == 200
    inbox_types(village, case["id"], ["task_progressed"])
    eventually(lambda: all(system.vhost.messages_in(f"jembatan.{s}.events") == 0
                           for s in ("requests", "routing", "notifications")))
    assert system.count("notifications", "notifications", case_id=case["id"]) == notified + 2
    now = village.get(f"/cases/{case['id']}").json()
    assert now["status"] == "in_progress"
    assert len(now["tasks"]) == 2
    assert timeline(village, case["id"])[:len(steps)] == steps
    assert system.count("requests", "timeline", case_id=case["id"]) == len(steps) + 1


def test_a_poison_message_is_dead_lettered_and_the_next_reports_flow(system):
    poison = json.dumps({"type": "case_opened", "payload": "rusak"})
    with Connection(system.vhost.uri) as connection:  # signed: a producer's bug, not a forgery
        Producer(connection.default_channel).publish(
            poison, exchange=EVENTS_EXCHANGE, routing_key="case_opened",
            content_type="application/json", content_encoding="utf-8",
            headers={signing.SIGNATURE_HEADER: signing.signature(poison.encode())})
    letters = eventually(lambda: len(dead_letters.list_all(system.vhost.uri)) == 2
                         and dead_letters.list_all(system.vhost.uri))
    assert sorted(letter.queue for letter in letters) == [
        "jembatan.notifications.events", "jembatan.routing.events"]
    assert all("invalid event" in letter.reason for letter in letters)
    accepted = report_surely(system.village(PUNTEN), clean_water_report(title="Setelah racun"),
                             key="after-poison")
    case_when(system.village(PUNTEN), accepted["case_id"], "routed")
    health = system.anonymous().get("/health").json()
    assert health["dead_letters"] == 2


@pytest.mark.alone
@pytest.mark.skipif(shutil.which("rabbitmqctl") is None, reason="needs rabbitmqctl on this machine")
def test_reports_while_the_broker_restarts_are_refused_or_delivered_never_lost(system):
    village = system.village(PUNTEN)
    before = system.count("villages", "reports")
    sender = send_reports(system, 40, "broker")
    reports_flowing(system, before, 5)
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=60)
    try:
        refused = village.post("/reports", clean_water_report(title="Saat broker mati"))
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "unavailable"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, timeout=120)
    assert len(set(sender.wait())) == 40
    system.wait_healthy(timeout=120)
    assert_every_report_routed_once(system)


def block(system, service):
    """The database of one service refuses every connection, and drops those it had."""
    database = system.database_url(service).rsplit("/", 1)[1]
    with system.postgres.admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false'))
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = :name"), {"name": database})


def unblock(system, service):
    database = system.database_url(service).rsplit("/", 1)[1]
    with system.postgres.admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true'))


def test_a_services_database_down_for_30_seconds_delays_its_events_and_loses_none(system):
    if system.database != "postgresql":
        pytest.skip("a database server going away is the PostgreSQL profile's fault")
    village = system.village(PUNTEN)
    block(system, "villages")
    try:
        refused = village.post("/reports", clean_water_report(title="Basis data desa mati"))
        assert refused.status_code == 503, refused.text  # refused, never accepted then lost
    finally:
        unblock(system, "villages")

    block(system, "requests")
    try:
        accepted = send_reports(system, 10, "dbdown").wait()
        assert len(set(accepted)) == 10  # villages still takes reports
        cases = village.get("/cases")
        assert cases.status_code == 503, cases.text
        assert cases.json()["error"]["code"] == "unavailable"
        eventlet.sleep(30)  # the fault itself: the database stays away 30 seconds
    finally:
        unblock(system, "requests")
    assert_every_report_routed_once(system)
    failed = [letter for letter in dead_letters.list_all(system.vhost.uri)
              if "handler failed" in letter.reason]
    assert failed == []
