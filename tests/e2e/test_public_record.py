"""The public record (no sign-in): an area's cases month by month, its public cases, the CSV
downloads with their licence, and the page that shows them — checked against what the cases
themselves say when an administrator reads them, and never showing a confidential one.

One system (SQLite): clean-water and road cases of Bumiaji (one resolved), a clean-water case
of Sisir (another district of Batu), a confidential complaint of Punten (resolved too).
"""
import csv
import io
from collections import Counter

import pytest
import requests

from tests.e2e.helpers import (
    BATU, BUMIAJI, PUNTEN, case_when, clean_water_report, report, resolve,
)
from tests.e2e.system import Client

pytestmark = pytest.mark.e2e

SIDOMULYO, SISIR = "35.79.02.2002", "35.79.01.1004"
COMPLAINT = {"category": "adminduk", "title": "Pungutan liar oleh oknum perangkat",
             "description": "Warga dimintai uang untuk surat pengantar.", "severity": "medium",
             "confidential": True}
ROAD = {"category": "jalan-jembatan", "title": "Jembatan dusun putus",
        "description": "Jembatan bambu putus terbawa arus.", "severity": "high"}


@pytest.fixture(scope="module")
def world(sqlite_system):
    system = sqlite_system
    sent = [(PUNTEN, clean_water_report()), (PUNTEN, ROAD), (SIDOMULYO, clean_water_report()),
            (SISIR, clean_water_report()), (PUNTEN, COMPLAINT)]
    admin = system.admin()
    cases = [case_when(admin, report(system.village(village), body)["case_id"], "routed")
             for village, body in sent]
    cases[0] = resolve(system, cases[0])
    cases[4] = resolve(system, cases[4])
    return system, cases


def public(system):
    return Client(system.base)  # nobody signed in


def expected_record(cases, area):
    """What the record should say of this month, worked out from the cases as an admin reads
    them: every public case of the area was received this month."""
    mine = [c for c in cases if not c["confidential"]
            and (c["regency"]["code"] == area or c["district"]["code"] == area)]
    categories = Counter(c["category"] for c in mine)
    resolved = Counter(c["category"] for c in mine if c["status"] == "resolved")
    agencies = Counter(t["agency"]["id"] for c in mine for t in c["tasks"])
    return mine, categories, resolved, agencies


@pytest.mark.parametrize("area", [BATU, BUMIAJI])
def test_the_record_of_this_month_counts_the_public_cases_of_the_area(world, area):
    system, cases = world
    answer = public(system).get(f"/public/areas/{area}/record", params={"months": 3})
    assert answer.status_code == 200, answer.text
    record = answer.json()
    mine, categories, resolved, agencies = expected_record(cases, area)
    assert len(record["months"]) == 3 and record["total"][-1]["month"] == record["months"][-1]
    assert [line["received"] for line in record["total"]] == [0, 0, len(mine)]
    this_month = record["months"][-1]
    assert {line["category"]: line["received"] for line in record["by_category"]
            if line["month"] == this_month} == dict(categories)
    assert {line["category"]: line["resolved"] for line in record["categories"]
            if line["resolved"]} == dict(resolved)
    assert {line["agency"]["id"]: line["received"] for line in record["agencies"]} == \
        dict(agencies)
    assert "adminduk" not in {line["category"] for line in record["categories"]}
    assert record["area"]["code"] == area
    assert record["licence"]["name"].startswith("Open Database License")


def test_the_public_list_shows_status_only_and_never_a_confidential_case(world):
    system, cases = world
    listed = public(system).get(f"/public/areas/{BATU}/cases", params={"per_page": 100}).json()
    numbers = [c["tracking_number"] for c in listed["items"]]
    assert sorted(numbers) == sorted(c["tracking_number"] for c in cases if not c["confidential"])
    assert listed["total"] == 4
    text = str(listed)
    for case in cases:  # no title, no description, no reporter
        assert case["title"] not in text and case["reporter"]["name"] not in text
    assert {c["status"] for c in listed["items"]} == {"routed", "resolved"}


def test_the_downloads_are_csv_with_their_licence(world):
    system, cases = world
    for path in (f"/public/areas/{BATU}/record.csv", f"/public/areas/{BATU}/cases.csv"):
        answer = requests.get(system.base + path, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith("text/csv")
        assert "opendatacommons.org/licenses/odbl" in answer.headers["Link"]
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert rows and not any("Pungutan" in str(row) for row in rows)
        assert all(row["licence"].startswith("Open Database License") for row in rows)
        if path.endswith("cases.csv"):
            assert sorted(row["tracking_number"] for row in rows) == sorted(
                c["tracking_number"] for c in cases if not c["confidential"])
        else:
            this_month = max(row["month"] for row in rows)
            totals = [row for row in rows if row["breakdown"] == "total"
                      and row["month"] == this_month]
            assert [int(row["received"]) for row in totals] == [4]
            whole = {row["code"]: int(row["received"]) for row in rows
                     if ".." in row["month"] and row["breakdown"] == "category"}
            assert whole == {"air-bersih": 3, "jalan-jembatan": 1}


def test_the_public_page_reads_without_signing_in(world):
    system, cases = world
    page = requests.get(f"{system.root}/publik/{BATU}", timeout=10)
    assert page.status_code == 200 and "Kota Batu" in page.text
    for case in cases:
        assert (case["tracking_number"] in page.text) is (not case["confidential"])
    assert "Open Database License" in page.text
    for district in ("35.79.01", "35.79.02"):  # its districts with cases, a page each
        assert f'href="/publik/{district}?months=12"' in page.text
    english = requests.get(f"{system.root}/publik/{BUMIAJI}?lang=en", timeout=10)
    assert english.status_code == 200 and "Cases received" in english.text
    index = requests.get(f"{system.root}/publik", timeout=10)
    assert index.status_code == 200 and f'href="/publik/{BATU}"' in index.text


@pytest.mark.parametrize("path", ["/public/areas/99.99/record", "/public/areas/35/record",
                                  "/public/areas/35.79.02.2001/cases",
                                  "/public/areas/35.79.99/cases.csv"])
def test_an_unknown_area_is_not_found(world, path):
    system, _ = world
    answer = public(system).get(path)
    assert answer.status_code == 404, answer.text
    assert "area" in answer.json()["error"]["details"]


def test_a_bad_period_is_refused_naming_it(world):
    system, _ = world
    for months in (0, 25, "satu"):
        answer = public(system).get(f"/public/areas/{BATU}/record", params={"months": months})
        assert answer.status_code == 400 and "months" in answer.json()["error"]["details"]


def test_the_regency_office_downloads_the_agencies_record_of_a_period_as_csv(world):
    system, cases = world
    office = system.client("regency", BATU)
    answer = office.get("/agencies/records.csv", params={"days": 7})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    rows = {row["agency_id"]: row for row in csv.DictReader(io.StringIO(answer.text))}
    as_json = office.get("/agencies/records", params={"days": 7}).json()
    assert set(rows) == {row["agency"]["id"] for row in as_json["items"]}
    for row in as_json["items"]:
        line = rows[row["agency"]["id"]]
        assert (line["from"], line["to"]) == (as_json["from"], as_json["to"])
        assert int(line["received"]) == row["received"]
        assert int(line["completed_in_time"]) == row["completed_in_time"]
    # the confidential complaint's agency counts it: the record is the office's, not public
    given = Counter(t["agency"]["id"] for c in cases for t in c["tasks"])
    assert {agency: int(row["received"]) for agency, row in rows.items()} == dict(given)


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-06-02", "to": "2026-06-01"}, "to"),
    ({"from": "2025-01-01", "to": "2026-06-01"}, "to"),
    ({"from": "0001-01-01"}, "from"),
    ({"days": 0}, "days"),
    ({"to": "kemarin"}, "to"),
])
def test_a_bad_period_of_the_agencies_record_is_refused_naming_it(world, query, field):
    system, _ = world
    office = system.client("regency", BATU)
    for path in ("/agencies/records", "/agencies/records.csv"):
        answer = office.get(path, params=query)
        assert answer.status_code == 400, answer.text
        assert field in answer.json()["error"]["details"]


def test_a_period_from_a_day_is_so_many_days_from_it(world):
    system, _ = world
    answer = system.client("regency", BATU).get("/agencies/records", params={
        "from": "2026-01-01", "days": 10}).json()
    assert (answer["from"], answer["to"], answer["days"]) == ("2026-01-01", "2026-01-10", 10)
