"""The Musrenbang input of Bumiaji: what its villages raised this year, grouped and ranked,
checked against a history whose right answers the test works out from the cases themselves;
the coordinator's proposals; the CSV; the printable PDF, rendered (pdftoppm) and read back
(pdftotext).

One system on each database. Punten reports two clean-water cases and a health case,
Gunungsari a clean-water case and a road case; the first clean-water case of Punten is
resolved and Punten reports a third (recurring); the road case is resolved and Gunungsari
reopens it (recurring). A confidential complaint of Punten, a case of Punten the coordinator
cancelled (sent by mistake) and a case of Sisir (another district) are never part of it.
"""
import csv
import io
import shutil
import subprocess
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from shared.timezones import today
from tests.e2e.helpers import (
    BUMIAJI, PUNTEN, case_when, clean_water_report, csrf_of, every, report, resolve, signed_in,
)

pytestmark = pytest.mark.e2e

GUNUNGSARI, SISIR = "35.79.02.2002", "35.79.01.1004"
YEAR = today(datetime.now(timezone.utc), BUMIAJI).year  # the year where Bumiaji is


@pytest.fixture(scope="module")
def world(system):
    admin = system.admin()
    punten, gunungsari = system.village(PUNTEN), system.village(GUNUNGSARI)

    def sent(village, body, status="routed"):
        return case_when(admin, report(village, body)["case_id"], status)

    water = sent(punten, clean_water_report(affected_people=320))
    sent(punten, clean_water_report(title="Air keruh di Dusun Jeding", affected_people=80))
    sent(punten, {"category": "kesehatan", "title": "Demam berdarah", "severity": "high",
                  "description": "Lima warga dirawat.", "affected_people": 50})
    sent(gunungsari, clean_water_report(title="Sumur warga kering", affected_people=None))
    road = sent(gunungsari, {"category": "jalan-jembatan", "title": "Jembatan putus",
                            "severity": "high", "description": "Terbawa arus.",
                            "affected_people": 500})
    resolve(system, water)
    again = sent(punten, clean_water_report(title="Air mati lagi", affected_people=300))
    resolve(system, road)
    assert gunungsari.post(f"/cases/{road['id']}/reopen",
                          {"reason": "Jembatan darurat hanyut lagi"}).status_code == 200
    sent(punten, {"category": "adminduk", "title": "Pungutan liar oknum", "severity": "medium",
                  "description": "Rahasia.", "confidential": True})
    sent(system.village(SISIR), clean_water_report(title="Air mati di Sisir"))
    mistake = sent(punten, {"category": "sosial", "title": "Salah kirim", "severity": "low",
                            "description": "Terkirim dua kali.", "affected_people": 1000})
    assert system.coordinator(BUMIAJI).post(f"/cases/{mistake['id']}/cancel", {
        "reason": "Salah kirim"}).status_code == 200
    cases = [c for c in every(admin, "/cases", district=BUMIAJI)]
    return system, cases, {again["tracking_number"], road["tracking_number"]}


def expected(cases, recurring):
    """The items, ranked, as the rules say, from the cases as an administrator reads them."""
    public = [c for c in cases if not c["confidential"] and c["status"] != "cancelled"]
    by_category = defaultdict(list)
    for case in public:
        by_category[case["category"]].append(case)
    items = {category: {"cases": len(listed),
                        "affected_people": sum(c["affected_people"] or 0 for c in listed),
                        "recurring": sum(c["tracking_number"] in recurring for c in listed),
                        "villages": Counter(c["village"]["name"] for c in listed)}
             for category, listed in by_category.items()}
    return items


def test_the_issues_of_the_year_are_grouped_ranked_and_listed_per_village(world):
    system, cases, recurring = world
    answer = system.coordinator(BUMIAJI).get(f"/musrenbang/{BUMIAJI}/{YEAR}")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["district"]["name"] == "Bumiaji" and found["year"] == YEAR
    want = expected(cases, recurring)
    got = {item["category"]: {
        "cases": item["cases"], "affected_people": item["affected_people"],
        "recurring": item["recurring"],
        "villages": Counter({v["name"]: len(v["cases"]) for v in item["villages"]})}
        for item in found["items"]}
    assert got == want
    # ranked by reports, then people affected: clean water (4), the road (500), health (50)
    assert [(i["rank"], i["category"]) for i in found["items"]] == [
        (1, "air-bersih"), (2, "jalan-jembatan"), (3, "kesehatan")]
    assert "Pungutan" not in answer.text and "Sisir" not in answer.text
    assert "sosial" not in {item["category"] for item in found["items"]}  # cancelled
    assert system.client("regency", "35.79").get(
        f"/musrenbang/{BUMIAJI}/{YEAR}").json()["items"] == found["items"]


def test_only_those_over_the_district_read_it_and_only_its_coordinator_proposes(world):
    system, _, _ = world
    path = f"/musrenbang/{BUMIAJI}/{YEAR}"
    assert system.coordinator("35.79.03").get(path).status_code == 404
    assert system.village(PUNTEN).get(path).status_code == 403
    assert system.agency("pdam-batu").get(path).status_code == 403
    note = {"note": "Perluasan jaringan pipa PDAM"}
    for reader in (system.client("regency", "35.79"), system.admin()):
        assert reader.get(path).status_code == 200
        assert reader.request("PUT", f"{path}/proposals/air-bersih", note).status_code == 403
    assert system.coordinator("35.79.03").request(
        "PUT", f"{path}/proposals/air-bersih", note).status_code == 404
    refused = system.coordinator(BUMIAJI).request("PUT", f"{path}/proposals/pendidikan", note)
    assert refused.status_code == 404 and "category" in refused.json()["error"]["details"]
    blank = system.coordinator(BUMIAJI).request("PUT", f"{path}/proposals/air-bersih",
                                                {"note": "  "})
    assert blank.status_code == 400 and "note" in blank.json()["error"]["details"]
    assert system.coordinator(BUMIAJI).get(f"/musrenbang/{BUMIAJI}/1999").status_code == 400
    assert system.coordinator(BUMIAJI).get(f"/musrenbang/35.79.99/{YEAR}").status_code == 404


def test_a_proposal_is_kept_exported_printed_and_withdrawn_and_each_change_audited(
        world, tmp_path):
    system, cases, _ = world
    coordinator = system.coordinator(BUMIAJI)
    path = f"/musrenbang/{BUMIAJI}/{YEAR}"
    note = "Perluasan jaringan pipa PDAM – “darurat” ke Dusun Krajan dan Jeding"
    proposed = coordinator.request("PUT", f"{path}/proposals/air-bersih", {"note": note})
    assert proposed.status_code == 200, proposed.text
    water = coordinator.get(path).json()["items"][0]
    assert water["proposal"]["note"] == note and water["proposal"]["by"]

    rows = list(csv.DictReader(io.StringIO(coordinator.get(f"{path}.csv").text)))
    assert [(r["rank"], r["category"], r["proposed"], r["note"]) for r in rows] == [
        ("1", "air-bersih", "yes", note), ("2", "jalan-jembatan", "no", ""),
        ("3", "kesehatan", "no", "")]

    printed = coordinator.get(f"{path}.pdf")
    assert printed.status_code == 200, printed.text[:300]
    assert printed.headers["Content-Type"] == "application/pdf"
    pdf = tmp_path / "musrenbang.pdf"
    pdf.write_bytes(printed.content)
    assert shutil.which("pdftoppm"), "the PDF test needs poppler-utils (scripts/test)"
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    assert sorted(p.name for p in tmp_path.glob("page*.png"))
    read = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    assert f"Musrenbang Kecamatan Bumiaji, tahun {YEAR}" in read
    for words in ("Air Bersih", "Jalan dan Jembatan", "Kesehatan", note, "Punten",
                  "Gunungsari"):
        assert words in read, words
    for case in cases:
        if not case["confidential"] and case["status"] != "cancelled":
            assert case["tracking_number"] in read
    assert "Pungutan" not in read

    assert coordinator.delete(f"{path}/proposals/air-bersih").status_code == 204
    assert coordinator.get(path).json()["items"][0]["proposal"] is None
    assert coordinator.delete(f"{path}/proposals/air-bersih").status_code == 204  # again: none
    # each change recorded, with who and the note; the second withdrawal changed nothing
    assert system.rows("requests", "SELECT action, note, actor_name FROM musrenbang_changes "
                       "WHERE district_code = :district AND year = :year AND category = "
                       "'air-bersih' ORDER BY id", district=BUMIAJI, year=YEAR) == [
        ("proposed", note, water["proposal"]["by"]), ("withdrawn", None, water["proposal"]["by"])]


def test_two_proposals_at_once_both_answer_and_one_note_is_kept(world):
    system, _, _ = world
    path = f"/musrenbang/{BUMIAJI}/{YEAR}/proposals/jalan-jembatan"
    notes = [f"Jembatan permanen, usulan {n}" for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda note: system.coordinator(BUMIAJI).request(
            "PUT", path, {"note": note}), notes))
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    kept = system.coordinator(BUMIAJI).get(f"/musrenbang/{BUMIAJI}/{YEAR}").json()
    assert next(i for i in kept["items"] if i["category"] == "jalan-jembatan")[
        "proposal"]["note"] in notes
    assert system.coordinator(BUMIAJI).delete(path).status_code == 204


def test_the_coordinator_proposes_and_prints_from_the_page(world):
    system, _, _ = world
    web = signed_in(system, "kec.bumiaji")
    page = web.get(f"{system.root}/musrenbang")
    assert page.status_code == 200 and "Air Bersih" in page.text and "Pungutan" not in page.text
    for kind, content_type in (("pdf", "application/pdf"), ("csv", "text/csv")):
        link = f"/musrenbang/{BUMIAJI}/{YEAR}.{kind}"
        assert f'href="{link}"' in page.text
        got = web.get(system.root + link)
        assert got.status_code == 200 and got.headers["Content-Type"].startswith(content_type)
    for year in ("abcd", "²²²²", "20255", "1999"):
        assert web.get(f"{system.root}/musrenbang", params={"year": year}).status_code == 400
    assert web.get(f"{system.root}/musrenbang", params={
        "district": "35.79.02\x00"}).status_code == 400
    sent = web.post(f"{system.root}/musrenbang/{BUMIAJI}/{YEAR}/kesehatan/propose",
                    data={"csrf_token": csrf_of(page.text), "note": "Fogging dan posyandu"})
    assert sent.status_code == 200 and "Fogging dan posyandu" in sent.text, sent.text[:500]
    refused = web.post(f"{system.root}/musrenbang/{BUMIAJI}/{YEAR}/kesehatan/propose",
                       data={"csrf_token": csrf_of(page.text), "note": ""})
    assert refused.status_code == 400
