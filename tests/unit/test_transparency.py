"""The public record of an area (services/requests/transparency.py), on cases whose right
answers are worked out by hand below."""
from datetime import datetime, timezone

from services.requests import transparency
from services.requests.transparency import CaseRow

BATU, MAKASSAR = "35.79", "73.71"  # WIB (UTC+7), WITA (UTC+8)
PDAM, PUPR, BPBD = ("pdam-batu", "PDAM"), ("pupr-batu", "PUPR"), ("bpbd-batu", "BPBD")


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_month_is_the_areas_own():
    # 31 October 17:30 UTC is 1 November in Batu (WIB) and in Makassar (WITA)
    assert transparency.month_of(utc(2026, 10, 31, 17, 30), BATU) == "2026-11"
    assert transparency.month_of(utc(2026, 10, 31, 16, 30), BATU) == "2026-10"
    assert transparency.month_of(utc(2026, 10, 31, 16, 30), MAKASSAR) == "2026-11"
    assert transparency.months_back(utc(2026, 2, 3), BATU, 3) == ["2025-12", "2026-01", "2026-02"]
    assert transparency.month_start("2026-11", BATU) == utc(2026, 10, 31, 17)


def row(category, created_at, resolved_at, working, missed_by=(), declined=()):
    agencies = dict(working) | dict(declined)
    return CaseRow(category, created_at, resolved_at, agencies, {a for a, _ in working},
                   {a for a, _ in missed_by})


def test_received_resolved_overdue_and_the_median_per_month_category_and_agency():
    rows = [
        # October: two clean-water cases, one resolved in 2 days, one where PUPR missed a
        # deadline, resolved in November after 10 days; a road case PUPR was late on, open
        row("air-bersih", utc(2026, 10, 5), utc(2026, 10, 7), [PDAM]),
        row("air-bersih", utc(2026, 10, 25), utc(2026, 11, 4), [PDAM, PUPR], missed_by=[PUPR]),
        row("jalan-jembatan", utc(2026, 10, 9), None, [PUPR], missed_by=[PUPR]),
        # November: one resolved in 1 day; one PDAM missed and declined, BPBD resolved in 3
        row("air-bersih", utc(2026, 11, 10), utc(2026, 11, 11), [PDAM]),
        row("air-bersih", utc(2026, 11, 12), utc(2026, 11, 15), [BPBD], missed_by=[PDAM],
            declined=[PDAM]),
        # September: outside the months asked for, but resolved in October after 31 days
        row("air-bersih", utc(2026, 9, 6), utc(2026, 10, 7), [PDAM]),
    ]
    record = transparency.record(rows, BATU, ["2026-10", "2026-11"])
    assert record["by_category"] == [
        {"month": "2026-10", "category": "air-bersih", "received": 2, "resolved": 2,
         "overdue": 1, "median_days_to_resolve": 16.5},
        {"month": "2026-10", "category": "jalan-jembatan", "received": 1, "resolved": 0,
         "overdue": 1, "median_days_to_resolve": None},
        {"month": "2026-11", "category": "air-bersih", "received": 2, "resolved": 3,
         "overdue": 1, "median_days_to_resolve": 3.0},
    ]
    assert record["by_agency"] == [
        {"month": "2026-10", "agency": {"id": "pdam-batu", "name": "PDAM"}, "received": 2,
         "resolved": 2, "overdue": 0, "median_days_to_resolve": 16.5},
        {"month": "2026-10", "agency": {"id": "pupr-batu", "name": "PUPR"}, "received": 2,
         "resolved": 0, "overdue": 2, "median_days_to_resolve": None},
        {"month": "2026-11", "agency": {"id": "bpbd-batu", "name": "BPBD"}, "received": 1,
         "resolved": 1, "overdue": 0, "median_days_to_resolve": 3.0},
        # the case it declined counts as given to it, and late, never as resolved by it
        {"month": "2026-11", "agency": {"id": "pdam-batu", "name": "PDAM"}, "received": 2,
         "resolved": 2, "overdue": 1, "median_days_to_resolve": 5.5},
        {"month": "2026-11", "agency": {"id": "pupr-batu", "name": "PUPR"}, "received": 0,
         "resolved": 1, "overdue": 0, "median_days_to_resolve": 10.0},
    ]
    assert record["total"] == [
        {"month": "2026-10", "received": 3, "resolved": 2, "overdue": 2,
         "median_days_to_resolve": 16.5},
        {"month": "2026-11", "received": 2, "resolved": 3, "overdue": 1,
         "median_days_to_resolve": 3.0},
    ]
    # over both months: resolved in 2, 31, 10, 1 and 3 days
    assert record["categories"] == [
        {"category": "air-bersih", "received": 4, "resolved": 5, "overdue": 2,
         "median_days_to_resolve": 3.0},
        {"category": "jalan-jembatan", "received": 1, "resolved": 0, "overdue": 1,
         "median_days_to_resolve": None}]
    assert record["agencies"] == [
        {"agency": {"id": "bpbd-batu", "name": "BPBD"}, "received": 1, "resolved": 1,
         "overdue": 0, "median_days_to_resolve": 3.0},
        {"agency": {"id": "pdam-batu", "name": "PDAM"}, "received": 4, "resolved": 4,
         "overdue": 1, "median_days_to_resolve": 6.0},
        {"agency": {"id": "pupr-batu", "name": "PUPR"}, "received": 2, "resolved": 1,
         "overdue": 2, "median_days_to_resolve": 10.0}]


def test_every_month_has_its_total_even_a_quiet_one():
    record = transparency.record([], BATU, ["2026-10", "2026-11"])
    assert record == {"by_category": [], "by_agency": [], "categories": [], "agencies": [],
                      "total": [
        {"month": month, "received": 0, "resolved": 0, "overdue": 0,
         "median_days_to_resolve": None} for month in ("2026-10", "2026-11")]}
