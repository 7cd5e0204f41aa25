"""What board.py keeps for the board's reads (each case's next deadline, the rows of
`agency_cases`, the counts of cases per area and status) stays what the cases and their tasks
imply, through every change the requests service makes to them: a case opened, routed,
accepted, declined and referred, routed by hand, its lead changed, a task withdrawn, escalated
by the clock, merged, completed, confirmed, reopened, cancelled. On SQLite, and on PostgreSQL when it is here.

After each change the stored rows are compared with the rule stated in Python (ladder's current
deadline, shared.policy.sees_case), and every agency's lists (each sort), its summary and the
`agency` filter of the others answer what the cases imply; so do the totals of the coordinator's,
the regency office's and the administrator's lists (each status, district and regency) and their
summaries.
"""
import importlib.util
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from services.requests import board, commands, domain, ladder
from services.requests.models import AGENCY_CASE_COLUMNS, AgencyCase, Base, Case, CaseCount
from shared import events, migrations, policy
from shared.events import utcnow
from tests.databases import a_store
from tests.service.requests_world import (
    ADMIN, BPBD, BULUKERTO, COORDINATOR, EXPLANATION, PDAM, PUPR, REGENCY, SUMBEREJO, VILLAGE,
    decision, handle, issue, planned, service_on, task_id,
)

A, B, C, D, E = "case-000a", "case-000b", "case-000c", "case-000d", "case-000e"
AGENCIES = (PDAM, PUPR, BPBD)
SORTS = ("newest", "oldest", "updated", "escalation", "deadline")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    with a_store(request.param, tmp_path, "requests", Base.metadata) as store:
        yield store


def next_deadline(case):
    return min(filter(None, map(ladder.current_deadline, case.tasks)), default=None)


def implied_rows(cases):
    """The rows of agency_cases the cases and their tasks imply (the rule, in Python)."""
    rows = {}
    for case in cases:
        for task in case.tasks:
            row = rows.setdefault((case.id, task.agency_id), {
                "sees": False, **{name: getattr(case, name) for name in AGENCY_CASE_COLUMNS},
                "next_deadline_at": next_deadline(case),
                "agencies": {t.agency_id for t in case.tasks}})
            row["sees"] |= task.status not in domain.ENDED_TASK_STATUSES
    return rows


def listed(agencies):
    """The agencies of a row's ",a,b," (each once, in no particular order)."""
    assert agencies.startswith(",") and agencies.endswith(",")
    names = agencies.strip(",").split(",")
    assert len(names) == len(set(names))
    return set(names)


def ordered(cases, sort):
    cases = sorted(cases, key=lambda c: c.id)
    far = utcnow() + timedelta(days=10000)
    key = {"newest": lambda c: -c.created_at.timestamp(),
           "oldest": lambda c: c.created_at,
           "updated": lambda c: -c.updated_at.timestamp(),
           "escalation": lambda c: (-c.escalation_level, c.created_at),
           "deadline": lambda c: (next_deadline(c) is None, next_deadline(c) or far)}[sort]
    return [c.id for c in sorted(cases, key=key)]


def assert_counts_in_step(service, session, cases):
    """The kept counts are the cases' per area and status, and the coordinator's, the regency
    office's and the administrator's totals (which read them) are the number of their cases
    each filter matches."""
    kept = {(row.area, row.status): row.cases for row in session.scalars(select(CaseCount))}
    assert {key: n for key, n in kept.items() if n} == Counter(
        (area, case.status) for case in cases for area in (case.district_code, case.regency_code))
    for who in (REGENCY, COORDINATOR, ADMIN):
        seen = [c for c in cases if policy.sees_case(who, c)]
        assert service.summary(who)["by_status"] == {
            status: sum(c.status == status for c in seen) for status in domain.CASE_STATUSES}
        present = sorted({c.status for c in cases})
        absent = next(s for s in domain.CASE_STATUSES if s not in present)
        for status in (None, *present, absent):
            for area in ({}, {"district": "35.79.02"}, {"district": "35.79.01"},
                         {"regency": "35.79"}, {"regency": "35.07", "district": "35.79.02"},
                         {"district": "35.79"}, {"regency": "35.79.02"}):  # another level's
                filters = {**area, **({"status": status} if status else {})}
                expected = [c for c in seen if status in (None, c.status)
                            and c.district_code == area.get("district", c.district_code)
                            and c.regency_code == area.get("regency", c.regency_code)]
                answer = service.list_cases(who, {**filters, "per_page": 1})
                assert answer["total"] == len(expected), (who["role"], filters)


def assert_in_step(store):
    service = service_on(store)
    with store.read() as session:
        cases = session.scalars(select(Case)).all()
        assert_counts_in_step(service, session, cases)
        stored = {(row.case_id, row.agency_id): {
            "sees": bool(row.sees), **{name: getattr(row, name) for name in AGENCY_CASE_COLUMNS},
            "agencies": listed(row.agencies)} for row in session.scalars(select(AgencyCase))}
        # what the service's reads use, not what it was told (the flushes rewrote it)
        deadlines = dict(session.execute(select(Case.id, Case.next_deadline_at)).all())
    assert deadlines == {case.id: next_deadline(case) for case in cases}
    assert stored == implied_rows(cases)
    for agency in AGENCIES:
        seen = [c for c in cases if policy.sees_case(agency, c)]
        for sort in SORTS:
            answer = service.list_cases(agency, {"sort": sort, "per_page": 100})
            assert [item["id"] for item in answer["items"]] == ordered(seen, sort), sort
            assert answer["total"] == len(seen)
        summary = service.summary(agency)
        assert summary["total"] == len(seen)
        assert summary["open"] == sum(c.status not in domain.FINAL_STATUSES for c in seen)
        had_task = [c for c in cases if any(t.agency_id == agency["scope"] for t in c.tasks)]
        for who in (REGENCY, COORDINATOR, *AGENCIES):
            expected = [c for c in had_task if policy.sees_case(who, c)]
            for sort in ("newest", "deadline"):
                answer = service.list_cases(who, {"agency": agency["scope"], "sort": sort,
                                                  "per_page": 100})
                assert [item["id"] for item in answer["items"]] == ordered(expected, sort)


def everything(session):
    """Every row of agency_cases, and its case's next deadline, as comparable values."""
    rows = session.execute(select(AgencyCase, Case.next_deadline_at).join(
        Case, Case.id == AgencyCase.case_id).order_by(AgencyCase.agency_id, AgencyCase.case_id))
    return [({c.name: (listed(getattr(row, c.name)) if c.name == "agencies"
                       else getattr(row, c.name)) for c in AgencyCase.__table__.c}, due)
            for row, due in rows]


def run(store, command, *args):
    commands.run(store, command, *args)
    assert_in_step(store)


def test_what_the_board_reads_is_what_the_cases_and_tasks_imply_after_every_change(store):
    for case_id, days_ago, place in ((A, 4, {}), (B, 3, {"village": BULUKERTO}), (C, 2, {}),
                                     (D, 1, {}), (E, 1, {"village": SUMBEREJO})):
        handle(store, events.ISSUE_REPORTED, issue(case_id, days_ago=days_ago, **place))
    assert_in_step(store)
    handle(store, events.ROUTING_DECIDED, decision(A, tasks=[
        planned("pdam-batu", accept_in=-timedelta(hours=9)),
        planned("pupr-batu", role="support", accept_in=timedelta(hours=3))]))
    handle(store, events.ROUTING_DECIDED, decision(B, tasks=[planned("pupr-batu")]))
    handle(store, events.ROUTING_DECIDED, decision(C, events.OUTCOME_NEEDS_TRIAGE))
    handle(store, events.ROUTING_DECIDED, decision(D, tasks=[planned("pdam-batu")]))
    handle(store, events.ROUTING_DECIDED, decision(E, tasks=[planned("pdam-batu")]))
    assert_in_step(store)

    run(store, commands.task_action, PUPR, A, task_id(store, A, "pupr-batu"), "accept", {})
    run(store, commands.task_action, PUPR, B, task_id(store, B, "pupr-batu"), "decline",
        {"reason": "Bukan wewenang kami"})
    handle(store, events.ROUTING_DECIDED, decision(  # the referral of B
        B, events.OUTCOME_REFERRED, tasks=[planned("bpbd-batu", accept_in=timedelta(hours=2))]))
    assert_in_step(store)
    run(store, commands.route, COORDINATOR, C, {
        "tasks": [planned("bpbd-batu", accept_in=timedelta(hours=1)),
                  planned("pdam-batu", role="support")],
        "explanation": EXPLANATION, "note": "BPBD punya tangki"})
    run(store, commands.supervise_task, COORDINATOR, C, task_id(store, C, "pdam-batu"), "lead",
        {"reason": "PDAM lebih dekat"})
    run(store, commands.supervise_task, COORDINATOR, A, task_id(store, A, "pdam-batu"),
        "withdraw", {"reason": "Tidak hadir"})
    run(store, commands.watch_case, B)
    run(store, commands.escalate, COORDINATOR, D, {"reason": "Lima hari tanpa air"})
    run(store, commands.merge, COORDINATOR, D, {"into": C, "reason": "Masalah yang sama"})

    pupr = task_id(store, A, "pupr-batu")
    run(store, commands.supervise_task, COORDINATOR, A, pupr, "lead", {"reason": "PUPR siap"})
    run(store, commands.task_action, PUPR, A, pupr, "complete", {"note": "Pipa diganti"})
    run(store, commands.reopen, VILLAGE, A, {"reason": "Keruh lagi"})
    run(store, commands.task_action, PUPR, A, pupr, "accept", {})
    run(store, commands.task_action, PUPR, A, pupr, "complete", {"note": "Filter dipasang"})
    run(store, commands.confirm, VILLAGE, A, {"note": "Terima kasih"})
    run(store, commands.cancel, REGENCY, B, {"reason": "Laporan ganda"})
    run(store, commands.task_action, PDAM, E, task_id(store, E, "pdam-batu"), "accept", {})


def test_a_full_refresh_changes_nothing_the_service_kept(store):
    handle(store, events.ISSUE_REPORTED, issue(A))
    handle(store, events.ROUTING_DECIDED, decision(A, tasks=[
        planned("pdam-batu"), planned("pupr-batu", role="support")]))
    run(store, commands.supervise_task, COORDINATOR, A, task_id(store, A, "pupr-batu"),
        "withdraw", {"reason": "Tidak perlu"})
    with store.read() as session:
        before = everything(session)
    with store.engine.begin() as connection:
        board.refresh(connection)  # as migration 0007 and bench/big_history.py fill it
    with store.read() as session:
        assert everything(session) == before
    assert_in_step(store)


def migration_module(revision):
    path = next(Path(migrations.ROOT, "services", "requests", "migrations", "versions").glob(
        f"{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def test_migration_0007_fills_what_the_service_keeps(store):
    """Its SQL, written out for the databases that held cases before it, is board.refresh's
    rule: emptied and filled again by it, the rows come back the same."""
    migration = migration_module("0007")
    handle(store, events.ISSUE_REPORTED, issue(A, days_ago=1))
    handle(store, events.ISSUE_REPORTED, issue(B, village=BULUKERTO))
    handle(store, events.ROUTING_DECIDED, decision(A, tasks=[
        planned("pdam-batu"), planned("pupr-batu", role="support")]))
    handle(store, events.ROUTING_DECIDED, decision(B, tasks=[planned("pupr-batu")]))
    run(store, commands.task_action, PUPR, B, task_id(store, B, "pupr-batu"), "decline",
        {"reason": "Bukan wewenang kami"})
    with store.read() as session:
        before = everything(session)
    with store.engine.begin() as connection:
        connection.execute(delete(AgencyCase.__table__))
        connection.execute(update(Case.__table__).values(next_deadline_at=None))
        connection.execute(text(migration.NEXT_DEADLINE))
        connection.execute(text(migration.AGENCY_CASES.format(
            agency_list=migration.AGENCY_LIST[connection.dialect.name])))
    with store.read() as session:
        assert everything(session) == before
    assert len(before) == 3


def test_migration_0008_counts_what_the_service_keeps(store):
    """Its SQL, for the databases that held cases before it, counts what board.py keeps."""
    migration = migration_module("0008")
    handle(store, events.ISSUE_REPORTED, issue(A, days_ago=1))
    handle(store, events.ISSUE_REPORTED, issue(B, village=SUMBEREJO))
    handle(store, events.ROUTING_DECIDED, decision(A, tasks=[planned("pdam-batu")]))
    counted = (select(CaseCount.area, CaseCount.status, CaseCount.cases)
               .where(CaseCount.cases != 0).order_by(CaseCount.area, CaseCount.status))
    with store.read() as session:
        before = session.execute(counted).all()
    with store.engine.begin() as connection:
        connection.execute(delete(CaseCount.__table__))
        connection.execute(text(migration.CASE_COUNTS))
    with store.read() as session:
        assert session.execute(counted).all() == before
    assert ("35.79", domain.ROUTED, 1) in before and ("35.79.01", domain.REPORTED, 1) in before


def test_a_status_changed_before_it_was_read_is_counted_where_it_was(store):
    """Whatever changes a case's status through the ORM moves its count, even when the old
    status was not loaded (expired) when it changed."""
    handle(store, events.ISSUE_REPORTED, issue(A))
    with store.transaction() as unit:
        case = unit.session.get(Case, A)
        unit.session.expire(case, ["status"])
        case.status = domain.CANCELLED
    assert_in_step(store)
