"""Each agency's record (GET /agencies/records, the regency office's page), against a history
whose answers are worked out by hand below, on SQLite and PostgreSQL."""
from datetime import datetime, timedelta, timezone

import pytest

from services.requests import commands
from services.requests.models import Base
from shared import clock, events
from tests.databases import a_store
from tests.service.requests_world import (
    COORDINATOR, PDAM, PUPR, REGENCY, decision, handle, issue, planned, service_on, task_id,
)

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def records(request, tmp_path_factory):
    """Three cases of Punten. At T0 - 40 days, R3 went to Dinas PUPR, which accepted an hour
    later and has not finished (its deadline long past). At T0, R1 went to PDAM (lead) and
    Dinas PUPR (support), R2 to PDAM, R4 to PDAM with an hour to accept, R5 to PDAM. PDAM
    accepted R1 after 2 hours and completed it after 10 (in time); Dinas PUPR accepted R1
    after 4 hours; PDAM accepted R2 after 6 hours, and R4 after 3 (late); PDAM declined R5
    after an hour, and routing referred it to BPBD an hour later. Now is T0 + 2 days."""
    moment = {"now": T0 - timedelta(days=40)}
    patch = pytest.MonkeyPatch()
    patch.setattr(clock, "now", lambda: moment["now"])

    def at(delta, action):
        moment["now"] = T0 + delta
        action()

    with a_store(request.param, tmp_path_factory.mktemp("records"), "requests",
                 Base.metadata) as store:
        handle(store, events.ISSUE_REPORTED, issue("case-00r3", category="jalan-jembatan"))
        handle(store, events.ROUTING_DECIDED, decision("case-00r3", tasks=[planned("pupr-batu")]))
        moment["now"] += timedelta(hours=1)
        accept(store, PUPR, "case-00r3")
        moment["now"] = T0
        for case_id in ("case-00r1", "case-00r2"):
            handle(store, events.ISSUE_REPORTED, issue(case_id))
        handle(store, events.ROUTING_DECIDED, decision("case-00r1", tasks=[
            planned("pdam-batu"), planned("pupr-batu", role="support")]))
        handle(store, events.ROUTING_DECIDED, decision("case-00r2", tasks=[planned("pdam-batu")]))
        for case_id in ("case-00r4", "case-00r5"):
            handle(store, events.ISSUE_REPORTED, issue(case_id))
        handle(store, events.ROUTING_DECIDED, decision("case-00r4", tasks=[
            planned("pdam-batu", accept_in=timedelta(hours=1))]))
        handle(store, events.ROUTING_DECIDED, decision("case-00r5", tasks=[planned("pdam-batu")]))
        at(timedelta(hours=1), lambda: act(store, PDAM, "case-00r5", "decline"))
        at(timedelta(hours=2), lambda: handle(store, events.ROUTING_DECIDED, decision(
            "case-00r5", outcome=events.OUTCOME_REFERRED, tasks=[planned("bpbd-batu")])))
        at(timedelta(hours=3), lambda: accept(store, PDAM, "case-00r4"))
        at(timedelta(hours=2), lambda: accept(store, PDAM, "case-00r1"))
        at(timedelta(hours=4), lambda: accept(store, PUPR, "case-00r1"))
        at(timedelta(hours=6), lambda: accept(store, PDAM, "case-00r2"))
        at(timedelta(hours=10), lambda: act(store, PDAM, "case-00r1", "complete"))
        moment["now"] = T0 + timedelta(days=2)
        yield service_on(store)
    patch.undo()


def accept(store, agency, case_id):
    act(store, agency, case_id, "accept")


def act(store, agency, case_id, action):
    body = {} if action == "accept" else {"reason": "Bukan wewenang kami."} \
        if action == "decline" else {"note": "Selesai dikerjakan."}
    commands.run(store, commands.task_action, agency, case_id,
                 task_id(store, case_id, agency["scope"]), action, body)


def by_agency(answer):
    return {row["agency"]["id"]: row for row in answer["items"]}


def test_the_last_30_days(records):
    answer = records.agency_records(REGENCY, 30)
    assert (answer["days"], answer["from"], answer["to"]) == (30, "2026-10-06", "2026-11-04")
    rows = by_agency(answer)
    assert set(rows) == {"pdam-batu", "pupr-batu", "bpbd-batu"}
    pdam, pupr = rows["pdam-batu"], rows["pupr-batu"]
    assert (pdam["received"], pdam["accepted"], pdam["completed"], pdam["declined"]) == (4, 3, 1, 1)
    assert (pdam["accepted_in_time"], pdam["completed_in_time"], pdam["referred"]) == (2, 1, 1)
    assert (pdam["median_hours_to_accept"], pdam["median_hours_to_complete"]) == (3.0, 10.0)
    assert (pdam["open"], pdam["overdue"], pdam["overdue_share"]) == (2, 0, 0.0)
    bpbd = rows["bpbd-batu"]  # given R5 by referral, not accepted a day after
    assert (bpbd["received"], bpbd["accepted"], bpbd["open"], bpbd["overdue"]) == (1, 0, 1, 1)
    assert (pupr["received"], pupr["accepted"], pupr["completed"]) == (1, 1, 0)
    assert (pupr["median_hours_to_accept"], pupr["median_hours_to_complete"]) == (4.0, None)
    # Open now, whenever given: R1's support task, and R3's, past its deadline.
    assert (pupr["open"], pupr["overdue"], pupr["overdue_share"]) == (2, 1, 0.5)


def test_the_last_90_days_take_the_older_task_in(records):
    pupr = by_agency(records.agency_records(REGENCY, 90))["pupr-batu"]
    assert (pupr["received"], pupr["accepted"], pupr["median_hours_to_accept"]) == (2, 2, 2.5)


def test_a_period_of_days_chosen(records):
    """The days are the area's (WIB): T0 is 2 November, 08:00 in Batu; R3 was given on 23
    September."""
    only_r3 = by_agency(records.agency_records(REGENCY, first="2026-09-23", last="2026-09-23"))
    assert {agency: row["received"] for agency, row in only_r3.items()} == {
        "pupr-batu": 1, "pdam-batu": 0, "bpbd-batu": 0}  # (the others: their open tasks now)
    assert only_r3["pupr-batu"]["accepted_in_time"] == 1
    november = records.agency_records(REGENCY, first="2026-11-02", last="2026-11-02")
    assert (november["days"], by_agency(november)["pdam-batu"]["received"]) == (1, 4)
    later = records.agency_records(REGENCY, first="2026-11-03", last="2026-11-04")
    assert {row["received"] for row in later["items"]} == {0}


def test_a_record_counts_only_the_callers_cases(records):
    assert by_agency(records.agency_records(COORDINATOR, 30))["pdam-batu"]["received"] == 4
    other = {**COORDINATOR, "scope": "35.79.01"}
    assert records.agency_records(other, 30)["items"] == []
