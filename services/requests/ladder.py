"""Deadlines and the escalation ladder of a case, in plain Python.

Every task has a deadline to accept and, once accepted, one to complete. When the current one
passes, the ladder is climbed one step at a time, a grace period apart:

  1. the agency is reminded;
  2. the case is escalated to the district coordinator;
  3. the case is escalated to the regency office (Kantor Bupati or Kantor Walikota).

Accepting the task starts its ladder again for the completion deadline. A resolved case the
village leaves unanswered closes itself after 10 working days; the village is told 2 working
days before.
"""
from shared import workdays
from shared.events import iso
from shared.i18n import text
from services.requests.domain import (
    ACTIVE_TASK_STATUSES, CLOSED, FINAL_STATUSES, PENDING, RESOLVED, SYSTEM, Fact, move,
    refuse, require_visible,
)
from shared.errors import Forbidden

NONE, DISTRICT, REGENCY = 0, 1, 2
LEVEL_NAMES = {NONE: "none", DISTRICT: "district", REGENCY: "regency"}
LAST_STEP = 3
# Time between two steps of the ladder, by severity.
GRACE = {"low": "2wd", "medium": "1wd", "high": "4h", "critical": "1h"}
CLOSES_AFTER = "10wd"
WARNS_AFTER = "8wd"


def current_deadline(task):
    """The deadline a task is working against now: to accept, then to complete."""
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
    facts = []
    for task in case.tasks:
        while (current_deadline(task) is not None and task.ladder_step < LAST_STEP
               and now > step_due_at(case, task, task.ladder_step + 1)):
            task.ladder_step += 1
            case.updated_at = now
            facts += _step_facts(case, task, task.ladder_step)
    return facts


def _step_facts(case, task, step):
    deadline = "accept" if task.status == PENDING else "complete"
    data = {"deadline": deadline, "due_at": iso(current_deadline(task))}
    if step == 1:
        return [Fact("deadline_missed", SYSTEM, data, task)]
    level = step - 1
    if case.escalation_level >= level:  # already escalated this far (by hand, or another task)
        return []
    case.escalation_level = level
    return [Fact("escalated", SYSTEM, {**data, "level": LEVEL_NAMES[level], "reason": text(
        f"{task.agency_name} melewati tenggat untuk {'menerima' if deadline == 'accept' else 'menyelesaikan'} tugas.",
        f"{task.agency_name} missed its deadline to {deadline} the task.")}, task)]


def escalate_by_hand(case, actor, now, reason):
    """A district coordinator sends the case up to the regency office, with a reason."""
    require_visible(actor, case)
    if actor.get("role") != "coordinator":
        raise Forbidden(text("Hanya koordinator kecamatan yang dapat mengeskalasi kasus.",
                             "Only a district coordinator can escalate a case."))
    if case.status in FINAL_STATUSES:
        raise refuse("Kasus yang sudah selesai tidak dapat dieskalasi.",
                     "A finished case cannot be escalated.")
    if case.escalation_level >= REGENCY:
        raise refuse("Kasus ini sudah dieskalasi ke kantor bupati/walikota.",
                     "This case is already escalated to the regency office.")
    case.escalation_level = REGENCY
    case.updated_at = now
    return [Fact("escalated", actor, {"level": LEVEL_NAMES[REGENCY], "reason": reason})]


def close_unanswered(case, now):
    """A resolved case the village did not answer: warn it, then close the case."""
    if case.status != RESOLVED or case.resolved_at is None:
        return []
    closes_at = workdays.due(case.resolved_at, CLOSES_AFTER, case.village_code)
    if now > closes_at:
        facts = move(case, CLOSED, SYSTEM, now)
        facts[0].type = "closed_unanswered"
        return facts
    if case.closing_warned_at is None and now > workdays.due(case.resolved_at, WARNS_AFTER,
                                                            case.village_code):
        case.closing_warned_at = now
        case.updated_at = now
        return [Fact("closing_soon", SYSTEM, {"due_at": iso(closes_at)})]
    return []


def watch(case, now):
    """Everything the clock does to a case at `now`."""
    return climb(case, now) + close_unanswered(case, now)


def is_overdue(case, now):
    return case.status not in FINAL_STATUSES and any(
        (deadline := current_deadline(task)) is not None and deadline < now
        for task in case.tasks)
