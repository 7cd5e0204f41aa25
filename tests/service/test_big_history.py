"""The history bench/big_history.py makes for the board's benchmark, at the size of a few
hundred cases: the requests service reads it as its own, on SQLite and on PostgreSQL.

Every list of the board (each filter, each sort, every page), the summary and the escalations
answer what the stored cases imply by the service's Python rules (shared.policy.sees_case,
ladder.is_overdue, the filters as queries.case_filters states them); every case and every
timeline entry shows. The history holds the mix the benchmark needs (its timeline entries are
made by handlers.timeline_entry, as the service's own).
"""
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bench import big_history
from services.requests import domain, ladder
from services.requests.models import Base, Case
from shared import policy
from tests.databases import a_store
from tests.service.requests_world import service_on

END = datetime(2026, 11, 19, 9, 30, tzinfo=timezone.utc)  # when the history stops
REGENCIES = ("35.79", "35.07")  # Kota Batu, and Kabupaten Malang
HISTORY = {"regencies": REGENCIES, "batu_share": 0.6, "years": 0.1, "seed": 1, "end": END}
CASES = 400


def actor(role, scope, name):
    return {"id": f"u-{scope}", "role": role, "scope": scope, "name": name, "regency": "35.79"}


COORDINATOR = actor("coordinator", "35.79.02", "Koordinator Kecamatan Bumiaji")
REGENCY = actor("regency", "35.79", "Kantor Walikota Batu")
PDAM = actor("agency", "pdam-batu", "Petugas PDAM")
VILLAGE = actor("village", "35.79.02.2001", "Operator Desa Punten")
ADMIN = {"id": "u-admin", "role": "admin", "scope": None, "name": "Admin"}
ACTORS = (COORDINATOR, REGENCY, PDAM, VILLAGE, ADMIN)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def history(request, tmp_path_factory):
    """A history of a few hundred cases in a requests database, and its cases as the service's
    model reads them back; the service's clock stopped where the history stops."""
    with a_store(request.param, tmp_path_factory.mktemp("history"), "requests",
                 Base.metadata) as store:
        counts = big_history.fill(store, CASES, workers=1, **HISTORY)
        with store.read() as session:
            cases = session.scalars(select(Case)).all()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("services.requests.service.utcnow", lambda: END)
            yield service_on(store), cases, counts


def open_case(case):
    return case.status not in domain.FINAL_STATUSES


def leaderless(case):
    return open_case(case) and not any(t.role == "lead" for t in domain.working_tasks(case))


FILTERS = {  # a filter of GET /cases -> the cases it keeps, as queries.case_filters states it
    "none": ({}, lambda c: True),
    "status": ({"status": "in_progress"}, lambda c: c.status == "in_progress"),
    "category": ({"category": "air-bersih"}, lambda c: c.category == "air-bersih"),
    "village": ({"village": "35.79.02.2001"}, lambda c: c.village_code == "35.79.02.2001"),
    "district": ({"district": "35.79.02"}, lambda c: c.district_code == "35.79.02"),
    "agency": ({"agency": "pupr-batu"},
               lambda c: any(t.agency_id == "pupr-batu" for t in c.tasks)),
    "overdue": ({"overdue": True}, lambda c: ladder.is_overdue(c, END)),
    "escalation_level": ({"escalation_level": "district"}, lambda c: c.escalation_level >= 1),
    "likely_duplicate": ({"likely_duplicate": True},
                         lambda c: open_case(c) and c.likely_duplicate_of is not None),
    "no_lead": ({"no_lead": True}, leaderless),
}


def next_deadline(case):
    return min(filter(None, map(ladder.current_deadline, case.tasks)), default=None)


def ordered(cases, sort):
    """The cases in the order of a sort of GET /cases, then by id."""
    cases = sorted(cases, key=lambda c: c.id)
    if sort == "newest":
        return sorted(cases, key=lambda c: c.created_at, reverse=True)  # stable: ids stay
    if sort == "oldest":
        return sorted(cases, key=lambda c: c.created_at)
    if sort == "updated":
        return sorted(cases, key=lambda c: c.updated_at, reverse=True)
    if sort == "escalation":
        return sorted(cases, key=lambda c: (-c.escalation_level, c.created_at))
    return sorted(cases, key=lambda c: (next_deadline(c) is None, next_deadline(c) or END))


SORTS = ("newest", "oldest", "updated", "escalation", "deadline")


def every_page(read, query, per_page=37):
    """The ids of every page of a list, and the total each page told."""
    ids, totals, page = [], set(), 1
    while True:
        answer = read({**query, "page": page, "per_page": per_page})
        ids += [item["id"] for item in answer["items"]]
        totals.add(answer["total"])
        if len(answer["items"]) < per_page:
            return ids, totals
        page += 1


def expected(cases, who, keep, sort="newest"):
    return [c.id for c in ordered([c for c in cases if policy.sees_case(who, c) and keep(c)],
                                  sort)]


@pytest.mark.parametrize("filter_name", FILTERS)
@pytest.mark.parametrize("who", ACTORS, ids=lambda a: a["role"])
def test_each_filter_lists_the_generated_cases_it_implies(history, who, filter_name):
    service, cases, _counts = history
    query, keep = FILTERS[filter_name]
    ids, totals = every_page(lambda q: service.list_cases(who, q), query)
    assert ids == expected(cases, who, keep)
    assert totals == {len(ids)}


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("who", (COORDINATOR, REGENCY, PDAM), ids=lambda a: a["role"])
def test_each_sort_orders_the_generated_cases(history, who, sort):
    service, cases, _counts = history
    ids, _totals = every_page(lambda q: service.list_cases(who, q), {"sort": sort})
    assert ids == expected(cases, who, lambda c: True, sort)


@pytest.mark.parametrize("who", (COORDINATOR, REGENCY, PDAM), ids=lambda a: a["role"])
def test_the_summary_counts_the_generated_cases(history, who):
    service, cases, _counts = history
    mine = [c for c in cases if policy.sees_case(who, c)]
    still_open = [c for c in mine if open_case(c)]
    agencies = Counter(agency for c in still_open for agency in {
        t.agency_id for t in c.tasks if t.status in domain.ACTIVE_TASK_STATUSES})
    summary = service.summary(who)
    assert (summary["total"], summary["open"]) == (len(mine), len(still_open))
    assert summary["overdue"] == sum(ladder.is_overdue(c, END) for c in mine)
    assert summary["escalated"] == sum(c.escalation_level > 0 for c in still_open)
    assert summary["by_status"] == {s: sum(c.status == s for c in mine)
                                    for s in domain.CASE_STATUSES}
    assert {a["id"]: a["open"] for a in summary["by_agency"]} == agencies
    assert {v["code"]: v["open"] for v in summary["by_village"]} == Counter(
        c.village_code for c in still_open)


@pytest.mark.parametrize("who, level", [(COORDINATOR, 1), (REGENCY, 2)],
                         ids=["coordinator", "regency"])
def test_the_escalations_are_the_generated_open_cases_escalated_that_far(history, who, level):
    service, cases, _counts = history
    ids, _totals = every_page(lambda q: service.escalations(who, q), {})
    assert ids == expected(cases, who, lambda c: open_case(c) and c.escalation_level >= level)


def test_every_generated_case_and_timeline_entry_shows(history):
    service, cases, counts = history
    assert counts["cases"] == len(cases) == CASES
    entries = 0
    for case in cases:
        shown = service.get_case(ADMIN, case.tracking_number, lang="en")
        assert (shown["id"], len(shown["tasks"])) == (case.id, len(case.tasks))
        timeline = service.timeline(ADMIN, case.id, {"per_page": 100}, lang="en")
        assert timeline["items"][0]["type"] == "reported"
        assert all(item["summary"] for item in timeline["items"])
        entries += timeline["total"]
    assert entries == counts["timeline"]


def test_the_history_holds_the_mix_the_board_shows(history):
    """Most cases closed; some open, overdue, escalated to each level, likely duplicates,
    merged, without a lead, cancelled; Kota Batu's agencies and Bumiaji's villages among them."""
    _service, cases, _counts = history
    statuses = Counter(c.status for c in cases)
    assert statuses["closed"] > len(cases) / 2
    assert statuses["cancelled"] and statuses["needs_triage"] and statuses["in_progress"]
    assert any(ladder.is_overdue(c, END) for c in cases)
    assert {1, 2} <= {c.escalation_level for c in cases if open_case(c)}
    assert any(c.likely_duplicate_of and open_case(c) for c in cases)
    assert any(c.merged_into for c in cases)
    assert any(leaderless(c) for c in cases)
    assert any(t.agency_id == "pdam-batu" for c in cases for t in c.tasks)
    assert {c.regency_code for c in cases} == set(REGENCIES)
    assert any(c.district_code == "35.79.02" for c in cases)

