"""The life of a case and of each agency's task: who may do what, and what follows.

Plain Python over any objects with the attributes used here (the ORM rows in the service,
simple stand-ins in unit tests). Each action checks the actor and the state, changes the case,
and returns the facts it produced; the service records every fact in the timeline and
announces it as an event.

Case:  reported → routed → in_progress → resolved → closed
       needs_triage when no rule matched or every agency declined; reopened by the village
Task:  pending → accepted → completed, or declined
"""
from dataclasses import dataclass, field

from shared.errors import Conflict, Forbidden, NotFound
from shared.i18n import text
from shared.jurisdiction import covers

REPORTED, NEEDS_TRIAGE, ROUTED, IN_PROGRESS = "reported", "needs_triage", "routed", "in_progress"
RESOLVED, CLOSED, REOPENED, CANCELLED = "resolved", "closed", "reopened", "cancelled"
CASE_STATUSES = (REPORTED, NEEDS_TRIAGE, ROUTED, IN_PROGRESS, RESOLVED, CLOSED, REOPENED, CANCELLED)
FINAL_STATUSES = (CLOSED, CANCELLED)

PENDING, ACCEPTED, COMPLETED, DECLINED = "pending", "accepted", "completed", "declined"
TASK_STATUSES = (PENDING, ACCEPTED, COMPLETED, DECLINED)
ACTIVE_TASK_STATUSES = (PENDING, ACCEPTED)

ROUTABLE_STATUSES = (REPORTED, NEEDS_TRIAGE, ROUTED, IN_PROGRESS, REOPENED)
SUPERVISING_ROLES = ("coordinator", "regency", "admin")

SYSTEM = {"id": "system", "role": "system", "name": "Jembatan", "scope": None}


@dataclass
class Fact:
    """Something that happened to a case: one timeline entry, and (most often) one event."""

    type: str
    actor: dict
    data: dict = field(default_factory=dict)
    task: object = None


# -- who sees what ---------------------------------------------------------------------------

def can_see(actor, case):
    """The caller's jurisdiction: its village, district or regency, its agency's tasks."""
    if actor.get("role") == "agency":
        return any(task.agency_id == actor.get("scope") for task in case.tasks)
    return covers(actor, case.village_code, case.district_code, case.regency_code)


def not_found():
    return NotFound(text("Kasus tidak ditemukan.", "Case not found."))


def require_visible(actor, case):
    if case is None or not can_see(actor, case):
        raise not_found()


def own_task(actor, case, task_id):
    """The task an agency acts on: it must be one of its own (others are not found)."""
    require_visible(actor, case)
    if actor.get("role") != "agency":
        raise Forbidden(text("Hanya instansi penerima tugas yang dapat melakukan ini.",
                             "Only the agency the task belongs to can do this."))
    for task in case.tasks:
        if task.id == task_id and task.agency_id == actor.get("scope"):
            return task
    raise NotFound(text("Tugas tidak ditemukan.", "Task not found."))


def require_village_of(actor, case):
    require_visible(actor, case)
    if actor.get("role") != "village":
        raise Forbidden(text("Hanya desa/kelurahan pelapor yang dapat melakukan ini.",
                             "Only the reporting village can do this."))


def require_supervisor(actor, case):
    require_visible(actor, case)
    if actor.get("role") not in SUPERVISING_ROLES:
        raise Forbidden(text("Hanya koordinator kecamatan atau kantor bupati/walikota yang "
                             "dapat merutekan kasus.",
                             "Only a district coordinator or the regency office can route a case."))


# -- state ------------------------------------------------------------------------------------

def refuse(id_text, en_text):
    return Conflict(text(id_text, en_text))


def require_open(case):
    if case.status in FINAL_STATUSES:
        raise refuse(f"Kasus sudah {status_name(case.status, 'id')}.",
                     f"The case is already {status_name(case.status, 'en')}.")


def active_tasks(case):
    return [task for task in case.tasks if task.status in ACTIVE_TASK_STATUSES]


def settle(case, actor, now):
    """Derive the case status from its tasks after a task changed; returns the facts.

    Resolved when every task that was not declined is completed; needs triage when every task
    was declined; in progress once any agency accepted.
    """
    working = [task for task in case.tasks if task.status != DECLINED]
    if not working:
        return move(case, NEEDS_TRIAGE, actor, now, reason=text(
            "Semua instansi menolak tugasnya.", "Every agency declined its task."))
    if all(task.status == COMPLETED for task in working):
        case.resolved_at = now
        return move(case, RESOLVED, SYSTEM, now)
    if any(task.status in (ACCEPTED, COMPLETED) for task in working) and case.status != IN_PROGRESS:
        return move(case, IN_PROGRESS, SYSTEM, now)
    return []


def move(case, status, actor, now, **data):
    previous = case.status
    case.status = status
    case.updated_at = now
    return [Fact(status, actor, {"from": previous, "to": status, **data})]


def status_name(status, lang):
    return STATUS_NAMES[status][lang]


STATUS_NAMES = {
    REPORTED: text("dilaporkan", "reported"),
    NEEDS_TRIAGE: text("menunggu pemilahan", "awaiting triage"),
    ROUTED: text("dirutekan", "routed"),
    IN_PROGRESS: text("sedang dikerjakan", "in progress"),
    RESOLVED: text("selesai ditangani", "resolved"),
    CLOSED: text("ditutup", "closed"),
    REOPENED: text("dibuka kembali", "reopened"),
    CANCELLED: text("dibatalkan", "cancelled"),
}


# -- actions ----------------------------------------------------------------------------------

def route(case, planned, actor, now, new_task, rule_id=None, explanation=None, note=None):
    """Give the case to agencies: one task per agency not already working on it.

    `planned` is a list of dicts {agency_id, agency_name, role, accept_due_at, due_at};
    `new_task(**fields)` makes a task of this case.
    """
    require_open(case)
    if case.status not in ROUTABLE_STATUSES:
        raise refuse(f"Kasus yang {status_name(case.status, 'id')} tidak dapat dirutekan.",
                     f"A case that is {status_name(case.status, 'en')} cannot be routed.")
    busy = {task.agency_id for task in active_tasks(case)}
    added = [p for p in planned if p["agency_id"] not in busy]
    if not added:
        raise refuse("Semua instansi itu sudah menangani kasus ini.",
                     "Every one of those agencies already works on this case.")
    if any(p["role"] == "lead" for p in added):  # one lead at a time: the new one
        for task in case.tasks:
            if task.status != DECLINED:
                task.role = "support"
    tasks = [new_task(status=PENDING, assigned_at=now, **p) for p in added]
    case.tasks.extend(tasks)
    case.rule_id = rule_id
    case.explanation = explanation
    previous = case.status
    if case.status in (REPORTED, NEEDS_TRIAGE):
        case.status = ROUTED
    case.updated_at = now
    return [Fact("routed", actor, {"rule_id": rule_id, "explanation": explanation, "note": note,
                                   "agencies": [p["agency_id"] for p in added],
                                   "from": previous, "to": case.status})]


def needs_triage(case, explanation, now):
    """No rule matched: the district coordinator routes the case by hand."""
    if case.status != REPORTED:
        raise refuse("Hanya kasus baru yang dapat masuk pemilahan otomatis.",
                     "Only a new case can go to triage automatically.")
    case.explanation = explanation
    return move(case, NEEDS_TRIAGE, SYSTEM, now, reason=explanation)


def accept_task(case, task, actor, now, note=None):
    require_open(case)
    if task.status != PENDING:
        raise refuse(f"Tugas {task_status_name(task.status, 'id')} tidak dapat diterima.",
                     f"A task that is {task_status_name(task.status, 'en')} cannot be accepted.")
    task.status, task.accepted_at = ACCEPTED, now
    task.last_note = note
    task.ladder_step = 0  # the deadline to accept is met: the one to complete starts its ladder
    case.updated_at = now
    return [Fact("task_accepted", actor, {"note": note}, task)] + settle(case, actor, now)


def decline_task(case, task, actor, now, reason):
    require_open(case)
    if task.status not in ACTIVE_TASK_STATUSES:
        raise refuse(f"Tugas {task_status_name(task.status, 'id')} tidak dapat ditolak.",
                     f"A task that is {task_status_name(task.status, 'en')} cannot be declined.")
    task.status, task.declined_at = DECLINED, now
    task.last_note = reason
    case.updated_at = now
    return [Fact("task_declined", actor, {"reason": reason}, task)] + settle(case, actor, now)


def report_progress(case, task, actor, now, note):
    require_open(case)
    if task.status != ACCEPTED:
        raise refuse("Kemajuan hanya dapat dilaporkan untuk tugas yang sudah diterima.",
                     "Progress can only be posted on an accepted task.")
    task.last_note = note
    case.updated_at = now
    return [Fact("task_progressed", actor, {"note": note}, task)]


def complete_task(case, task, actor, now, note):
    require_open(case)
    if task.status != ACCEPTED:
        raise refuse(f"Tugas {task_status_name(task.status, 'id')} tidak dapat diselesaikan; "
                     "terima dulu tugasnya.",
                     f"A task that is {task_status_name(task.status, 'en')} cannot be completed; "
                     "accept it first.")
    task.status, task.completed_at = COMPLETED, now
    task.last_note = note
    case.updated_at = now
    return [Fact("task_completed", actor, {"note": note}, task)] + settle(case, actor, now)


def confirm(case, actor, now, note=None):
    """The village confirms the problem is solved: the case closes."""
    if case.status != RESOLVED:
        raise refuse(f"Hanya kasus yang selesai ditangani yang dapat dikonfirmasi; kasus ini "
                     f"{status_name(case.status, 'id')}.",
                     f"Only a resolved case can be confirmed; this one is "
                     f"{status_name(case.status, 'en')}.")
    return move(case, CLOSED, actor, now, note=note)


def reopen(case, actor, now, reason, due_after):
    """The village says the problem is not solved: back to the agencies that completed it.

    `due_after(task)` gives the (accept_due_at, due_at) of a task given back.
    """
    if case.status != RESOLVED:
        raise refuse(f"Hanya kasus yang selesai ditangani yang dapat dibuka kembali; kasus ini "
                     f"{status_name(case.status, 'id')}.",
                     f"Only a resolved case can be reopened; this one is "
                     f"{status_name(case.status, 'en')}.")
    for task in case.tasks:
        if task.status == COMPLETED:
            task.status, task.completed_at, task.accepted_at = PENDING, None, None
            task.accept_due_at, task.due_at = due_after(task)
            task.ladder_step = 0
    case.resolved_at = case.closing_warned_at = None
    return move(case, REOPENED, actor, now, reason=reason)


def cancel(case, actor, now, reason):
    """A coordinator (or the regency office) cancels a case, with a reason: it is final."""
    require_supervisor(actor, case)
    require_open(case)
    return move(case, CANCELLED, actor, now, reason=reason)


def comment(case, actor, now, body, comment_id):
    require_visible(actor, case)
    case.updated_at = now
    return [Fact("comment", actor, {"body": body, "comment_id": comment_id})]


TASK_STATUS_NAMES = {
    PENDING: text("yang menunggu", "pending"),
    ACCEPTED: text("yang sudah diterima", "accepted"),
    COMPLETED: text("yang sudah selesai", "completed"),
    DECLINED: text("yang sudah ditolak", "declined"),
}


def task_status_name(status, lang):
    return TASK_STATUS_NAMES[status][lang]
