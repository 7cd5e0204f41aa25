"""Issue 2, steps 1–5: Desa Punten has had no clean water for four days."""
from datetime import datetime

from tests.e2e.helpers import (
    BUMIAJI, PUNTEN, case_when, clean_water_report, every, inbox_types, report, task_of, timeline,
)
from tests.broker import eventually


def at(value):
    return datetime.fromisoformat(value)


def test_punten_reports_no_clean_water_and_sees_it_solved(system):
    village = system.village(PUNTEN)
    pdam, pupr = system.agency("pdam-batu"), system.agency("pupr-batu")
    coordinator = system.coordinator(BUMIAJI)
    other_district = system.coordinator("35.79.01")

    # 1. The operator reports and gets a case id and a tracking number at once.
    accepted = report(village, clean_water_report())
    case_id = accepted["case_id"]
    assert accepted["status"] == "reported"
    assert accepted["tracking_number"].startswith("JBT-") and len(accepted["tracking_number"]) == 13

    # 2. Routed by the rules of Kota Batu: PDAM leads, PUPR supports, each with deadlines, and
    #    the case says which rule decided and why.
    case = case_when(village, case_id, "routed")
    roles = {t["agency"]["id"]: t["role"] for t in case["tasks"]}
    assert roles == {"pdam-batu": "lead", "pupr-batu": "support"}
    for task in case["tasks"]:
        assert task["status"] == "pending"
        assert at(task["due_at"]) > at(case["created_at"])
        assert at(task["accept_due_at"]) <= at(task["due_at"])
    assert case["routing"]["rule_id"] == "batu-air-bersih-besar"
    assert "paling spesifik" in case["routing"]["explanation"]
    assert case["village"] == {"code": PUNTEN, "name": "Punten"}
    assert case["district"] == {"code": BUMIAJI, "name": "Bumiaji"}
    assert case["regency"] == {"code": "35.79", "name": "Kota Batu"}
    english = village.get(f"/cases/{case_id}", headers={"Accept-Language": "en"}).json()
    assert "most specific" in english["routing"]["explanation"]

    # 3. Each officer finds the task in the inbox; the coordinator and the village hear of it.
    pdam_inbox = inbox_types(pdam, case_id, ["case_routed"])
    assert "Tugas baru" in pdam_inbox[0]["title"]
    assert "pemimpin" in pdam_inbox[0]["body"]
    assert "pendukung" in inbox_types(pupr, case_id, ["case_routed"])[0]["body"]
    inbox_types(coordinator, case_id, ["case_opened", "case_routed"])
    inbox_types(village, case_id, ["case_opened", "case_routed"])
    assert other_district.get(f"/cases/{case_id}").status_code == 404
    assert [c["id"] for c in pdam.get("/cases").json()["items"]] == [case_id]
    assert system.agency("dinkes-batu").get(f"/cases/{case_id}").status_code == 404

    # 4. PDAM accepts, posts progress, completes; PUPR does the same.
    pdam_task, pupr_task = task_of(case, "pdam-batu")["id"], task_of(case, "pupr-batu")["id"]
    base = f"/cases/{case_id}/tasks"
    accepted_task = pdam.post(f"{base}/{pdam_task}/accept", {"note": "Tim menuju lokasi"})
    assert accepted_task.status_code == 200, accepted_task.text
    assert accepted_task.json()["status"] == "accepted"
    assert village.get(f"/cases/{case_id}").json()["status"] == "in_progress"
    inbox_types(village, case_id, ["task_accepted"])

    assert pdam.post(f"{base}/{pdam_task}/progress", {"note": "Pipa transmisi bocor diganti"}).status_code == 200
    progress = inbox_types(village, case_id, ["task_progressed"])
    assert any("Pipa transmisi bocor diganti" in n["body"] for n in progress)
    assert pdam.post(f"{base}/{pdam_task}/complete", {"note": "Air mengalir kembali"}).status_code == 200
    assert village.get(f"/cases/{case_id}").json()["status"] == "in_progress"

    for action, body in (("accept", {}), ("progress", {"note": "Reservoir dibersihkan"}),
                         ("complete", {"note": "Selesai"})):
        response = pupr.post(f"{base}/{pupr_task}/{action}", body)
        assert response.status_code == 200, response.text

    case = village.get(f"/cases/{case_id}").json()
    assert case["status"] == "resolved"
    assert {t["status"] for t in case["tasks"]} == {"completed"}
    resolved = inbox_types(village, case_id, ["case_resolved"])
    assert any("konfirmasi" in n["body"] for n in resolved)

    # The village confirms; the case is closed and the agencies hear of it.
    confirmed = village.post(f"/cases/{case_id}/confirm", {"note": "Air sudah lancar"})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "closed"
    inbox_types(pdam, case_id, ["case_closed"])
    inbox_types(coordinator, case_id, ["case_closed"])
    assert pdam.post(f"{base}/{pdam_task}/progress", {"note": "lagi"}).status_code == 409

    # 5. The timeline shows every step, who did it and when, oldest first.
    entries = timeline(coordinator, case_id)
    steps = [(e["type"], e["actor"]["name"]) for e in entries]
    assert steps == [
        ("reported", "Operator Desa Punten"),
        ("routed", "Jembatan"),
        ("task_accepted", "Petugas PDAM"),
        ("in_progress", "Jembatan"),
        ("task_progressed", "Petugas PDAM"),
        ("task_completed", "Petugas PDAM"),
        ("task_accepted", "Petugas Dinas PUPR"),
        ("task_progressed", "Petugas Dinas PUPR"),
        ("task_completed", "Petugas Dinas PUPR"),
        ("resolved", "Jembatan"),
        ("closed", "Operator Desa Punten"),
    ]
    times = [at(e["at"]) for e in entries]
    assert times == sorted(times)
    assert "Pipa transmisi bocor diganti" in entries[4]["summary"]
    assert "PDAM" in entries[1]["summary"] and "Pekerjaan Umum" in entries[1]["summary"]


def test_each_notification_is_read_by_its_owner_only(system):
    village = system.village(PUNTEN)
    accepted = report(village, clean_water_report(title="Air keruh di Dusun Jeding"))
    case_id = accepted["case_id"]
    notification = inbox_types(village, case_id, ["case_opened"])[0]
    assert notification["read_at"] is None

    assert system.village("35.79.02.2002").post(
        f"/notifications/{notification['id']}/read").status_code == 404
    read = village.post(f"/notifications/{notification['id']}/read")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    unread = every(village, "/notifications", unread="true", case_id=case_id)
    assert notification["id"] not in [n["id"] for n in unread]


def test_a_report_without_a_matching_rule_waits_for_the_coordinator(system):
    village = system.village("35.79.02.2008")  # Desa Bulukerto
    coordinator = system.coordinator(BUMIAJI)
    accepted = report(village, {"category": "lainnya", "title": "Balai desa retak",
                                "description": "Dinding balai desa retak setelah gempa kecil",
                                "severity": "medium"})
    case_id = accepted["case_id"]

    case = case_when(coordinator, case_id, "needs_triage")
    assert case["tasks"] == []
    assert "Koordinator kecamatan perlu merutekan" in case["routing"]["explanation"]
    triage = inbox_types(coordinator, case_id, ["case_needs_triage"])
    assert any("Perlu dirutekan" in n["title"] for n in triage)

    # A village may not route; the coordinator routes by hand.
    route = {"lead": "pupr-batu",
             "note": "Bangunan publik: ditangani Dinas PUPR"}
    refused = village.post(f"/cases/{case_id}/route", route)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    routed = coordinator.post(f"/cases/{case_id}/route", route)
    assert routed.status_code == 200, routed.text
    case = routed.json()
    assert case["status"] == "routed"
    assert [(t["agency"]["id"], t["role"], t["status"]) for t in case["tasks"]] == [
        ("pupr-batu", "lead", "pending")]
    assert "Koordinator Kecamatan Bumiaji" in case["routing"]["explanation"]
    inbox_types(system.agency("pupr-batu"), case_id, ["case_routed"])
    inbox_types(village, case_id, ["case_routed"])
    entries = timeline(coordinator, case_id)
    assert [(e["type"], e["actor"]["role"]) for e in entries] == [
        ("reported", "village"), ("needs_triage", "system"), ("routed", "coordinator")]
    assert eventually(lambda: system.count("routing", "decisions", case_id=case_id) == 1)


def test_a_report_is_found_at_once_after_its_202(system):
    village = system.village(PUNTEN)
    for n in range(10):
        accepted = report(village, clean_water_report(title=f"Air mati di RW {n}"))
        case = village.get(f"/cases/{accepted['case_id']}")
        assert case.status_code == 200, case.text
        assert case.json()["tracking_number"] == accepted["tracking_number"]
        assert case.json()["status"] in ("reported", "routed")
    assert system.village("35.79.02.2002").get(f"/cases/{accepted['case_id']}").status_code == 404


def test_while_requests_is_down_a_case_read_answers_503_and_nothing_is_lost(system):
    village = system.village(PUNTEN)
    system.kill("requests")
    try:
        accepted = report(village, clean_water_report(title="Air mati di Dusun Jeding"))
        answer = village.get(f"/cases/{accepted['case_id']}")
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"
    finally:
        system.run("requests")
    case_when(village, accepted["case_id"], "routed", timeout=30)
