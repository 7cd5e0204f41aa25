"""A case in progress always has exactly one lead, or waits in the coordinator's triage; an
agency sees a case only while its task is on, and hears nothing more of it after."""
from tests.broker import eventually
from tests.e2e.helpers import (
    BUMIAJI, case_when, clean_water_report, every, inbox_types, report, task_of, timeline,
)

KECAMATAN_BATU = "35.79.01"


def leads(case):
    return [t["agency"]["id"] for t in case["tasks"]
            if t["role"] == "lead" and t["status"] not in ("declined", "withdrawn")]


def test_when_the_lead_declines_its_fallback_that_already_supports_leads(system):
    village, coordinator = system.village("35.79.02.2006"), system.coordinator(BUMIAJI)
    case = case_when(village, report(village, {
        "category": "penerangan-jalan", "title": "Lampu jalan mati sepanjang 1 km",
        "description": "Jalan desa gelap sejak seminggu", "severity": "medium"})["case_id"],
        "routed")                   # rule batu-penerangan-jalan: Dishub leads, PUPR supports
    base = f"/cases/{case['id']}"   # and PUPR is also its fallback
    declined = system.agency("dishub-batu").post(
        f"{base}/tasks/{task_of(case, 'dishub-batu')['id']}/decline",
        {"reason": "Lampu milik desa, bukan PJU kota"})
    assert declined.status_code == 200, declined.text

    def pupr_leads():
        now = coordinator.get(base).json()
        assert leads(now) == ["pupr-batu"], now["tasks"]
        return now

    now = eventually(pupr_leads)
    assert now["status"] == "routed"
    assert [t["agency"]["id"] for t in now["tasks"]].count("pupr-batu") == 1  # promoted, not doubled
    steps = [e["type"] for e in timeline(coordinator, case["id"])]
    assert steps[-3:] == ["task_declined", "needs_triage", "lead_changed"]
    inbox_types(system.agency("pupr-batu"), case["id"], ["lead_changed"])


def test_the_lead_declining_after_the_supports_finished_does_not_resolve_the_case(system):
    village, coordinator = system.village("35.79.01.2005"), system.coordinator(KECAMATAN_BATU)
    case = case_when(village, report(village, {
        "category": "kesehatan", "title": "Diare menyebar di RW 3", "severity": "critical",
        "description": "Dua belas warga dirawat dalam dua hari", "affected_people": 12})[
        "case_id"], "routed")       # rule batu-kesehatan-wabah: Dinkes leads, BPBD supports,
    base = f"/cases/{case['id']}"   # no fallback
    dinkes, bpbd = system.agency("dinkes-batu"), system.agency("bpbd-batu")
    bpbd_task = task_of(case, "bpbd-batu")["id"]
    for step, body in (("accept", {}), ("complete", {"note": "Air bersih dikirim dengan tangki"})):
        assert bpbd.post(f"{base}/tasks/{bpbd_task}/{step}", body).status_code == 200
    declined = dinkes.post(f"{base}/tasks/{task_of(case, 'dinkes-batu')['id']}/decline",
                           {"reason": "Puskesmas sudah menangani"})
    assert declined.status_code == 200, declined.text
    waiting = case_when(coordinator, case["id"], "needs_triage")  # not resolved: nobody leads
    assert leads(waiting) == []
    inbox_types(coordinator, case["id"], ["case_needs_triage"])
    made = coordinator.post(f"{base}/tasks/{bpbd_task}/lead", {"reason": "BPBD sudah selesai"})
    assert made.status_code == 200, made.text
    assert made.json()["status"] == "resolved" and leads(made.json()) == ["bpbd-batu"]


def test_a_case_without_a_lead_is_not_routed_to_supports_alone(system):
    village, coordinator = system.village("35.79.02.2008"), system.coordinator(BUMIAJI)
    case = case_when(village, report(village, {
        "category": "lainnya", "title": "Balai desa retak", "description": "Dinding retak besar",
        "severity": "low"})["case_id"], "needs_triage")        # no rule for "lainnya"
    base = f"/cases/{case['id']}/route"
    only_supports = coordinator.post(base, {"supports": ["pupr-batu"], "note": "Cek bangunan"})
    assert only_supports.status_code == 400, only_supports.text
    assert "agencies" in only_supports.json()["error"]["details"]
    assert coordinator.get(f"/cases/{case['id']}").json()["tasks"] == []
    routed = coordinator.post(base, {"lead": "pupr-batu", "supports": ["bpbd-batu"],
                                     "note": "Cek bangunan"})
    assert routed.status_code == 200, routed.text
    assert routed.json()["status"] == "routed" and leads(routed.json()) == ["pupr-batu"]


def test_an_agency_whose_task_ended_no_longer_sees_the_case_nor_hears_of_it(system):
    village, coordinator = system.village("35.79.01.2006"), system.coordinator(KECAMATAN_BATU)
    case = case_when(village, report(village, clean_water_report(title="Hidran bocor"))[
        "case_id"], "routed")
    base = f"/cases/{case['id']}"
    pupr, pdam = system.agency("pupr-batu"), system.agency("pdam-batu")
    inbox_types(pupr, case["id"], ["case_routed"])
    assert pupr.post(f"{base}/tasks/{task_of(case, 'pupr-batu')['id']}/decline",
                     {"reason": "Bukan jaringan jalan"}).status_code == 200
    for path in (base, f"{base}/timeline"):
        assert pupr.get(path).status_code == 404
    assert pupr.post(f"{base}/comments", {"body": "Masih di sini?"}).status_code == 404
    assert case["id"] not in [c["id"] for c in every(pupr, "/cases")]
    heard = len(every(pupr, "/notifications", case_id=case["id"]))

    assert village.post(f"{base}/comments", {"body": "Air terus terbuang"}).status_code == 201
    inbox_types(pdam, case["id"], ["comment_added"])            # PDAM, still on it, hears
    inbox_types(coordinator, case["id"], ["comment_added"])
    assert len(every(pupr, "/notifications", case_id=case["id"])) == heard  # PUPR does not
    assert pdam.get(base).status_code == 200


def test_a_closed_case_takes_no_more_comments(system):
    village = system.village("35.79.01.2007")
    case = case_when(village, report(village, clean_water_report(title="Kran umum mati"))[
        "case_id"], "routed")
    cancelled = system.coordinator(KECAMATAN_BATU).post(f"/cases/{case['id']}/cancel",
                                                  {"reason": "Laporan keliru"})
    assert cancelled.status_code == 200
    late = village.post(f"/cases/{case['id']}/comments", {"body": "Kenapa dibatalkan?"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
    assert timeline(village, case["id"])[-1]["type"] == "cancelled"


def test_every_notification_of_a_busy_agency_is_reached_by_paging(system):
    village, pdam = system.village("35.79.01.2008"), system.agency("pdam-batu")
    case = case_when(village, report(village, clean_water_report(title="Air mati berhari-hari"))[
        "case_id"], "routed")
    for n in range(250):
        answer = village.post(f"/cases/{case['id']}/comments", {"body": f"Kabar ke-{n}"})
        assert answer.status_code == 201, answer.text

    def all_there():
        first = pdam.get("/notifications", params={"case_id": case["id"], "per_page": 100})
        assert first.json()["total"] == 251, first.json()["total"]   # routed + 250 comments
        return first.json()

    first = eventually(all_there, timeout=60)
    assert (first["page"], first["per_page"], len(first["items"])) == (1, 100, 100)
    everything = every(pdam, "/notifications", case_id=case["id"])
    assert len({n["id"] for n in everything}) == 251
    bodies = [n["body"] for n in everything if n["type"] == "comment_added"]
    assert any("Kabar ke-0" in b for b in bodies) and any("Kabar ke-249" in b for b in bodies)
    stamps = [n["created_at"] for n in everything]
    assert stamps == sorted(stamps, reverse=True)                  # newest first, across pages
    marked = pdam.post("/notifications/read-all", params={"case_id": case["id"]})
    assert marked.status_code == 200 and marked.json()["marked"] == 251
    unread = pdam.get("/notifications", params={"case_id": case["id"], "unread": "true"})
    assert unread.json()["total"] == 0
    assert pdam.post("/notifications/read-all", params={"case_id": case["id"]}).json() == {
        "marked": 0}
