"""The deadline watcher's window (services/requests/ladder.py): the cases the watcher looks at —
an open case with a task past its current deadline and steps of the ladder left, or a resolved
case older than eight calendar days, since eight working days are at least eight calendar
days. Outside the window the clock has nothing to do."""
import copy
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.requests import domain, ladder
from shared import workdays
from tests.unit.standins import Case, Task

WIB = timezone(timedelta(hours=7))
DUE = datetime(2026, 8, 13, 16, tzinfo=WIB)  # a Thursday, at closing time
# Desa Punten (WIB), a village of Bali (WITA) and one of Papua (WIT).
VILLAGES = ("35.79.02.2001", "51.71.01.1001", "94.71.01.1001")


def routed(*tasks, **fields):
    return Case(**{"status": domain.ROUTED, "severity": "medium", "tasks": list(tasks), **fields})


def test_a_task_past_its_deadline_to_accept_brings_the_case_into_the_window():
    case = routed(Task(status=domain.PENDING, accept_due_at=DUE))
    assert not ladder.in_watch_window(case, DUE)
    assert ladder.in_watch_window(case, DUE + timedelta(minutes=1))


def test_once_accepted_the_deadline_to_complete_counts_and_no_longer_the_one_to_accept():
    case = routed(Task(status=domain.ACCEPTED, accept_due_at=DUE, due_at=DUE + timedelta(days=7)))
    assert not ladder.in_watch_window(case, DUE + timedelta(days=1))
    assert ladder.in_watch_window(case, DUE + timedelta(days=7, minutes=1))


def test_a_task_at_the_top_of_the_ladder_leaves_the_window():
    case = routed(Task(accept_due_at=DUE, ladder_step=ladder.LAST_STEP))
    assert not ladder.in_watch_window(case, DUE + timedelta(days=30))


@pytest.mark.parametrize("status", [domain.COMPLETED, domain.DECLINED, domain.WITHDRAWN])
def test_a_task_no_longer_working_has_no_deadline_to_miss(status):
    case = routed(Task(status=status, accept_due_at=DUE, due_at=DUE))
    assert not ladder.in_watch_window(case, DUE + timedelta(days=30))


def test_a_resolved_case_enters_the_window_eight_calendar_days_after_it_was_resolved():
    case = routed(Task(status=domain.COMPLETED), status=domain.RESOLVED, resolved_at=DUE)
    assert not ladder.in_watch_window(case, DUE + timedelta(days=8))
    assert ladder.in_watch_window(case, DUE + timedelta(days=8, seconds=1))


@pytest.mark.parametrize("status", domain.FINAL_STATUSES)
def test_a_closed_or_cancelled_case_is_never_watched(status):
    case = routed(Task(accept_due_at=DUE), status=status, resolved_at=DUE)
    assert not ladder.in_watch_window(case, DUE + timedelta(days=30))


moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                       timezones=st.just(timezone.utc))


@settings(max_examples=300, deadline=None)
@given(resolved_at=moments, village=st.sampled_from(VILLAGES))
def test_eight_working_days_are_at_least_eight_calendar_days(resolved_at, village):
    warned_at = workdays.due(resolved_at, ladder.WARNS_AFTER, village)
    assert warned_at >= resolved_at + ladder.UNANSWERED_WATCHED_AFTER


offsets = st.integers(min_value=-20 * 24, max_value=20 * 24).map(lambda h: timedelta(hours=h))
tasks = st.builds(
    lambda status, accept, due, step: Task(status=status, accept_due_at=DUE + accept,
                                           due_at=DUE + due, ladder_step=step),
    st.sampled_from(domain.TASK_STATUSES), offsets, offsets,
    st.integers(min_value=0, max_value=ladder.LAST_STEP))
cases = st.builds(
    lambda status, severity, village, case_tasks, resolved, warned: Case(
        status=status, severity=severity, village_code=village, tasks=case_tasks,
        resolved_at=DUE + resolved if status == domain.RESOLVED else None,
        closing_warned_at=DUE + warned if warned is not None else None),
    st.sampled_from(domain.CASE_STATUSES), st.sampled_from(sorted(ladder.GRACE)),
    st.sampled_from(VILLAGES), st.lists(tasks, max_size=3), offsets,
    st.none() | offsets)


@settings(max_examples=300, deadline=None)
@given(case=cases, hours_later=st.integers(min_value=-5 * 24, max_value=30 * 24))
def test_the_window_never_hides_a_case_the_clock_has_something_to_do_to(case, hours_later):
    now = DUE + timedelta(hours=hours_later)
    if ladder.watch(copy.deepcopy(case), now):
        assert ladder.in_watch_window(case, now)
