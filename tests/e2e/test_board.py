"""The coordinator's board: counts, filters, cancelling a case; finding villages by name."""
from tests.e2e.helpers import (
    BUMIAJI, case_when, clean_water_report, inbox_types, report, timeline,
)


def test_the_board_counts_the_callers_cases_by_status_agency_and_village(system):
    coordinator = system.coordinator(BUMIAJI)
    before = coordinator.get("/cases/summary").json()
    tulungrejo = system.village("35.79.02.2003")
    case = case_when(tulungrejo, report(tulungrejo, clean_water_report(title="Air keruh"))[
        "case_id"], "routed")
    after = coordinator.get("/cases/summary").json()
    assert after["total"] == before["total"] + 1
    assert after["by_status"]["routed"] == before["by_status"]["routed"] + 1
    village = {v["code"]: v["open"] for v in after["by_village"]}
    assert village["35.79.02.2003"] >= 1
    agencies = {a["id"]: a["open"] for a in after["by_agency"]}
    assert agencies["pdam-batu"] >= 1
    # Another district's coordinator does not count it.
    elsewhere = system.coordinator("35.79.03").get("/cases/summary").json()
    assert "35.79.02.2003" not in {v["code"] for v in elsewhere["by_village"]}
    assert system.anonymous().get("/cases/summary").status_code == 401
    listed = coordinator.get("/cases", params={"village": "35.79.02.2003", "agency": "pdam-batu"})
    assert case["id"] in [c["id"] for c in listed.json()["items"]]


def test_a_coordinator_cancels_a_case_with_a_reason_and_everyone_is_told(system):
    village = system.village("35.79.02.2004")
    case = case_when(village, report(village, clean_water_report(title="Laporan ganda"))[
        "case_id"], "routed")
    path = f"/cases/{case['id']}/cancel"
    assert village.post(path, {"reason": "x"}).status_code == 403
    assert system.coordinator(BUMIAJI).post(path, {}).status_code == 400
    cancelled = system.coordinator(BUMIAJI).post(path, {"reason": "Sama dengan laporan sebelumnya"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    told = inbox_types(village, case["id"], ["case_cancelled"])
    assert any("Sama dengan laporan sebelumnya" in n["body"] for n in told)
    inbox_types(system.agency("pdam-batu"), case["id"], ["case_cancelled"])
    task = case["tasks"][0]["id"]
    late = system.agency("pdam-batu").post(f"/cases/{case['id']}/tasks/{task}/accept", {})
    assert late.status_code == 404  # its task was withdrawn: the case is gone for it
    assert system.coordinator(BUMIAJI).post(path, {"reason": "lagi"}).status_code == 409


def test_a_coordinator_adds_removes_and_changes_the_lead_and_the_agencies_are_told(system):
    village, coordinator = system.village("35.79.02.2005"), system.coordinator(BUMIAJI)
    case = case_when(village, report(village, clean_water_report(title="Mata air tercemar"))[
        "case_id"], "routed")
    base = f"/cases/{case['id']}"
    tasks = {t["agency"]["id"]: t["id"] for t in case["tasks"]}

    added = coordinator.post(f"{base}/route", {"supports": ["dinkes-batu"],
                                               "note": "Perlu uji kualitas air"})
    assert added.status_code == 200, added.text
    inbox_types(system.agency("dinkes-batu"), case["id"], ["case_routed"])
    dinkes = next(t["id"] for t in added.json()["tasks"] if t["agency"]["id"] == "dinkes-batu")

    lead = coordinator.post(f"{base}/tasks/{dinkes}/lead", {"reason": "Masalah kesehatan"})
    assert lead.status_code == 200, lead.text
    roles = {t["agency"]["id"]: t["role"] for t in lead.json()["tasks"]}
    assert roles == {"pdam-batu": "support", "pupr-batu": "support", "dinkes-batu": "lead"}
    inbox_types(system.agency("pdam-batu"), case["id"], ["lead_changed"])

    withdrawn = coordinator.post(f"{base}/tasks/{tasks['pupr-batu']}/withdraw",
                                 {"reason": "Tidak ada kerusakan jaringan"})
    assert withdrawn.status_code == 200, withdrawn.text
    statuses = {t["agency"]["id"]: t["status"] for t in withdrawn.json()["tasks"]}
    assert statuses["pupr-batu"] == "withdrawn"
    told = inbox_types(system.agency("pupr-batu"), case["id"], ["task_withdrawn"])
    assert any("Tidak ada kerusakan jaringan" in n["body"] for n in told)
    again = system.agency("pupr-batu").post(f"{base}/tasks/{tasks['pupr-batu']}/accept", {})
    assert again.status_code == 404  # its task was withdrawn: the case is gone for it
    assert village.post(f"{base}/tasks/{dinkes}/lead", {"reason": "x"}).status_code == 403
    assert coordinator.post(f"{base}/tasks/nope/withdraw", {"reason": "x"}).status_code == 404
    types = [e["type"] for e in timeline(coordinator, case["id"])]
    assert types[-3:] == ["routed", "lead_changed", "task_withdrawn"]


def test_a_likely_duplicate_is_shown_and_the_coordinator_merges_it(system):
    village, coordinator = system.village("35.79.02.2009"), system.coordinator(BUMIAJI)
    first = case_when(village, report(village, clean_water_report(title="Air mati"))[
        "case_id"], "routed")
    second = case_when(village, report(village, clean_water_report(title="Air tidak keluar"))[
        "case_id"], "routed")
    assert first["likely_duplicate_of"] is None
    assert second["likely_duplicate_of"] == first["id"]
    flagged = inbox_types(coordinator, second["id"], ["likely_duplicate"])
    assert any(first["tracking_number"] in n["body"] for n in flagged)

    merge = {"into": first["tracking_number"], "reason": "Masalah yang sama"}
    assert village.post(f"/cases/{second['id']}/merge", merge).status_code == 403
    unknown = coordinator.post(f"/cases/{second['id']}/merge", dict(merge, into="JBT-0000-0000"))
    assert unknown.status_code == 404 and "into" in unknown.json()["error"]["details"]
    kept = coordinator.post(f"/cases/{second['id']}/merge", merge)
    assert kept.status_code == 200, kept.text
    assert kept.json()["id"] == first["id"]
    merged = village.get(f"/cases/{second['id']}").json()
    assert (merged["status"], merged["merged_into"]) == ("cancelled", first["id"])
    assert {t["status"] for t in merged["tasks"]} == {"withdrawn"}
    inbox_types(village, second["id"], ["case_merged"])
    inbox_types(village, first["id"], ["duplicate_merged"])
    first_steps = timeline(coordinator, first["id"])
    assert first_steps[-1]["type"] == "merged_from"
    assert second["tracking_number"] in first_steps[-1]["summary"]
    again = coordinator.post(f"/cases/{second['id']}/merge", merge)
    assert again.status_code == 409


def test_the_board_sorts_by_what_a_coordinator_needs_first(system):
    coordinator = system.coordinator(BUMIAJI)
    for sort in ("newest", "oldest", "updated", "escalation", "deadline"):
        answer = coordinator.get("/cases", params={"sort": sort, "per_page": 100})
        assert answer.status_code == 200, answer.text
    newest = [c["created_at"] for c in coordinator.get("/cases", params={"sort": "newest"}).json()["items"]]
    assert newest == sorted(newest, reverse=True)
    oldest = [c["created_at"] for c in coordinator.get("/cases", params={"sort": "oldest"}).json()["items"]]
    assert oldest == sorted(oldest)
    refused = coordinator.get("/cases", params={"sort": "random"})
    assert refused.status_code == 400 and "sort" in refused.json()["error"]["details"]

    def next_deadline(case):
        detail = coordinator.get(f"/cases/{case['id']}").json()
        due = [t["accept_due_at"] if t["status"] == "pending" else t["due_at"]
               for t in detail["tasks"] if t["status"] in ("pending", "accepted")]
        return min(due) if due else "~"  # cases without work last

    by_deadline = coordinator.get("/cases", params={"sort": "deadline", "per_page": 100}).json()
    deadlines = [next_deadline(c) for c in by_deadline["items"]]
    assert deadlines == sorted(deadlines)


def test_villages_are_found_by_part_of_their_name_and_wildcards_are_letters(system):
    village = system.village("35.79.02.2003")
    def named(q):
        found = village.get("/villages", params={"district": BUMIAJI, "q": q})
        assert found.status_code == 200, found.text
        return [v["name"] for v in found.json()["items"]]

    assert named("PUNT") == ["Punten"]
    assert named("%") == [] and named("P_nten") == []
