"""The Musrenbang input (services/requests/musrenbang.py): a district's issues of a year,
grouped by category and ranked, on cases whose right answers are worked out by hand."""
from datetime import datetime, timedelta, timezone

from services.requests import musrenbang
from services.requests.musrenbang import CaseRow

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
PUNTEN, GUNUNGSARI = ("35.79.02.2001", "Punten"), ("35.79.02.2002", "Gunungsari")


def case(number, village, category, affected, days_ago, resolved_after=None, recurring=False):
    created = NOW - timedelta(days=days_ago)
    return CaseRow(f"JBT-{number}", village[0], village[1], category, f"Kasus {number}",
                   "resolved" if resolved_after is not None else "in_progress", affected,
                   created, created + timedelta(days=resolved_after)
                   if resolved_after is not None else None, recurring)


def name(code):
    return {"air-bersih": "Air Bersih", "jalan-jembatan": "Jalan dan Jembatan",
            "kesehatan": "Kesehatan"}[code]


def test_issues_are_grouped_by_category_and_ranked():
    rows = [
        # clean water: 3 reports from 2 villages, 320 + 80 + none affected; unresolved
        # 4 days (done), 10 days (still open), 2 days (done): median 4; one came back
        case(1, PUNTEN, "air-bersih", 320, 30, resolved_after=4),
        case(2, PUNTEN, "air-bersih", 80, 10, recurring=True),
        case(3, GUNUNGSARI, "air-bersih", None, 20, resolved_after=2),
        # roads: 2 reports, 500 affected: fewer reports, ranked after clean water
        case(4, GUNUNGSARI, "jalan-jembatan", 500, 40),
        case(5, GUNUNGSARI, "jalan-jembatan", 0, 5, resolved_after=1),
        # health: 2 reports too but fewer people: after roads
        case(6, PUNTEN, "kesehatan", 50, 3),
        case(7, PUNTEN, "kesehatan", 60, 1),
    ]
    ranked = musrenbang.items(rows, NOW, name)
    assert [(i["rank"], i["category"]) for i in ranked] == [
        (1, "air-bersih"), (2, "jalan-jembatan"), (3, "kesehatan")]
    water, roads, health = ranked
    assert (water["cases"], water["affected_people"], water["median_days_unresolved"],
            water["recurring"]) == (3, 400, 4.0, 1)
    assert [(v["name"], [c["tracking_number"] for c in v["cases"]])
            for v in water["villages"]] == [("Gunungsari", ["JBT-3"]),
                                            ("Punten", ["JBT-1", "JBT-2"])]  # by name
    assert (roads["cases"], roads["affected_people"], roads["median_days_unresolved"]) == \
        (2, 500, 20.5)   # 40 days still open, 1 day: median 20.5
    assert (health["cases"], health["affected_people"]) == (2, 110)


def test_a_tie_of_reports_and_people_goes_to_the_longer_unresolved_then_the_code():
    rows = [case(1, PUNTEN, "kesehatan", 10, 2), case(2, PUNTEN, "air-bersih", 10, 9),
            case(3, GUNUNGSARI, "jalan-jembatan", 10, 9)]
    assert [i["category"] for i in musrenbang.items(rows, NOW, name)] == [
        "air-bersih", "jalan-jembatan", "kesehatan"]


def test_no_case_no_item():
    assert musrenbang.items([], NOW, name) == []
