"""The life of a case and of each agency's task: who may do what, and what follows.

Plain Python over any objects with the attributes used here (the ORM rows in the service,
simple stand-ins in unit tests). Each action checks the actor and the state, changes the case,
and returns the facts it produced (their types: facts.py); handlers.record writes every fact
to the timeline and announces it as an event.

Case:  reported → routed → in_progress → resolved → closed
       needs_triage when no rule matched, or no agency leads it any more (the lead declined
       or was withdrawn) until a coordinator (or the rule's fallback) gives it a lead again;
       reopened by the village; cancelled by a coordinator

A case being worked on always has exactly one lead agency, or waits in the coordinator's
triage: `settle` derives the status from the tasks after every change.
Task:  pending → accepted → completed, or declined (by the agency), or withdrawn (by the
       coordinator)

CASE_TRANSITIONS and TASK_TRANSITIONS below are the whole state machine: every change of
status goes through `move` or `change_task`, which refuse anything the tables do not allow.

A new case of the same village and category as an open case is flagged as its likely
duplicate (`is_likely_duplicate`), for the coordinator to merge if it is.
"""
from dataclasses import dataclass, field

from services.requests import facts
from shared import policy
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.i18n import text

REPORTED, NEEDS_TRIAGE, ROUTED, IN_PROGRESS = "reported", "needs_triage", "routed", "in_progress"
RESOLVED, CLOSED, REOPENED, CANCELLED = "resolved", "closed", "reopened", "cancelled"
CASE_STATUSES = (REPORTED, NEEDS_TRIAGE, ROUTED, IN_PROGRESS, RESOLVED, CLOSED, REOPENED, CANCELLED)
FINAL_STATUSES = (CLOSED, CANCELLED)

PENDING, ACCEPTED, COMPLETED, DECLINED = "pending", "accepted", "completed", "declined"
WITHDRAWN = "withdrawn"
TASK_STATUSES = (PENDING, ACCEPTED, COMPLETED, DECLINED, WITHDRAWN)
ACTIVE_TASK_STATUSES = (PENDING, ACCEPTED)
ENDED_TASK_STATUSES = policy.ENDED_TASK_STATUSES  # tasks that no longer count: DECLINED, WITHDRAWN

CASE_TRANSITIONS = {
    REPORTED: {ROUTED, NEEDS_TRIAGE, CANCELLED},
    NEEDS_TRIAGE: {ROUTED, IN_PROGRESS, RESOLVED, CANCELLED},
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

SYSTEM = {"id": "system", "role": "system", "name": "Jembatan", "scope": None}


@dataclass
class Fact:
    """Something that happened to a case: one timeline entry, and (most often) one event.

    `type` is one of services/requests/facts.py."""

    type: str
    actor: dict
    data: dict = field(default_factory=dict)
    task: object = None


# -- who may do what (shared/policy.py decides; these name the operations) -------------------

def task_of(case, task_id):
    """A task of the case, by id, or 404."""
    for task in case.tasks:
        if task.id == task_id:
            return task
    raise NotFound(text("Tugas tidak ditemukan.", "Task not found."))


# -- state ------------------------------------------------------------------------------------

def refuse(id_text, en_text):
    return Conflict(text(id_text, en_text))


def require_open(case):
    if case.status in FINAL_STATUSES:
        raise refuse(f"Kasus sudah {status_name(case.status, 'id')}.",
                     f"The case is already {status_name(case.status, 'en')}.")


def active_tasks(case):
    return [task for task in case.tasks if task.status in ACTIVE_TASK_STATUSES]


def working_tasks(case):
    """The tasks that count for the case: every one not declined or withdrawn."""
    return [task for task in case.tasks if task.status not in ENDED_TASK_STATUSES]


def derived_status(case):
    """The status the tasks of an open case call for.

    Needs triage while no working task leads; resolved when every working task is completed;
    in progress once any is accepted; routed when it has just been given agencies again.
    """
    working = working_tasks(case)
    if not any(task.role == "lead" for task in working):
        return NEEDS_TRIAGE
    if all(task.status == COMPLETED for task in working):
        return RESOLVED
    if any(task.status in (ACCEPTED, COMPLETED) for task in working):
        return IN_PROGRESS
    return ROUTED if case.status in (REPORTED, NEEDS_TRIAGE) else case.status


def settle(case, actor, now):
    """Bring the case status in line with its tasks after a task changed; returns the facts."""
    status = derived_status(case)
    if status == case.status:
        return []
    if status == NEEDS_TRIAGE:
        reason = (text("Tidak ada lagi instansi yang menangani.",
                       "No agency is working on it any more.") if not working_tasks(case) else
                  text("Tidak ada lagi instansi pemimpin; koordinator kecamatan menentukan.",
                       "No agency leads it any more; the district coordinator decides."))
        return move(case, NEEDS_TRIAGE, actor, now, reason=reason)
    if status == RESOLVED:
        case.resolved_at = now
    return move(case, status, SYSTEM, now)


def settle_after(fact, case, actor, now):
    """The fact of a change of lead, and what settling the case adds. Out of triage with a
    lead again, the case is routed: the fact itself tells that (there is nothing else to say)."""
    previous = case.status
    settled = settle(case, actor, now)
    if case.status == ROUTED and previous != ROUTED:
        fact.data.update({"from": previous, "to": ROUTED})
        return [fact]
    return [fact] + settled


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


# -- what the public sees (Open311, the public pages) -------------------------------------------

# A case the public sees as closed: its work is done (the village may still reopen it), or it
# ended. queries.PUBLIC_OPEN is the SQL twin of `is_open_to_the_public`.
CLOSED_TO_THE_PUBLIC = (RESOLVED, CLOSED, CANCELLED)


def is_open_to_the_public(case):
    return case.status not in CLOSED_TO_THE_PUBLIC


def is_public(case):
    """Whether the public may see the case at all: never a confidential one (a complaint about
    an official). queries.PUBLIC is its SQL twin."""
    return not case.confidential


def responsible_task(case):
    """The task whose agency answers for the case now: the lead's while it works on it, else
    the first still working; None when no agency works on it."""
    working = active_tasks(case)
    return next((t for t in working if t.role == "lead"), working[0] if working else None)


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
    `new_task(**fields)` makes a task of this case. A planned lead that already supports the
    case becomes its lead. Routed by a person, the case must end up with a lead.
    """
    if actor["role"] != "system":
        policy.require_case(actor, "cases.route", case)
    require_open(case)
    if case.status not in ROUTABLE_STATUSES:
        raise refuse(f"Kasus yang {status_name(case.status, 'id')} tidak dapat dirutekan.",
                     f"A case that is {status_name(case.status, 'en')} cannot be routed.")
    working = {task.agency_id: task for task in working_tasks(case)}
    added = [p for p in planned if p["agency_id"] not in working]
    promoted = [working[p["agency_id"]] for p in planned if p["role"] == "lead"
                and p["agency_id"] in working and working[p["agency_id"]].role != "lead"]
    if not added and not promoted:
        raise refuse("Semua instansi itu sudah menangani kasus ini.",
                     "Every one of those agencies already works on this case.")
    # A lead only changes when the planned one is not leading already (renaming it keeps it).
    new_lead = bool(promoted) or any(p["role"] == "lead" for p in added)
    if (actor["role"] != "system" and not new_lead
            and not any(task.role == "lead" for task in working.values())):
        raise ValidationFailed(
            text("Kasus ini belum punya instansi pemimpin.", "This case has no lead agency."),
            {"agencies": [text("Tunjuk satu instansi sebagai pemimpin (lead).",
                               "Name one agency as the lead.")]})
    if new_lead:  # one lead at a time: the new one
        for task in working.values():
            task.role = "support"
    case.tasks.extend(new_task(status=PENDING, assigned_at=now, **p) for p in added)
    for task in promoted:
        task.role = "lead"
    case.rule_id = rule_id
    case.explanation = explanation
    case.updated_at = now
    new_leads = [Fact(facts.LEAD_CHANGED, actor, {"reason": explanation or note}, task)
                 for task in promoted]
    if not added:  # only a new lead: the status follows as after any change of a task
        return settle_after(new_leads[0], case, actor, now)
    previous, case.status = case.status, derived_status(case)  # the routed fact tells it
    return new_leads + [Fact(facts.ROUTED, actor, {
        "rule_id": rule_id, "explanation": explanation, "note": note,
        "agencies": [p["agency_id"] for p in added], "from": previous, "to": case.status})]


def referral_still_needed(case, planned):
    """A referral replaces the agency that declined. One for the lead is not needed once the
    case has a lead again: a coordinator chose one meanwhile, and keeps it."""
    return not (any(p["role"] == "lead" for p in planned)
                and any(task.role == "lead" for task in working_tasks(case)))


def needs_triage(case, explanation, now):
    """No rule matched: the district coordinator routes the case by hand."""
    if case.status != REPORTED:
        raise refuse("Hanya kasus baru yang dapat masuk pemilahan otomatis.",
                     "Only a new case can go to triage automatically.")
    case.explanation = explanation
    return move(case, NEEDS_TRIAGE, SYSTEM, now, reason=explanation)


def agency_task(actor, operation, case, task):
    """The agency may do `operation` on this task: it sees the case and the task is its own."""
    policy.require_case(actor, operation, case)
    if task.agency_id != actor.get("scope"):
        raise NotFound(text("Tugas tidak ditemukan.", "Task not found."))


def accept_task(case, task, actor, now, note=None):
    agency_task(actor, "tasks.accept", case, task)
    require_open(case)
    change_task(task, ACCEPTED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat diterima.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be accepted."))
    task.last_note = note
    task.ladder_step = 0  # the deadline to accept is met: the one to complete starts its ladder
    case.updated_at = now
    return [Fact(facts.TASK_ACCEPTED, actor, {"note": note}, task)] + settle(case, actor, now)


def decline_task(case, task, actor, now, reason):
    agency_task(actor, "tasks.decline", case, task)
    require_open(case)
    change_task(task, DECLINED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat ditolak.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be declined."))
    task.last_note = reason
    case.updated_at = now
    return [Fact(facts.TASK_DECLINED, actor, {"reason": reason}, task)] + settle(case, actor, now)


def report_progress(case, task, actor, now, note):
    agency_task(actor, "tasks.progress", case, task)
    require_open(case)
    if task.status != ACCEPTED:
        raise refuse("Kemajuan hanya dapat dilaporkan untuk tugas yang sudah diterima.",
                     "Progress can only be posted on an accepted task.")
    task.last_note = note
    case.updated_at = now
    return [Fact(facts.TASK_PROGRESSED, actor, {"note": note}, task)]


def complete_task(case, task, actor, now, note):
    agency_task(actor, "tasks.complete", case, task)
    require_open(case)
    change_task(task, COMPLETED, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat diselesaikan; terima dulu "
        "tugasnya.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be completed; accept it "
        "first."))
    task.last_note = note
    case.updated_at = now
    return [Fact(facts.TASK_COMPLETED, actor, {"note": note}, task)] + settle(case, actor, now)


def confirm(case, actor, now, note=None):
    """The village confirms the problem is solved: the case closes."""
    policy.require_case(actor, "cases.confirm", case)
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
    policy.require_case(actor, "cases.reopen", case)
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
    policy.require_case(actor, "tasks.withdraw", case)
    require_open(case)
    change_task(task, WITHDRAWN, now, (
        f"Tugas {task_status_name(task.status, 'id')} tidak dapat ditarik.",
        f"A task that is {task_status_name(task.status, 'en')} cannot be withdrawn."))
    task.last_note = reason
    case.updated_at = now
    return [Fact(facts.TASK_WITHDRAWN, actor, {"reason": reason}, task)] + settle(case, actor, now)


def make_lead(case, task, actor, now, reason):
    """The coordinator makes another agency the lead, with a reason."""
    policy.require_case(actor, "tasks.lead", case)
    require_open(case)
    if task.status in ENDED_TASK_STATUSES or task.role == "lead":
        raise refuse("Hanya tugas pendukung yang masih berjalan yang dapat menjadi pemimpin.",
                     "Only a supporting task that is still on can become the lead.")
    for other in working_tasks(case):
        other.role = "support"
    task.role = "lead"
    task.last_note = reason
    case.updated_at = now
    return settle_after(Fact(facts.LEAD_CHANGED, actor, {"reason": reason}, task), case, actor, now)


def is_likely_duplicate(case, other):
    """The likely-duplicate rule: a case is likely the same problem as another case of the same
    village and the same category that is still open (not closed, not cancelled), and as
    confidential as it (a public case never points to a confidential one: its agencies and
    timeline would show it).

    queries.likely_original is its SQL twin."""
    return (other.id != case.id and other.village_code == case.village_code
            and other.category == case.category and other.status not in FINAL_STATUSES
            and bool(other.confidential) == bool(case.confidential))


def likely_original(case, others):
    """The case a new case likely duplicates: the newest of `others` the rule names, or None."""
    return max((other for other in others if is_likely_duplicate(case, other)),
               key=lambda other: other.created_at, default=None)


def flag_likely_duplicate(case, other):
    """A new case of the same village and category as an open one: show the coordinator."""
    case.likely_duplicate_of = other.id
    return [Fact(facts.LIKELY_DUPLICATE, SYSTEM, {"other_id": other.id,
                                                  "other_number": other.tracking_number})]


def release(case, now):
    """Withdraw every task still on; returns the agencies released."""
    released = []
    for task in active_tasks(case):
        change_task(task, WITHDRAWN, now, ("", ""))
        released.append(task.agency_id)
    return released


def merge(source, target, actor, now, reason):
    """The coordinator merges a case into another: the source ends, both timelines link.

    Returns (facts of the source, facts of the target).
    """
    policy.require_case(actor, "cases.merge", source)
    policy.require_case(actor, "cases.merge", target)
    if source.id == target.id:
        raise refuse("Kasus tidak dapat digabung ke dirinya sendiri.",
                     "A case cannot be merged into itself.")
    if bool(source.confidential) != bool(target.confidential):
        raise refuse("Kasus rahasia hanya dapat digabung dengan kasus rahasia.",
                     "A confidential case merges only with a confidential case.")
    require_open(source)
    require_open(target)
    released = release(source, now)
    source.merged_into = target.id
    into = move(source, CANCELLED, actor, now, reason=reason, other_id=target.id,
                other_number=target.tracking_number, agencies=released)
    into[0].type = facts.MERGED_INTO
    target.updated_at = now
    return into, [Fact(facts.MERGED_FROM, actor, {"reason": reason, "other_id": source.id,
                                                  "other_number": source.tracking_number})]


def cancel(case, actor, now, reason):
    """A coordinator (or the regency office) cancels a case, with a reason: it is final, and
    the agencies still on it are released (and told)."""
    policy.require_case(actor, "cases.cancel", case)
    require_open(case)
    return move(case, CANCELLED, actor, now, reason=reason, agencies=release(case, now))


def comment(case, actor, now, body, comment_id):
    """A party comments on an open case (a closed or cancelled one takes no more)."""
    policy.require_case(actor, "cases.comment", case)
    require_open(case)
    case.updated_at = now
    return [Fact(facts.COMMENT, actor, {"body": body, "comment_id": comment_id})]


def add_photo(case, actor, now, photo_id):
    """A party adds a photo to an open case (a closed or cancelled one takes no more)."""
    policy.require_case(actor, "cases.attach", case)
    require_open(case)
    case.updated_at = now
    return [Fact(facts.PHOTO_ADDED, actor, {"photo_id": photo_id})]


TASK_STATUS_NAMES = {
    WITHDRAWN: text("yang sudah ditarik", "withdrawn"),
    PENDING: text("yang menunggu", "pending"),
    ACCEPTED: text("yang sudah diterima", "accepted"),
    COMPLETED: text("yang sudah selesai", "completed"),
    DECLINED: text("yang sudah ditolak", "declined"),
}


def task_status_name(status, lang):
    return TASK_STATUS_NAMES[status][lang]
