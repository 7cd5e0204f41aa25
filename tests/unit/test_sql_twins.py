"""Each rule with a SQL twin (services/requests/queries.py) decides as its Python form does
(domain.py, ladder.py), on generated cases in SQLite in memory.

The Python form decides for the case in hand (what a case shows, what the clock does); the SQL
decides for lists and counts (the `deadline` sort, the overdue filter, the watcher's selection,
the likely duplicate of a new case). Should the two drift apart, a case would be listed as
overdue and shown as not, or the watcher would miss a case with work due.
"""
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.requests import domain, ladder, queries
from services.requests.models import Case, Task

T0 = datetime(2026, 8, 13, 9, 0, tzinfo=timezone.utc)
VILLAGES = ("35.79.02.2001", "35.79.02.2002")
CATEGORIES = ("air-bersih", "jalan-jembatan")
LADDER_STEPS = st.integers(min_value=0, max_value=ladder.LAST_STEP)
# A deadline some hours around T0, or none (a task routed without one).
deadlines = st.none() | st.integers(min_value=-48, max_value=48).map(
    lambda hours: T0 + timedelta(hours=hours))
tasks = st.tuples(st.sampled_from(domain.TASK_STATUSES), deadlines, deadlines, LADDER_STEPS)
cases = st.lists(
    st.tuples(st.sampled_from(domain.CASE_STATUSES), st.sampled_from(VILLAGES),
              st.sampled_from(CATEGORIES), st.lists(tasks, max_size=3),
              st.integers(min_value=-20, max_value=0)),  # resolved so many days before T0
    min_size=1, max_size=6)
moments = st.integers(min_value=-72, max_value=72).map(lambda hours: T0 + timedelta(hours=hours))
twin_settings = settings(max_examples=150, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])


def stored(session, generated):
    """The generated cases as rows, created a minute apart in the order given."""
    session.execute(delete(Task))
    session.execute(delete(Case))
    for n, (status, village, category, case_tasks, resolved_days) in enumerate(generated):
        case = Case(id=str(uuid.uuid4()), tracking_number=uuid.uuid4().hex[:12], status=status,
                    category=category, title="t", description="d", severity="high",
                    village_code=village, village_name="v", district_code=village[:8],
                    district_name="d", regency_code=village[:5], regency_name="r",
                    reporter_id="u", reporter_name="n", version=1, confidential=n % 3 == 1,
                    created_at=T0 + timedelta(minutes=n), updated_at=T0,
                    resolved_at=T0 + timedelta(days=resolved_days)
                    if status == domain.RESOLVED else None)
        case.tasks = [Task(id=str(uuid.uuid4()), agency_id=f"agency-{i}", agency_name="a",
                           role="lead", status=task_status, assigned_at=T0,
                           accept_due_at=accept_due_at, due_at=due_at, ladder_step=step)
                      for i, (task_status, accept_due_at, due_at, step) in enumerate(case_tasks)]
        session.add(case)
    session.flush()
    return session.scalars(select(Case)).all()


@twin_settings
@given(generated=cases)
def test_the_current_deadline_of_a_task_is_the_same_in_python_and_in_sql(requests_database,
                                                                      generated):
    with Session(requests_database) as session:
        stored(session, generated)
        in_sql = dict(session.execute(select(Task.id, queries.current_deadline())).all())
        in_python = {task.id: ladder.current_deadline(task)
                     for task in session.scalars(select(Task))}
        session.rollback()
    assert in_sql == in_python


@twin_settings
@given(generated=cases)
def test_the_next_deadline_kept_on_a_case_is_the_earliest_current_deadline_of_its_tasks(
        requests_database, generated):
    with Session(requests_database) as session:
        rows = stored(session, generated)  # board.py keeps it when the session flushes
        in_sql = dict(session.execute(select(Case.id, Case.next_deadline_at)).all())
        in_python = {case.id: min(filter(None, map(ladder.current_deadline, case.tasks)),
                                  default=None) for case in rows}
        session.rollback()
    assert in_sql == in_python


@twin_settings
@given(generated=cases)
def test_what_the_public_sees_is_the_same_in_python_and_in_sql(requests_database, generated):
    with Session(requests_database) as session:
        rows = stored(session, generated)
        public = set(session.scalars(select(Case.id).where(queries.PUBLIC)))
        public_open = set(session.scalars(select(Case.id).where(queries.PUBLIC,
                                                                queries.PUBLIC_OPEN)))
        listed = {c.id for c in queries.public_cases(session, {"limit": 100})}
        in_python = {case.id for case in rows if domain.is_public(case)}
        open_in_python = {case.id for case in rows
                          if domain.is_public(case) and domain.is_open_to_the_public(case)}
        session.rollback()
    assert public == listed == in_python
    assert public_open == open_in_python


@twin_settings
@given(generated=cases, now=moments)
def test_overdue_is_the_same_in_python_and_in_sql(requests_database, generated, now):
    with Session(requests_database) as session:
        rows = stored(session, generated)
        in_sql = set(session.scalars(select(Case.id).where(queries.overdue(now))))
        not_in_sql = set(session.scalars(select(Case.id).where(~queries.overdue(now))))
        in_python = {case.id for case in rows if ladder.is_overdue(case, now)}
        every_case = {case.id for case in rows}
        session.rollback()
    assert in_sql == in_python
    assert not_in_sql == every_case - in_python


@twin_settings
@given(generated=cases, now=moments)
def test_the_watchers_window_is_the_same_in_python_and_in_sql(requests_database, generated,
                                                             now):
    with Session(requests_database) as session:
        rows = stored(session, generated)
        in_sql = queries.cases_to_watch(session, now)
        in_python = sorted(case.id for case in rows if ladder.in_watch_window(case, now))
        session.rollback()
    assert in_sql == in_python


@twin_settings
@given(generated=cases)
def test_the_likely_duplicate_rule_is_the_same_in_python_and_in_sql(requests_database, generated):
    with Session(requests_database) as session:
        rows = stored(session, generated)
        for case in rows:
            in_sql = queries.likely_original(session, case)
            in_python = domain.likely_original(case, rows)
            assert (in_sql and in_sql.id) == (in_python and in_python.id), case.id
        session.rollback()
