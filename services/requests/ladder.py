"""Deadlines and the escalation ladder of a case, in plain Python.

Every task has a deadline to accept and, once accepted, one to complete. When the current one
passes, the ladder is climbed one step at a time, a grace period apart:

  1. the agency is reminded;
  2. the case is escalated to the district coordinator;
  3. the case is escalated to the regency office (Kantor Bupati or Kantor Walikota).

Accepting the task starts its ladder again for the completion deadline. A resolved case the
village leaves unanswered closes itself after 10 working days; the village is told 2 working
days before. A case the village reopens gives its tasks the same deadlines again, counted from
the reopening (`restart_deadlines`).

The deadline watcher (RequestsService.watch_deadlines) only looks at the cases in its window
(`in_watch_window`): those with a task past its current deadline and steps of the ladder left,
and the resolved ones older than eight calendar days. queries.py holds the SQL twins of
`current_deadline`, `is_overdue` and `in_watch_window`.
"""
from datetime import timedelta

from services.requests import facts
from services.requests.domain import (
    ACTIVE_TASK_STATUSES, CLOSED, FINAL_STATUSES, PENDING, RESOLVED, SYSTEM, Fact, move,
    refuse,
)
from shared import policy, workdays
from shared.events import iso
from shared.i18n import text

NONE, DISTRICT, REGENCY = 0, 1, 2
LEVEL_NAMES = {NONE: "none", DISTRICT: "district", REGENCY: "regency"}
LAST_STEP = 3
# Time between two steps of the ladder, by severity.
GRACE = {"low": "2wd", "medium": "1wd", "high": "4h", "critical": "1h"}
CLOSES_AFTER = "10wd"
WARNS_AFTER = "8wd"
# Eight working days (WARNS_AFTER) are at least eight calendar days: before that, the clock has
# nothing to do to a resolved case.
UNANSWERED_WATCHED_AFTER = timedelta(days=8)


def current_deadline(task):
    """The deadline a task is working against now: to accept while it is pending, to complete
    once accepted; none once it is completed, declined or withdrawn.

    queries.current_deadline is its SQL twin."""
    if task.status not in ACTIVE_TASK_STATUSES:
        return None
    return task.accept_due_at if task.status == PENDING else task.due_at


def step_due_at(case, task, step):
    """When ladder step `step` (1 to 3) falls due for the task's current deadline."""
    moment = current_deadline(task)
    for _ in range(step - 1):
        moment = workdays.due(moment, GRACE[case.severity], case.village_code)
    return moment


def climb(case, now):
    """Take every step of the ladder whose time has come; returns the facts."""
    if case.status in FINAL_STATUSES:
        return []
    taken = []
    for task in case.tasks:
        while (current_deadline(task) is not None and task.ladder_step < LAST_STEP
               and now > step_due_at(case, task, task.ladder_step + 1)):
            task.ladder_step += 1
            case.updated_at = now
            taken += _step_facts(case, task, task.ladder_step)
    return taken


def _step_facts(case, task, step):
    deadline = "accept" if task.status == PENDING else "complete"
    data = {"deadline": deadline, "due_at": iso(current_deadline(task))}
    if step == 1:
        return [Fact(facts.DEADLINE_MISSED, SYSTEM, data, task)]
    level = step - 1
    if case.escalation_level >= level:  # already escalated this far (by hand, or another task)
        return []
    case.escalation_level = level
    return [Fact(facts.ESCALATED, SYSTEM, {**data, "level": LEVEL_NAMES[level], "reason": text(
        f"{task.agency_name} melewati tenggat untuk {'menerima' if deadline == 'accept' else 'menyelesaikan'} tugas.",
        f"{task.agency_name} missed its deadline to {deadline} the task.")}, task)]


def escalate_by_hand(case, actor, now, reason):
    """A district coordinator sends the case up to the regency office, with a reason."""
    policy.require_case(actor, "cases.escalate", case)
    if case.status in FINAL_STATUSES:
        raise refuse("Kasus yang sudah selesai tidak dapat dieskalasi.",
                     "A finished case cannot be escalated.")
    if case.escalation_level >= REGENCY:
        raise refuse("Kasus ini sudah dieskalasi ke kantor bupati/walikota.",
                     "This case is already escalated to the regency office.")
    case.escalation_level = REGENCY
    case.updated_at = now
    return [Fact(facts.ESCALATED, actor, {"level": LEVEL_NAMES[REGENCY], "reason": reason})]


def close_unanswered(case, now):
    """A resolved case the village did not answer: warn it, then close the case."""
    if case.status != RESOLVED or case.resolved_at is None:
        return []
    closes_at = workdays.due(case.resolved_at, CLOSES_AFTER, case.village_code)
    if now > closes_at:
        closed = move(case, CLOSED, SYSTEM, now)
        closed[0].type = facts.CLOSED_UNANSWERED
        return closed
    if case.closing_warned_at is None and now > workdays.due(case.resolved_at, WARNS_AFTER,
                                                            case.village_code):
        case.closing_warned_at = now
        case.updated_at = now
        return [Fact(facts.CLOSING_SOON, SYSTEM, {"due_at": iso(closes_at)})]
    return []


def watch(case, now):
    """Everything the clock does to a case at `now`."""
    return climb(case, now) + close_unanswered(case, now)


def is_overdue(case, now):
    """An open case is overdue while a task of it is past its current deadline.

    queries.overdue is its SQL twin."""
    return case.status not in FINAL_STATUSES and any(
        (deadline := current_deadline(task)) is not None and deadline < now
        for task in case.tasks)


def in_watch_window(case, now):
    """The deadline watcher's window: whether the clock may have something to do to the case.

    An open case is in it when a task is past its current deadline with steps of the ladder
    left, or when it was resolved more than eight calendar days ago (it may be time to warn
    the village, or to close the case). queries.cases_to_watch is its SQL twin.
    """
    if case.status in FINAL_STATUSES:
        return False
    climbing = any(task.ladder_step < LAST_STEP
                   and (deadline := current_deadline(task)) is not None and deadline < now
                   for task in case.tasks)
    unanswered = (case.status == RESOLVED and case.resolved_at is not None
                  and case.resolved_at < now - UNANSWERED_WATCHED_AFTER)
    return climbing or unanswered


def restart_deadlines(task, now, area_code):
    """The reopened deadlines: a task given back when the village reopens the case works
    against the same deadlines again, counted from now.

    Each deadline routing's policy wrote down (`accept_within`, `resolve_within`: "3wd", "6h")
    is counted again from now, in working days or hours of the case's place (`area_code`); a
    deadline without one (a task routed before they were kept) is shifted by the time passed
    since the task was assigned. The task's clock starts now. Returns (accept_due_at, due_at).
    """
    shift = now - task.assigned_at
    task.assigned_at = now

    def again(spec, old):
        if spec:
            return workdays.due(now, spec, area_code)
        return old and old + shift

    return again(task.accept_within, task.accept_due_at), again(task.resolve_within, task.due_at)
