"""Reports sent steadily while something goes wrong, as a careful client sends them, and what
must hold afterwards: every report a village got a 202 for is exactly one case, routed once,
and each party was told of each event once (the replica and cluster tests)."""
import json
from collections import Counter

import eventlet
import requests

from shared import dead_letters
from tests.broker import eventually

VILLAGES = ["35.79.02.2001", "35.79.02.2008", "35.79.01.2005", "35.79.03.2004", "35.79.01.1001"]
CATEGORIES = ["air-bersih", "jalan-jembatan", "sampah-lingkungan", "kesehatan"]


def report_body(n):
    return {"category": CATEGORIES[n % len(CATEGORIES)], "title": f"Laporan replika #{n}",
            "description": "Dikirim saat proses layanan dimatikan.",
            "severity": ("high", "medium")[n % 2], "affected_people": 40 + n}


def report_until_accepted(system, n, tag):
    """What a careful client does: send again with the same Idempotency-Key after an error.
    Returns the key, the case the 202 named, and how many attempts were refused."""
    village, key, refused = system.village(VILLAGES[n % len(VILLAGES)]), f"{tag}-{n}", []

    def attempt():
        try:
            response = village.post("/reports", report_body(n), headers={"Idempotency-Key": key})
        except requests.RequestException as exc:  # the gateway that had the connection died
            refused.append(type(exc).__name__)
            return None
        if response.status_code != 202:
            assert response.status_code == 503, response.text
            refused.append(503)
            return None
        return response.json()["case_id"]

    return key, eventually(attempt, timeout=60, interval=0.2), refused


def send_steadily(system, count, per_second, tag):
    """`count` reports, one every 1/per_second s, from several villages and of several kinds;
    a greenthread whose result is [(key, case_id, refused attempts)]."""
    def send():
        pool = eventlet.GreenPool(50)
        sent = []
        for n in range(count):
            sent.append(pool.spawn(report_until_accepted, system, n, tag))
            eventlet.sleep(1 / per_second)
        return [thread.wait() for thread in sent]

    return eventlet.spawn(send)


def by_case(rows):
    return {case_id: count for case_id, count in rows}


def assert_each_case_routed_once_and_each_party_told_once(system, case_ids):
    """Every case of `case_ids` is routed once with the tasks routing decided, and its village,
    coordinator and agencies were told of it once; nobody was told of any event twice."""
    def settled():
        cases = {row[0] for row in system.rows("requests", "SELECT id FROM cases")}
        assert case_ids <= cases, f"{len(case_ids - cases)} accepted reports are not cases"
        planned = {case_id: len(json.loads(tasks)) for case_id, tasks
                   in system.rows("routing", "SELECT case_id, tasks FROM decisions")}
        routed = by_case(system.rows(
            "requests", "SELECT case_id, count(*) FROM timeline WHERE type = 'routed' "
                        "GROUP BY case_id"))
        tasks = by_case(system.rows(
            "requests", "SELECT case_id, count(*) FROM tasks GROUP BY case_id"))
        told = Counter(case_id for case_id, in system.rows(
            "notifications", "SELECT case_id FROM notifications WHERE type = 'case_routed'"))
        receipts = Counter(case_id for case_id, in system.rows(
            "notifications", "SELECT case_id FROM notifications WHERE type = 'case_opened'"))
        for case_id in case_ids:
            assert routed.get(case_id) == 1, f"{case_id} routed {routed.get(case_id, 0)} times"
            assert tasks.get(case_id) == planned.get(case_id, -1), f"{case_id}: tasks"
            # the village, the coordinator and each agency given a task
            assert told[case_id] == 2 + planned[case_id], f"{case_id}: {told[case_id]} told"
            assert receipts[case_id] == 2, f"{case_id}: {receipts[case_id]} receipts"
        return True

    eventually(settled, timeout=120, interval=1)
    twice = system.rows("notifications", "SELECT event_id, recipient, count(*) FROM notifications "
                                          "GROUP BY event_id, recipient HAVING count(*) > 1")
    assert twice == [], f"told twice of one event: {twice}"
    assert dead_letters.list_all(system.vhost.uri) == []
