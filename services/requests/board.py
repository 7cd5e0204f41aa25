"""What the board reads that is derived from the cases and their tasks, kept in step with them.

Two things, each a function of a case and its tasks alone:

- `cases.next_deadline_at`: the earliest current deadline of the case's tasks
  (ladder.current_deadline; none when no task is being worked on), what the `deadline` sort
  orders by;
- `agency_cases`: a row per agency that has (or had) a task on the case, saying whether the
  agency sees the case (shared.policy.sees_case: a task of it not ended) and which agencies
  have (or had) a task on it, with the case's columns the board filters and sorts by
  (models.AGENCY_CASE_COLUMNS). An agency's lists, its summary and the `agency` filter read
  these rows.

And `case_counts`: how many cases each district and each regency has in each status, what
the board's totals and the summary's counts per status read (`count`, `count_changes`).

`refresh` computes them again, in SQL, from the rows of the cases named; `keep_in_step` runs it
after every flush of a session that wrote a case or a task, in the same transaction: whatever
changes a case or its tasks through the ORM (every command, handler and the deadline watcher)
leaves them right when it commits, and a rollback takes them back with the rest. A new case is
written without the ORM (handlers.when_an_issue_is_reported_open_the_case): it has no task yet,
so only its count to add, which that handler does. Migrations 0007 and 0008 and
bench/big_history.py fill them for cases written before.
"""
import functools
from collections import Counter

from sqlalchemy import (
    bindparam, delete, distinct, event, func, insert, inspect, literal, select, text, union_all,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from services.requests import domain, queries
from services.requests.models import AGENCY_CASE_COLUMNS, AgencyCase, Case, CaseCount, Task


def refresh(connection, case_ids=None):
    """Compute the next deadline and the agencies' rows of these cases (of every case: None)
    again from their tasks."""
    if case_ids is None:
        for statement in every_case(connection.dialect.name):
            connection.execute(statement)
        return
    case_ids = sorted(set(case_ids))
    if case_ids:
        for statement in some_cases(connection.dialect.name):
            connection.execute(statement, {"ids": case_ids})


CASES, TASKS, ROWS, COUNTS = (Case.__table__, Task.__table__, AgencyCase.__table__,
                              CaseCount.__table__)
ACTIVE = TASKS.c.status.in_(domain.ACTIVE_TASK_STATUSES)
IDS = bindparam("ids", expanding=True)


@functools.cache
def some_cases(dialect):
    """The statements of `refresh` for the cases of the list `ids`, built once (every write
    runs them, and building a statement costs more than running it)."""
    earliest = (select(func.min(queries.current_deadline()))
                .where(TASKS.c.case_id == CASES.c.id, ACTIVE).scalar_subquery())
    # (On PostgreSQL the first holds the cases' rows until the transaction ends: two writers of
    # one case refresh it one after the other, the second seeing the first's tasks. Every
    # change of a task changes its case too (updated_at), and the ORM writes the case before
    # its tasks: the row is already this transaction's, taken in the same order.)
    return (update(CASES).where(CASES.c.id.in_(IDS)).values(next_deadline_at=earliest),
            delete(ROWS).where(ROWS.c.case_id.in_(IDS)),
            fill_rows(dialect, CASES.c.id.in_(IDS)))


@functools.cache
def every_case(dialect):
    """The statements of `refresh` for every case, in one pass over the tasks."""
    due = (select(TASKS.c.case_id, func.min(queries.current_deadline()).label("at"))
           .where(ACTIVE).group_by(TASKS.c.case_id).subquery())
    return (update(CASES).where(CASES.c.next_deadline_at.is_not(None),
                                CASES.c.id.not_in(select(TASKS.c.case_id).where(ACTIVE)))
            .values(next_deadline_at=None),
            update(CASES).where(CASES.c.id == due.c.case_id).values(next_deadline_at=due.c.at),
            delete(ROWS),
            fill_rows(dialect, None),
            delete(COUNTS),
            insert(COUNTS).from_select(["area", "status", "cases"], union_all(*(
                select(area, CASES.c.status, func.count()).group_by(area, CASES.c.status)
                for area in (CASES.c.district_code, CASES.c.regency_code)))))


def fill_rows(dialect, chosen):
    """INSERT the agencies' rows of the cases `chosen` (all: None) from their tasks."""
    sees = func.max(sql_case((TASKS.c.status.not_in(domain.ENDED_TASK_STATUSES), 1), else_=0))
    listed = select(TASKS.c.case_id, agency_list(dialect).label("agencies"))
    if chosen is not None:
        listed = listed.where(TASKS.c.case_id.in_(IDS))
    listed = listed.group_by(TASKS.c.case_id).subquery("listed")
    of_cases = (select(CASES.c.id, TASKS.c.agency_id, sees == 1, listed.c.agencies,
                       *(CASES.c[name] for name in AGENCY_CASE_COLUMNS))
                .join(TASKS, TASKS.c.case_id == CASES.c.id)
                .join(listed, listed.c.case_id == CASES.c.id)
                .group_by(CASES.c.id, TASKS.c.agency_id, listed.c.agencies))
    if chosen is not None:
        of_cases = of_cases.where(chosen)
    else:  # in the order of the key: its index fills up page by page
        of_cases = of_cases.order_by(CASES.c.id, TASKS.c.agency_id)
    return insert(ROWS).from_select(
        ["case_id", "agency_id", "sees", "agencies", *AGENCY_CASE_COLUMNS], of_cases)


def agency_list(dialect):
    """The agencies of a group of tasks, each once, as ",a,b," (in no particular order)."""
    agency = Task.__table__.c.agency_id
    if dialect == "postgresql":
        joined = func.string_agg(distinct(agency), literal(","))
    else:
        joined = func.group_concat(distinct(agency))  # SQLite: separated by commas
    return literal(",") + joined + literal(",")


def counted_in(case):
    """The areas a case is counted in (models.CaseCount): its district and its regency."""
    return case.district_code, case.regency_code


def counted(case):
    """A new case in the counts: one more in its status in each of its areas."""
    return {(area, case.status): 1 for area in counted_in(case)}


# Adds `change` to an area's count of a status (its first case makes the row). Written out:
# SQLite and PostgreSQL both read it, and it is built once.
COUNT_CHANGE = text(
    "INSERT INTO case_counts (area, status, cases) VALUES (:area, :status, :change) "
    "ON CONFLICT (area, status) DO UPDATE SET cases = case_counts.cases + excluded.cases")


def count(connection, changes):
    """Apply changes of the counts, {(area, status): change}. In the order of their keys: on
    PostgreSQL each takes its row until the transaction ends, and two transactions that take
    rows in one order cannot wait for each other."""
    rows = [{"area": area, "status": status, "change": change}
            for (area, status), change in sorted(changes.items()) if change]
    if rows:
        connection.execute(COUNT_CHANGE, rows)


def count_changes(session):
    """The changes of the counts the session's flush makes, {(area, status): change}: a new
    case counts in its status; a case whose status changes leaves the old one for the new
    one (cases are never deleted)."""
    changes = Counter()
    for obj in session.new:
        if isinstance(obj, Case):
            changes.update(counted(obj))
    for obj in session.dirty:
        if isinstance(obj, Case):
            history = inspect(obj).attrs.status.history
            for area in counted_in(obj):
                for left in history.deleted:
                    changes[area, left] -= 1
                for entered in history.added:
                    changes[area, entered] += 1
    return changes


def changed_cases(session):
    """The ids of the cases the session is flushing a change of (or of one of their tasks)."""
    ids = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case):
            ids.add(obj.id)
        elif isinstance(obj, Task):
            ids.add(obj.case_id)
            ids.update(inspect(obj).attrs.case_id.history.deleted or ())
    ids.discard(None)
    return ids


@event.listens_for(Session, "after_flush")
def keep_in_step(session, _flush_context):
    """After a flush that wrote cases or tasks, refresh those cases and count their changes of
    status, in its transaction."""
    count(session.connection(), count_changes(session))
    ids = changed_cases(session)
    if ids:
        refresh(session.connection(), ids)
        session.info.setdefault("refreshed_cases", set()).update(ids)


@event.listens_for(Session, "after_flush_postexec")
def forget_old_deadlines(session, _flush_context):
    """The cases in the session whose next deadline `refresh` wrote read it again if asked."""
    for case_id in session.info.pop("refreshed_cases", ()):
        case = session.identity_map.get(inspect(Case).identity_key_from_primary_key((case_id,)))
        if case is not None:
            session.expire(case, ["next_deadline_at"])
