"""What the requests service's reads answer, against a real database (SQLite, and PostgreSQL
when it is here), no broker: the list of cases with every filter and sort, paging, the summary,
the escalations and the timeline.

The RPC methods of RequestsService run by hand on the test's store, so the answers are exactly
those the gateway gets.
"""
from datetime import timedelta

import pytest

from services.requests import commands
from services.requests.models import Base
from shared import events
from shared.errors import NotFound
from tests.databases import a_store
from tests.service.requests_world import (
    ADMIN, BPBD, BULUKERTO, COORDINATOR, OTHER_COORDINATOR, PDAM, PUPR, REGENCY, SUMBEREJO,
    VILLAGE, decision, handle, issue, planned, service_on,
)

A, B, C, D, E = "case-000a", "case-000b", "case-000c", "case-000d", "case-000e"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    """The reads on SQLite, and on PostgreSQL when it is here (their SQL differs)."""
    with a_store(request.param, tmp_path_factory.mktemp("requests"), "requests",
                 Base.metadata) as store:
        yield store


@pytest.fixture(scope="module")
def requests(store):
    """Five cases of Kota Batu, opened a day apart (A first), then changed in this order:

    A  Punten, clean water: PDAM (lead) had to accept six hours ago, Dinas PUPR supports;
       the clock has since reminded PDAM and escalated A to the district coordinator.
    B  Bulukerto, roads: Dinas PUPR leads.
    C  Sumberejo (another district), floods: awaiting triage.
    D  Punten, health: BPBD leads; escalated to the regency office by hand, then cancelled.
    E  Punten, roads: PDAM leads; escalated to the regency office by hand.
    """
    for case_id, village, category, days_ago in (
            (A, None, "air-bersih", 5), (B, BULUKERTO, "jalan-jembatan", 4),
            (C, SUMBEREJO, "banjir-bencana", 3), (D, None, "kesehatan", 2),
            (E, None, "jalan-jembatan", 1)):
        place = {"village": village} if village else {}
        handle(store, events.ISSUE_REPORTED, issue(case_id, category=category,
                                                   days_ago=days_ago, **place))
    routes = {
        A: [planned("pdam-batu", accept_in=-timedelta(hours=6)),
            planned("pupr-batu", role="support")],
        B: [planned("pupr-batu", accept_in=timedelta(days=2))],
        D: [planned("bpbd-batu")],
        E: [planned("pdam-batu", accept_in=timedelta(days=3))],
    }
    for case_id in (A, B, C, D, E):
        if case_id in routes:
            handle(store, events.ROUTING_DECIDED, decision(case_id, tasks=routes[case_id]))
        else:
            handle(store, events.ROUTING_DECIDED,
                   decision(case_id, events.OUTCOME_NEEDS_TRIAGE))
    commands.run(store, commands.escalate, COORDINATOR, D, {"reason": "Wabah"})
    commands.run(store, commands.cancel, COORDINATOR, D, {"reason": "Ditangani puskesmas"})
    commands.run(store, commands.escalate, COORDINATOR, E, {"reason": "Jalan putus"})
    commands.run(store, commands.watch_case, A)  # a high case: four hours between the steps
    return service_on(store)


def listed(requests, actor=REGENCY, **filters):
    return [item["id"] for item in requests.list_cases(actor, filters)["items"]]


@pytest.mark.parametrize("filters, expected", [
    ({}, [E, D, C, B, A]),
    ({"status": "routed"}, [E, B, A]),
    ({"status": "needs_triage"}, [C]),
    ({"category": "jalan-jembatan"}, [E, B]),
    ({"village": "35.79.02.2001"}, [E, D, A]),
    ({"district": "35.79.01"}, [C]),
    ({"regency": "35.79"}, [E, D, C, B, A]),
    ({"agency": "pupr-batu"}, [B, A]),
    ({"agency": "bpbd-batu"}, [D]),  # its task was withdrawn when D was cancelled
    ({"overdue": True}, [A]),
    ({"overdue": False}, [E, D, C, B]),
    ({"escalation_level": "district"}, [E, D, A]),
    ({"escalation_level": "regency"}, [E, D]),
    ({"open": True}, [E, C, B, A]),
    ({"open": True, "village": "35.79.02.2001", "escalation_level": "district"}, [E, A]),
])
def test_each_filter_of_the_list(requests, filters, expected):
    assert listed(requests, **filters) == expected


@pytest.mark.parametrize("sort, expected", [
    ("newest", [E, D, C, B, A]),
    ("oldest", [A, B, C, D, E]),
    ("updated", [A, E, D, C, B]),
    ("escalation", [D, E, A, B, C]),  # the highest level first, then the oldest
    ("deadline", [A, B, E, C, D]),    # the earliest current deadline first, nothing due last
])
def test_each_sort_of_the_list(requests, sort, expected):
    assert listed(requests, sort=sort) == expected


@pytest.mark.parametrize("actor, expected", [
    (ADMIN, [E, D, C, B, A]),
    (COORDINATOR, [E, D, B, A]),
    (OTHER_COORDINATOR, [C]),
    (VILLAGE, [E, D, A]),
    (PDAM, [E, A]),
    (PUPR, [B, A]),
    (BPBD, []),  # withdrawn: the agency no longer sees the case
])
def test_the_list_keeps_to_the_callers_jurisdiction(requests, actor, expected):
    assert listed(requests, actor) == expected


def test_paging_tells_the_total_and_caps_the_page_size(requests):
    pages = [requests.list_cases(REGENCY, {"page": n, "per_page": 2}) for n in (1, 2, 3, 4)]
    assert [page["total"] for page in pages] == [5, 5, 5, 5]
    assert [[item["id"] for item in page["items"]] for page in pages] == [
        [E, D], [C, B], [A], []]
    assert (pages[2]["page"], pages[2]["per_page"]) == (3, 2)
    assert requests.list_cases(REGENCY, {"per_page": 1000})["per_page"] == 100


def test_a_case_in_the_list_shows_its_agencies_its_deadline_and_its_level(requests):
    [a] = requests.list_cases(REGENCY, {"overdue": True}, lang="en")["items"]
    assert (a["status_label"], a["overdue"], a["escalation_level"]) == (
        "routed", True, "district")
    assert [(x["id"], x["role"]) for x in a["agencies"]] == [
        ("pdam-batu", "lead"), ("pupr-batu", "support")]


def test_the_summary_counts_the_coordinators_cases(requests):
    summary = requests.summary(COORDINATOR)
    assert (summary["total"], summary["open"], summary["overdue"], summary["escalated"]) == (
        4, 3, 1, 2)
    assert {status: n for status, n in summary["by_status"].items() if n} == {
        "routed": 3, "cancelled": 1}
    assert sorted((x["id"], x["open"]) for x in summary["by_agency"]) == [
        ("pdam-batu", 2), ("pupr-batu", 2)]
    assert sorted((x["code"], x["open"]) for x in summary["by_village"]) == [
        ("35.79.02.2001", 2), ("35.79.02.2002", 1)]


def test_the_escalations_are_the_open_cases_escalated_to_the_callers_level(requests):
    def escalated(actor):
        return [item["id"] for item in requests.escalations(actor, {})["items"]]

    assert escalated(COORDINATOR) == [E, A]  # D was escalated too, but is cancelled
    assert escalated(REGENCY) == [E]


def test_a_page_of_the_timeline_oldest_first(requests):
    first = requests.timeline(VILLAGE, A, {"per_page": 3}, lang="en")
    second = requests.timeline(VILLAGE, "jbt-000a", {"page": 2, "per_page": 3}, lang="en")
    assert (first["total"], second["total"], second["page"]) == (4, 4, 2)
    assert [entry["type"] for entry in first["items"] + second["items"]] == [
        "reported", "routed", "deadline_missed", "escalated"]
    assert first["items"][1]["summary"] == "Routed to PDAM, Dinas PUPR"
    assert second["items"][0]["summary"].startswith("Escalated to the district coordinator")


def test_a_case_is_found_by_its_tracking_number_and_hidden_outside_the_jurisdiction(requests):
    assert requests.get_case(VILLAGE, "jbt-000e")["id"] == E
    with pytest.raises(NotFound):
        requests.get_case(OTHER_COORDINATOR, E)
    with pytest.raises(NotFound):
        requests.timeline(PUPR, E, {})
    assert requests.case_context(COORDINATOR, B) == {
        "id": B, "regency_code": "35.79", "district_code": "35.79.02",
        "village_code": "35.79.02.2002", "category": "jalan-jembatan", "severity": "high"}
