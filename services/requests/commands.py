"""What the requests service does when someone acts on a case: one function per command.

Each takes a unit of work (shared.db.UnitOfWork) and the arguments of its RPC, checks the input
(shared/commands.py) and the caller (shared/policy.py), lets domain.py or ladder.py change the
case, records the facts (handlers.record) and returns what the RPC answers. `run` runs one in a
transaction of its own, and again when another writer changed the case meanwhile.
"""
import uuid

from marshmallow import ValidationError
from sqlalchemy.orm.exc import StaleDataError

from services.requests import domain, ladder, queries, views
from services.requests.handlers import keep_photo, record, task_factory
from shared import events, policy
from shared.commands import (
    CommentInput, MergeInput, NoteInput, ReasonInput, RequiredNoteInput, load,
)
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events import utcnow
from shared.i18n import text

COMMAND_ATTEMPTS = 3
TASK_ACTIONS = {  # an agency's action on its task -> (the change, its input, the input's field)
    "accept": (domain.accept_task, NoteInput, "note"),
    "decline": (domain.decline_task, ReasonInput, "reason"),
    "progress": (domain.report_progress, RequiredNoteInput, "note"),
    "complete": (domain.complete_task, RequiredNoteInput, "note"),
}
SUPERVISOR_TASK_ACTIONS = {"withdraw": domain.withdraw_task, "lead": domain.make_lead}


def run(store, command, *args, **kwargs):
    """Run `command(unit, *args, **kwargs)` in one transaction of `store`; a lost race with
    another writer of the case (its version changed) is run again, up to COMMAND_ATTEMPTS."""
    for _attempt in range(COMMAND_ATTEMPTS):
        try:
            with store.transaction() as unit:
                return command(unit, *args, **kwargs)
        except StaleDataError:
            continue
    raise Conflict(text("Kasus sedang diubah pihak lain; coba lagi.",
                        "The case is being changed by someone else; try again."))


def change(unit, actor, operation, case_id, lang, action):
    """Run `action(case, now) -> facts` on the case once the policy lets the caller do
    `operation` on it, and record the facts; returns the case as shown."""
    case = policy.require_case(actor, operation, queries.find_case(unit.session, case_id))
    now = utcnow()
    record(unit, case, action(case, now))
    return views.case_view(case, now, lang)


def unknown_action():
    return ValidationFailed(text("Tindakan tidak dikenal.", "Unknown action."),
                            {"action": [text("Tidak dikenal.", "Unknown.")]})


def task_action(unit, actor, case_id, task_id, action, body, lang="id"):
    """An agency accepts, declines, posts progress on or completes its task; returns the task."""
    if action not in TASK_ACTIONS:
        raise unknown_action()
    act, schema, field = TASK_ACTIONS[action]
    value = load(schema, body)[field]
    view = change(unit, actor, f"tasks.{action}", case_id, lang, lambda case, now: act(
        case, domain.task_of(case, task_id), views.actor_ref(actor), now, value))
    return next(task for task in view["tasks"] if task["id"] == task_id)


def supervise_task(unit, actor, case_id, task_id, action, body, lang="id"):
    """A coordinator withdraws a task, or makes its agency the lead, with a reason; returns the
    case."""
    if action not in SUPERVISOR_TASK_ACTIONS:
        raise unknown_action()
    reason = load(ReasonInput, body)["reason"]
    return change(unit, actor, f"tasks.{action}", case_id, lang, lambda case, now: (
        SUPERVISOR_TASK_ACTIONS[action](case, domain.task_of(case, task_id),
                                        views.actor_ref(actor), now, reason)))


def confirm(unit, actor, case_id, body, lang="id"):
    """The village confirms the problem is solved: the case closes."""
    note = load(NoteInput, body)["note"]
    return change(unit, actor, "cases.confirm", case_id, lang, lambda case, now: domain.confirm(
        case, views.actor_ref(actor), now, note))


def reopen(unit, actor, case_id, body, lang="id"):
    """The village says the problem is not solved: its agencies get the case back, with the
    same deadlines again counted from now (ladder.restart_deadlines)."""
    reason = load(ReasonInput, body)["reason"]
    return change(unit, actor, "cases.reopen", case_id, lang, lambda case, now: domain.reopen(
        case, views.actor_ref(actor), now, reason,
        lambda task: ladder.restart_deadlines(task, now, case.village_code)))


def add_comment(unit, actor, case_id, body, lang="id"):
    """A party comments on the case; returns the comment."""
    comment_body = load(CommentInput, body)["body"]
    comment_id = str(uuid.uuid4())
    change(unit, actor, "cases.comment", case_id, lang, lambda case, now: domain.comment(
        case, views.actor_ref(actor), now, comment_body, comment_id))
    return views.comment_view(comment_id, comment_body, actor)


def add_photo(unit, actor, case_id, photo, lang="id"):
    """A party adds a photo (events.PhotoRef, kept by the gateway's storage); returns it."""
    try:
        photo = events.PhotoRef().load(photo)
    except ValidationError as exc:
        raise ValidationFailed(text("Foto tidak sah.", "Invalid photo."),
                               {"photo": exc.messages}) from None
    case = policy.require_case(actor, "cases.attach", queries.find_case(unit.session, case_id))
    keep_photo(unit, case, views.actor_ref(actor), photo, utcnow())
    return views.photo_view(case.photos[-1])


def find_photo(session, actor, case_id, photo_id):
    """A photo of a case the caller may see, or 404 (the same for a photo of another case)."""
    case = policy.require_case(actor, "attachments.read", queries.find_case(session, case_id))
    photo = next((photo for photo in case.photos if photo.id == photo_id), None)
    if photo is None:
        raise NotFound(text("Foto tidak ditemukan.", "Photo not found."))
    return views.photo_view(photo)


def route(unit, actor, case_id, plan, lang="id"):
    """A coordinator or the regency office routes the case by hand: `plan` is routing's answer
    to plan_manual_route."""
    try:
        tasks = events.PlannedTask(many=True).load(plan["tasks"])
    except ValidationError as exc:
        raise ValidationFailed(text("Rencana rute tidak sah.", "Invalid routing plan."),
                               {"agencies": exc.messages}) from None
    return change(unit, actor, "cases.route", case_id, lang, lambda case, now: domain.route(
        case, tasks, views.actor_ref(actor), now, task_factory(case), rule_id=None,
        explanation=plan["explanation"], note=plan["note"]))


def escalate(unit, actor, case_id, body, lang="id"):
    """A district coordinator sends the case up to the regency office, with a reason."""
    reason = load(ReasonInput, body)["reason"]
    return change(unit, actor, "cases.escalate", case_id, lang, lambda case, now: (
        ladder.escalate_by_hand(case, views.actor_ref(actor), now, reason)))


def cancel(unit, actor, case_id, body, lang="id"):
    """A coordinator or the regency office cancels the case, with a reason."""
    reason = load(ReasonInput, body)["reason"]
    return change(unit, actor, "cases.cancel", case_id, lang, lambda case, now: domain.cancel(
        case, views.actor_ref(actor), now, reason))


def merge(unit, actor, case_id, body, lang="id"):
    """A coordinator merges the case into another one it sees; returns the case kept."""
    request = load(MergeInput, body)
    source = policy.require_case(actor, "cases.merge", queries.find_case(unit.session, case_id))
    target = queries.find_case(unit.session, request["into"])
    if target is None or not policy.sees_case(actor, target):
        raise NotFound(text("Kasus tujuan tidak ditemukan.", "No such case to merge into."),
                       {"into": [text("Tidak ditemukan.", "Not found.")]})
    now = utcnow()
    into, merged_from = domain.merge(source, target, views.actor_ref(actor), now,
                                     request["reason"])
    record(unit, source, into)
    record(unit, target, merged_from)
    return views.case_view(target, now, lang)


def watch_case(unit, case_id):
    """The clock on one case: the steps of the escalation ladder that fell due, and the warning
    or the closing of a resolved case the village left unanswered (ladder.watch)."""
    case = queries.find_case(unit.session, case_id)
    record(unit, case, ladder.watch(case, utcnow()))
