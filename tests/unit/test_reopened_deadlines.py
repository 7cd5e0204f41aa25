"""The reopened deadlines (services/requests/ladder.py): a task given back when the village
reopens the case works against the same deadlines again, counted from the reopening — in
working days or hours as routing's policy wrote them, or shifted by the time passed when the
task has no such spec."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from services.requests import domain, ladder
from tests.unit.standins import Case, Task

WIB = timezone(timedelta(hours=7))
PUNTEN = "35.79.02.2001"
VILLAGE = {"id": "v", "role": "village", "name": "Operator Desa Punten", "scope": PUNTEN}


def wib(day, hour, minute=0):
    return datetime(2026, 8, day, hour, minute, tzinfo=WIB)


SEPTEMBER_1_AT_CLOSING = datetime(2026, 9, 1, 16, tzinfo=WIB)


@dataclass
class SpecifiedTask(Task):
    """A task as routing plans it now: its deadlines as the policy wrote them."""

    accept_within: str | None = None
    resolve_within: str | None = None


def test_deadlines_in_working_days_are_counted_again_from_the_reopening():
    # Reopened on Friday 14 August 2026: Monday 17 is Independence Day, so the three working
    # days to accept are Tuesday 18 to Thursday 20, and the ten to complete end on Tuesday 1
    # September (Tuesday 25 August is the Prophet's Birthday).
    task = SpecifiedTask(assigned_at=wib(3, 9), accept_within="3wd", resolve_within="10wd",
                         accept_due_at=wib(6, 16), due_at=wib(17, 16))
    assert ladder.restart_deadlines(task, wib(14, 10), PUNTEN) == (
        wib(20, 16), SEPTEMBER_1_AT_CLOSING)


def test_deadlines_in_hours_are_counted_again_on_the_clock():
    task = SpecifiedTask(assigned_at=wib(3, 9), accept_within="1h", resolve_within="6h",
                         accept_due_at=wib(3, 10), due_at=wib(3, 15))
    assert ladder.restart_deadlines(task, wib(15, 22), PUNTEN) == (wib(15, 23), wib(16, 4))


def test_deadlines_without_their_spec_are_shifted_by_the_time_passed_since_the_assignment():
    task = SpecifiedTask(assigned_at=wib(3, 9), accept_due_at=wib(4, 9), due_at=wib(10, 12))
    passed = wib(14, 10) - wib(3, 9)
    assert ladder.restart_deadlines(task, wib(14, 10), PUNTEN) == (
        wib(4, 9) + passed, wib(10, 12) + passed)


def test_a_missing_deadline_stays_missing():
    task = SpecifiedTask(assigned_at=wib(3, 9), accept_due_at=None, due_at=None)
    assert ladder.restart_deadlines(task, wib(14, 10), PUNTEN) == (None, None)


def test_the_clock_of_the_task_starts_again_at_the_reopening():
    task = SpecifiedTask(assigned_at=wib(3, 9), accept_within="3wd", resolve_within="10wd")
    ladder.restart_deadlines(task, wib(14, 10), PUNTEN)
    assert task.assigned_at == wib(14, 10)


def test_reopening_gives_the_completed_task_its_deadlines_again_and_a_fresh_ladder():
    task = SpecifiedTask(status=domain.COMPLETED, assigned_at=wib(3, 9), ladder_step=2,
                         accept_within="3wd", resolve_within="10wd",
                         accept_due_at=wib(6, 16), due_at=wib(17, 16))
    case = Case(status=domain.RESOLVED, tasks=[task], resolved_at=wib(13, 9))
    now = wib(14, 10)
    domain.reopen(case, VILLAGE, now, "air masih keruh",
                  lambda t: ladder.restart_deadlines(t, now, case.village_code))
    assert (task.status, task.accept_due_at, task.due_at, task.ladder_step) == (
        domain.PENDING, wib(20, 16), SEPTEMBER_1_AT_CLOSING, 0)
    assert not ladder.is_overdue(case, wib(20, 15, 59)) and ladder.is_overdue(case, wib(20, 16, 1))
