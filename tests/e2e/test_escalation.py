"""Missed deadlines climb the ladder up to the Kantor Walikota, on the clock of every process."""
import signal
from datetime import datetime, timedelta

import pytest

from shared import workdays
from tests.broker import eventually
from tests.e2e.helpers import (
    BUMIAJI, PUNTEN, case_when, clean_water_report, every, inbox_types, report, timeline,
)
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
    return [e["type"] for e in timeline(system.admin(), case_id)]


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
    last = timeline(system.coordinator(), case["id"])[-1]
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
    system.run("requests", replica=2)
    case = case_when(village, report(village, clean_water_report(
        title="Pipa pecah", severity="medium"))["case_id"], "routed")
    accept_due = at(case["tasks"][0]["accept_due_at"])
    system.set_clock(accept_due + MINUTE)
    inbox_types(pdam, case["id"], ["deadline_missed"])
    eventually(lambda: system.count("requests", "leases") == 1)

    # Both replicas stop; the next step falls due while nobody watches; one comes back.
    system.kill("requests", signal.SIGTERM)
    system.kill("requests#2", signal.SIGTERM)
    district_due = workdays.due(accept_due, "1wd", "35.79.01.2005")
    system.set_clock(district_due + timedelta(hours=2))
    system.run("requests")
    inbox_types(system.coordinator("35.79.01"), case["id"], ["case_escalated"], timeout=90)
    types = timeline_types(system, case["id"])
    assert types.count("deadline_missed") == 1 and types.count("escalated") == 1
    reminders = [n for n in every(pdam, "/notifications", case_id=case["id"])
                 if n["type"] == "deadline_missed"]
    assert len(reminders) == 1


def test_the_flood_in_bulukerto_from_report_to_confirmation(system):
    """Issue 4's story: three agencies, one declines and its fallback takes over, the lead stays
    silent and the case climbs to the Kantor Walikota, everyone completes, the village reopens
    once, then confirms."""
    village = system.village("35.79.02.2008")  # Desa Bulukerto
    coordinator, walikota = system.coordinator(BUMIAJI), system.regency("35.79")
    bpbd, pupr, dinsos = (system.agency(a) for a in ("bpbd-batu", "pupr-batu", "dinsos-batu"))
    satpol = system.agency("satpolpp-batu")
    accepted = report(village, {"category": "banjir-bencana", "title": "Banjir bandang Bulukerto",
                                "description": "Air setinggi 1 meter merendam 40 rumah.",
                                "severity": "high", "affected_people": 150})
    case = case_when(village, accepted["case_id"], "routed")
    case_id = case["id"]
    roles = {t["agency"]["id"]: t["role"] for t in case["tasks"]}
    assert roles == {"bpbd-batu": "lead", "pupr-batu": "support", "dinsos-batu": "support"}
    tasks = {t["agency"]["id"]: t["id"] for t in case["tasks"]}

    def act(officer, agency_id, action, body):
        response = officer.post(f"/cases/{case_id}/tasks/{tasks[agency_id]}/{action}", body)
        assert response.status_code == 200, response.text
        return response.json()

    # Each agency acts on its own task only.
    assert pupr.post(f"/cases/{case_id}/tasks/{tasks['bpbd-batu']}/accept", {}).status_code == 404

    # Dinas Sosial declines; the rule's first fallback, Satpol PP, gets the task.
    act(dinsos, "dinsos-batu", "decline", {"reason": "Bukan kewenangan kami"})
    inbox_types(coordinator, case_id, ["task_declined"])
    inbox_types(satpol, case_id, ["case_routed"])
    case = village.get(f"/cases/{case_id}").json()
    tasks = {t["agency"]["id"]: t["id"] for t in case["tasks"]}
    assert {t["agency"]["id"]: t["status"] for t in case["tasks"]} == {
        "bpbd-batu": "pending", "pupr-batu": "pending", "dinsos-batu": "declined",
        "satpolpp-batu": "pending"}
    assert "Satuan Polisi Pamong Praja" in case["routing"]["explanation"]
    assert dinsos.get(f"/cases/{case_id}").status_code == 404  # declined: the case is gone for it

    act(satpol, "satpolpp-batu", "accept", {"note": "Tim evakuasi berangkat"})
    act(pupr, "pupr-batu", "accept", {})
    assert village.get(f"/cases/{case_id}").json()["status"] == "in_progress"

    # BPBD stays silent past its deadline to accept (2 hours), and past two grace periods
    # (4 hours each for a high case): the case climbs to the Kantor Walikota.
    bpbd_task = next(t for t in case["tasks"] if t["agency"]["id"] == "bpbd-batu")
    system.set_clock(at(bpbd_task["accept_due_at"]) + timedelta(hours=8) + MINUTE)
    inbox_types(bpbd, case_id, ["deadline_missed", "case_escalated"])
    notice = inbox_types(walikota, case_id, ["case_escalated"])
    assert any("Kantor Walikota Batu" in n["title"] for n in notice)
    assert case_id in [c["id"] for c in walikota.get("/escalations").json()["items"]]

    act(bpbd, "bpbd-batu", "accept", {"note": "Maaf, tim baru kembali dari lokasi lain"})
    for officer, agency_id in ((bpbd, "bpbd-batu"), (pupr, "pupr-batu"), (satpol, "satpolpp-batu")):
        act(officer, agency_id, "complete", {"note": "Selesai"})
    assert village.get(f"/cases/{case_id}").json()["status"] == "resolved"

    # The village reopens once: the agencies that completed get their tasks back.
    reopened = village.post(f"/cases/{case_id}/reopen", {"reason": "Air naik lagi di RT 03"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "reopened"
    inbox_types(satpol, case_id, ["case_reopened"])
    back = {t["agency"]["id"]: t["status"] for t in reopened.json()["tasks"]}
    assert back == {"bpbd-batu": "pending", "pupr-batu": "pending", "dinsos-batu": "declined",
                    "satpolpp-batu": "pending"}
    for officer, agency_id in ((bpbd, "bpbd-batu"), (pupr, "pupr-batu"), (satpol, "satpolpp-batu")):
        act(officer, agency_id, "accept", {})
        act(officer, agency_id, "complete", {"note": "Tanggul darurat dipasang"})
    confirmed = village.post(f"/cases/{case_id}/confirm", {"note": "Terima kasih"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "closed"

    steps = timeline_types(system, case_id)
    assert steps[:3] == ["reported", "routed", "task_declined"]
    assert steps.count("routed") == 2 and steps.count("escalated") == 2
    assert steps.count("reopened") == 1 and steps[-1] == "closed"
