"""The life of a case and of each agency's task: who may do what, and what follows.

Plain Python over any objects with the attributes used here (the ORM rows in the service,
simple stand-ins in unit tests). Each action checks the actor and the state, changes the case,
and returns the facts it produced; the service records every fact in the timeline and
announces it as an event.

Case:  reported → routed → in_progress → resolved → closed
       needs_triage when no rule matched or every agency declined; reopened by the village;
       cancelled by a coordinator
Task:  pending → accepted → completed, or declined (by the agency), or withdrawn (by the
       coordinator)

CASE_TRANSITIONS and TASK_TRANSITIONS below are the whole state machine: every change of
status goes through `move` or `change_task`, which refuse anything the tables do not allow.
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
WITHDRAWN = "withdrawn"
TASK_STATUSES = (PENDING, ACCEPTED, COMPLETED, DECLINED, WITHDRAWN)
ACTIVE_TASK_STATUSES = (PENDING, ACCEPTED)
ENDED_TASK_STATUSES = (DECLINED, WITHDRAWN)  # tasks that no longer count for the case

CASE_TRANSITIONS = {
    REPORTED: {ROUTED, NEEDS_TRIAGE, CANCELLED},
    NEEDS_TRIAGE: {ROUTED, CANCELLED},
    ROUTED: {IN_PROGRESS, NEEDS_TRIAGE, CANCELLED},
    IN_PROGRESS: {RESOLVED, NEEDS_TRIAGE, CANCELLED},
    RESOLVED: {CLOSED, REOPENED, CANCELLED},
    REOPENED: {IN_PROGRESS, NEEDS_TRIAGE, CANCELLED},
    CLOSED: set(),
    CANCELLED: set(),
}
TASK_TRANSITIONS = {
    PENDING: {ACCEPTED, DECLINED, WITHDRAWN},
    ACCEPTED: {COMPLETED, DECLINED, WITHDRAWN},
    COMPLETED: {PENDING},  # the village reopened the case
    DECLINED: set(),
    WITHDRAWN: set(),
}

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
    working = [task for task in case.tasks if task.status not in ENDED_TASK_STATUSES]
    if not working:
        return move(case, NEEDS_TRIAGE, actor, now, reason=text(
            "Tidak ada lagi instansi yang menangani.", "No agency is working on it any more."))
    if all(task.status == COMPLETED for task in working):
        case.resolved_at = now
        return move(case, RESOLVED, SYSTEM, now)
    if any(task.status in (ACCEPTED, COMPLETED) for task in working) and case.status != IN_PROGRESS:
        return move(case, IN_PROGRESS, SYSTEM, now)
    return []


def move(case, status, actor, now, **data):
    """Change the case's status, as CASE_TRANSITIONS allows; returns the fact."""
    previous = case.status
    if status not in CASE_TRANSITIONS[previous]:
        raise refuse(f"Kasus yang {status_name(previous, 'id')} tidak dapat menjadi "
                     f"{status_name(status, 'id')}.",
                     f"A case that is {status_name(previous, 'en')} cannot become "
                     f"{status_name(status, 'en')}.")
    case.status = status
    case.updated_at = now
    return [Fact(status, actor, {"from": previous, "to": status, **data})]


def change_task(task, status, now, refusal):
    """Change a task's status, as TASK_TRANSITIONS allows; `refusal` is (id, en) otherwise."""
    if status not in TASK_TRANSITIONS[task.status]:
        raise refuse(*refusal)
    task.status = status
    stamp = {ACCEPTED: "accepted_at", COMPLETED: "completed_at", DECLINED: "declined_at"}
    if status in stamp:
        setattr(task, stamp[status], now)


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
            if task.status not in ENDED_TASK_STATUSES:
                task.role = "support"
    tasks = [new_task(status=PENDING, assigned_at=now, **p) for p in added]
    case.tasks.extend(tasks)
    case.rule_id = rule_id
    case.explanation = explanation
    previous = case.status
    if case.status in (REPORTED, NEEDS_TRIAGE):
        move(case, ROUTED, actor, now)
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
    change_task(task, ACCEPTED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat diterima.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be accepted."))
    task.last_note = note
    task.ladder_step = 0  # the deadline to accept is met: the one to complete starts its ladder
    case.updated_at = now
    return [Fact("task_accepted", actor, {"note": note}, task)] + settle(case, actor, now)


def decline_task(case, task, actor, now, reason):
    require_open(case)
    change_task(task, DECLINED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat ditolak.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be declined."))
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
    change_task(task, COMPLETED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat diselesaikan; terima dulu "
        "tugasnya.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be completed; accept it "
        "first."))
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
            change_task(task, PENDING, now, ("", ""))
            task.completed_at = task.accepted_at = None
            task.accept_due_at, task.due_at = due_after(task)
            task.ladder_step = 0
    case.resolved_at = case.closing_warned_at = None
    return move(case, REOPENED, actor, now, reason=reason)


def withdraw_task(case, task, actor, now, reason):
    """The coordinator takes a task back from an agency, with a reason."""
    require_supervisor(actor, case)
    require_open(case)
    change_task(task, WITHDRAWN, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat ditarik.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be withdrawn."))
    task.last_note = reason
    case.updated_at = now
    return [Fact("task_withdrawn", actor, {"reason": reason}, task)] + settle(case, actor, now)


def make_lead(case, task, actor, now, reason):
    """The coordinator makes another agency the lead, with a reason."""
    require_supervisor(actor, case)
    require_open(case)
    if task.status not in ACTIVE_TASK_STATUSES + (COMPLETED,) or task.role == "lead":
        raise refuse("Hanya tugas pendukung yang masih berjalan yang dapat menjadi pemimpin.",
                     "Only a supporting task that is still on can become the lead.")
    for other in case.tasks:
        if other.status not in ENDED_TASK_STATUSES:
            other.role = "support"
    task.role = "lead"
    task.last_note = reason
    case.updated_at = now
    return [Fact("lead_changed", actor, {"reason": reason}, task)]


def flag_likely_duplicate(case, other):
    """A new case of the same village and category as an open one: show the coordinator."""
    case.likely_duplicate_of = other.id
    return [Fact("likely_duplicate", SYSTEM, {"other_id": other.id,
                                              "other_number": other.tracking_number})]


def merge(source, target, actor, now, reason):
    """The coordinator merges a case into another: the source ends, both timelines link.

    Returns (facts of the source, facts of the target).
    """
    require_supervisor(actor, source)
    require_supervisor(actor, target)
    if source.id == target.id:
        raise refuse("Kasus tidak dapat digabung ke dirinya sendiri.",
                     "A case cannot be merged into itself.")
    require_open(source)
    require_open(target)
    for task in active_tasks(source):
        change_task(task, WITHDRAWN, now, ("", ""))
    source.merged_into = target.id
    into = move(source, CANCELLED, actor, now, reason=reason, other_id=target.id,
                other_number=target.tracking_number)
    into[0].type = "merged_into"
    target.updated_at = now
    return into, [Fact("merged_from", actor, {"reason": reason, "other_id": source.id,
                                              "other_number": source.tracking_number})]


def cancel(case, actor, now, reason):
    """A coordinator (or the regency office) cancels a case, with a reason: it is final, and
    the agencies still on it are released."""
    require_supervisor(actor, case)
    require_open(case)
    for task in active_tasks(case):
        change_task(task, WITHDRAWN, now, ("", ""))
    return move(case, CANCELLED, actor, now, reason=reason)


def comment(case, actor, now, body, comment_id):
    require_visible(actor, case)
    case.updated_at = now
    return [Fact("comment", actor, {"body": body, "comment_id": comment_id})]


TASK_STATUS_NAMES = {
    WITHDRAWN: text("yang sudah ditarik", "withdrawn"),
    PENDING: text("yang menunggu", "pending"),
    ACCEPTED: text("yang sudah diterima", "accepted"),
    COMPLETED: text("yang sudah selesai", "completed"),
    DECLINED: text("yang sudah ditolak", "declined"),
}


def task_status_name(status, lang):
    return TASK_STATUS_NAMES[status][lang]
