"""Missed deadlines climb the ladder up to the Kantor Walikota, on the clock of every process."""
import signal
from datetime import datetime, timedelta

import pytest

from shared import workdays
from tests.broker import eventually
from tests.e2e.helpers import BUMIAJI, PUNTEN, case_when, clean_water_report, inbox_types, report
from tests.e2e.system import System

MINUTE = timedelta(minutes=1)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    """A system of its own: these tests move the clock forward, days at a time."""
    running = System(tmp_path_factory.mktemp("ladder")).start()
    try:
        yield running
    finally:
        running.stop()


def at(value):
    return datetime.fromisoformat(value)


def timeline_types(system, case_id):
    return [e["type"] for e in system.admin().get(f"/cases/{case_id}/timeline").json()]


def test_a_silent_agency_is_reminded_then_the_case_climbs_to_the_kantor_walikota(system):
    village, pdam = system.village(PUNTEN), system.agency("pdam-batu")
    coordinator, walikota = system.coordinator(BUMIAJI), system.regency("35.79")
    case = case_when(village, report(village, clean_water_report(
        severity="medium", affected_people=40))["case_id"], "routed")
    [task] = case["tasks"]
    accept_due = at(task["accept_due_at"])

    system.set_clock(accept_due + MINUTE)
    reminder = inbox_types(pdam, case["id"], ["deadline_missed"])
    assert any("Tenggat terlewat" in n["title"] for n in reminder)
    assert village.get(f"/cases/{case['id']}").json()["overdue"] is True
    overdue = coordinator.get("/cases", params={"overdue": "true"}).json()["items"]
    assert case["id"] in [c["id"] for c in overdue]

    district_due = workdays.due(accept_due, "1wd", PUNTEN)
    system.set_clock(district_due + MINUTE)
    inbox_types(coordinator, case["id"], ["case_escalated"])
    assert village.get(f"/cases/{case['id']}").json()["escalation_level"] == "district"
    assert [c["id"] for c in coordinator.get("/escalations").json()["items"]] == [case["id"]]
    assert walikota.get("/escalations").json()["items"] == []

    regency_due = workdays.due(district_due, "1wd", PUNTEN)
    system.set_clock(regency_due + MINUTE)
    escalated = inbox_types(walikota, case["id"], ["case_escalated"])
    assert any("Kantor Walikota Batu" in n["title"] for n in escalated)
    assert [c["id"] for c in walikota.get("/escalations").json()["items"]] == [case["id"]]
    assert village.get(f"/cases/{case['id']}").json()["escalation_level"] == "regency"
    assert timeline_types(system, case["id"]) == [
        "reported", "routed", "deadline_missed", "escalated", "escalated"]

    # Accepting at last answers the deadline to accept; the one to complete (already past
    # by now) starts a ladder of its own, beginning with a reminder.
    accepted = pdam.post(f"/cases/{case['id']}/tasks/{task['id']}/accept", {"note": "Maaf"})
    assert accepted.status_code == 200, accepted.text
    assert at(task["due_at"]) < regency_due + MINUTE
    eventually(lambda: timeline_types(system, case["id"])[-1] == "deadline_missed")
    last = system.coordinator().get(f"/cases/{case['id']}/timeline").json()[-1]
    assert last["data"]["deadline"] == "complete"


def test_a_coordinator_escalates_by_hand_and_others_may_not(system):
    village = system.village("35.79.02.2008")
    case = case_when(village, report(village, clean_water_report(title="Sumur kering"))[
        "case_id"], "routed")
    path = f"/cases/{case['id']}/escalate"
    assert village.post(path, {"reason": "Tolong"}).status_code == 403
    assert system.regency().post(path, {"reason": "x"}).status_code == 403
    assert system.coordinator("35.79.01").post(path, {"reason": "x"}).status_code == 404
    assert system.coordinator().post(path, {}).status_code == 400
    escalated = system.coordinator().post(path, {"reason": "Warga lima hari tanpa air"})
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["escalation_level"] == "regency"
    assert system.coordinator().post(path, {"reason": "lagi"}).status_code == 409
    notice = inbox_types(system.regency(), case["id"], ["case_escalated"])
    assert any("Warga lima hari tanpa air" in n["body"] for n in notice)


def test_with_two_replicas_each_deadline_is_handled_once_and_a_restart_misses_none(system):
    village, pdam = system.village("35.79.01.2005"), system.agency("pdam-batu")
    system.run("requests", replica="requests-2")
    case = case_when(village, report(village, clean_water_report(
        title="Pipa pecah", severity="medium"))["case_id"], "routed")
    accept_due = at(case["tasks"][0]["accept_due_at"])
    system.set_clock(accept_due + MINUTE)
    inbox_types(pdam, case["id"], ["deadline_missed"])
    eventually(lambda: system.count("requests", "leases") == 1)

    # Both replicas stop; the next step falls due while nobody watches; one comes back.
    system.kill("requests", signal.SIGTERM)
    system.kill("requests-2", signal.SIGTERM)
    district_due = workdays.due(accept_due, "1wd", "35.79.01.2005")
    system.set_clock(district_due + timedelta(hours=2))
    system.run("requests")
    inbox_types(system.coordinator("35.79.01"), case["id"], ["case_escalated"], timeout=90)
    types = timeline_types(system, case["id"])
    assert types.count("deadline_missed") == 1 and types.count("escalated") == 1
    reminders = [n for n in pdam.get("/notifications", params={"case_id": case["id"]}).json()
                 if n["type"] == "deadline_missed"]
    assert len(reminders) == 1
