"""The events that carry facts between services, in one envelope, validated by marshmallow.

Every event is published and consumed through `make_event` and `parse_event`, so a malformed
event is refused at both ends: a producer bug fails loudly, a bad message is dead-lettered.
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from shared import clock
from shared.categories import CODES as CATEGORY_CODES

SEVERITIES = ("low", "medium", "high", "critical")
TASK_ROLES = ("lead", "support")
ENVELOPE_VERSION = 1

# Event names (past tense): the routing key of each message is its type.
ISSUE_REPORTED = "issue_reported"          # villages: a village raised an issue
CASE_OPENED = "case_opened"                # requests: the case exists, with its tracking number
ROUTING_DECIDED = "routing_decided"        # routing: which agencies, by which rule, or triage
CASE_ROUTED = "case_routed"                # requests: tasks were created for agencies
CASE_NEEDS_TRIAGE = "case_needs_triage"    # requests: a coordinator must route by hand
TASK_ACCEPTED = "task_accepted"
TASK_DECLINED = "task_declined"
TASK_PROGRESSED = "task_progressed"
TASK_COMPLETED = "task_completed"
CASE_RESOLVED = "case_resolved"
CASE_REOPENED = "case_reopened"
CASE_CLOSED = "case_closed"
COMMENT_ADDED = "comment_added"
DEADLINE_MISSED = "deadline_missed"        # requests: a task's deadline passed (the agency is reminded)
CASE_ESCALATED = "case_escalated"          # requests: up to the district coordinator, or the regency
CASE_CLOSING_SOON = "case_closing_soon"    # requests: a resolved case closes itself soon
CASE_CANCELLED = "case_cancelled"          # requests: a coordinator cancelled the case
TASK_WITHDRAWN = "task_withdrawn"          # requests: a coordinator took a task back
LEAD_CHANGED = "lead_changed"              # requests: a coordinator made another agency lead
LIKELY_DUPLICATE = "likely_duplicate"      # requests: a new case looks like an open one
CASE_MERGED = "case_merged"                # requests: this case was merged into another
DUPLICATE_MERGED = "duplicate_merged"      # requests: another case was merged into this one
ACTOR_CHANGED = "actor_changed"            # gateway: an actor was made, or its channels or state changed

# The outcomes of a routing decision (routing_decided's `outcome`).
OUTCOME_ROUTED = "routed"                  # a new case: the agencies of the rule that matched
OUTCOME_NEEDS_TRIAGE = "needs_triage"      # a new case no rule matched: the coordinator routes it
OUTCOME_REFERRED = "referred"              # an agency declined: the next one the rule names
ROUTING_OUTCOMES = (OUTCOME_ROUTED, OUTCOME_NEEDS_TRIAGE, OUTCOME_REFERRED)


class InvalidEvent(Exception):
    """A message that is not a valid Jembatan event; the reason says why."""


def utcnow():
    """Now, in UTC, by the (movable) clock of shared/clock.py."""
    return clock.now()


def iso(moment):
    """UTC ISO 8601 with milliseconds and a Z, the form of every time Jembatan sends."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Payload(Schema):
    class Meta:
        unknown = EXCLUDE


class Ref(_Payload):
    code = fields.String(required=True)
    name = fields.String(required=True)


class ActorRef(_Payload):
    id = fields.String(required=True)
    role = fields.String(required=True)
    name = fields.String(required=True)
    scope = fields.String(load_default=None, allow_none=True)


class Location(_Payload):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))


class TaskRef(_Payload):
    id = fields.String(required=True)
    agency_id = fields.String(required=True)
    agency_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(TASK_ROLES))
    status = fields.String(required=True)
    accept_due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)


class CaseRef(_Payload):
    id = fields.String(required=True)
    tracking_number = fields.String(required=True)
    title = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(load_default=None, allow_none=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    escalation_level = fields.Integer(load_default=0)
    village = fields.Nested(Ref, required=True)
    district = fields.Nested(Ref, required=True)
    regency = fields.Nested(Ref, required=True)
    tasks = fields.List(fields.Nested(TaskRef), load_default=list)


class Explanation(_Payload):
    id = fields.String(required=True)
    en = fields.String(required=True)


class PhotoRef(_Payload):
    """A photo kept by the gateway's storage: what the case records of it."""

    id = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"))
    content_type = fields.String(required=True, validate=validate.OneOf(
        ("image/jpeg", "image/png", "image/webp")))
    size = fields.Integer(required=True, validate=validate.Range(min=1))
    width = fields.Integer(required=True, validate=validate.Range(min=1))
    height = fields.Integer(required=True, validate=validate.Range(min=1))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))


class IssueReported(_Payload):
    case_id = fields.String(required=True)
    tracking_number = fields.String(required=True)
    category = fields.String(required=True, validate=validate.OneOf(CATEGORY_CODES))
    title = fields.String(required=True)
    description = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(load_default=None, allow_none=True)
    location = fields.Nested(Location, load_default=None, allow_none=True)
    village = fields.Nested(Ref, required=True)
    district = fields.Nested(Ref, required=True)
    regency = fields.Nested(Ref, required=True)
    reporter = fields.Nested(ActorRef, required=True)
    reported_at = fields.AwareDateTime(required=True)
    photos = fields.List(fields.Nested(PhotoRef), load_default=list)
    confidential = fields.Boolean(load_default=False)  # (an earlier version's: not)


class PlannedTask(_Payload):
    agency_id = fields.String(required=True)
    agency_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(TASK_ROLES))
    accept_due_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)
    # The deadlines as the policy wrote them ("3wd", "6h"), to set them again on a reopen.
    accept_within = fields.String(load_default=None, allow_none=True)
    resolve_within = fields.String(load_default=None, allow_none=True)


class RoutingDecided(_Payload):
    case_id = fields.String(required=True)
    # routed: a new case's agencies; needs_triage: no rule; referred: after a decline, the
    # next agency the rule names.
    outcome = fields.String(required=True,
                            validate=validate.OneOf(ROUTING_OUTCOMES))
    rule_id = fields.String(load_default=None, allow_none=True)
    explanation = fields.Nested(Explanation, required=True)
    tasks = fields.List(fields.Nested(PlannedTask), load_default=list)


class CaseEvent(_Payload):
    """What requests tells the world after every change of a case."""

    case = fields.Nested(CaseRef, required=True)
    actor = fields.Nested(ActorRef, required=True)
    note = fields.String(load_default=None, allow_none=True)
    explanation = fields.Nested(Explanation, load_default=None, allow_none=True)
    rule_id = fields.String(load_default=None, allow_none=True)
    # The agencies this change concerns most (for case_routed: those given a new task).
    agency_ids = fields.List(fields.String(), load_default=list)
    # case_escalated: "district" or "regency"; deadline_missed, case_closing_soon: the moment.
    level = fields.String(load_default=None, allow_none=True,
                          validate=validate.OneOf(("district", "regency")))
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    task = fields.Nested(TaskRef, load_default=None, allow_none=True)
    # likely_duplicate, case_merged, duplicate_merged: the other case's tracking number.
    other_number = fields.String(load_default=None, allow_none=True)


class TaskEvent(CaseEvent):
    task = fields.Nested(TaskRef, required=True)


class CommentAdded(CaseEvent):
    comment_id = fields.String(required=True)
    body = fields.String(required=True)


class ActorState(_Payload):
    """What the notifications service needs of an actor to reach it."""

    id = fields.String(required=True)
    role = fields.String(required=True)
    scope = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    whatsapp = fields.Boolean(load_default=False)
    language = fields.String(load_default="id", validate=validate.OneOf(("id", "en")))
    disabled = fields.Boolean(load_default=False)


class ActorChanged(_Payload):
    actor = fields.Nested(ActorState, required=True)
    # Grows with every change of the actor: a consumer keeps the newest it has seen.
    version = fields.Integer(required=True, validate=validate.Range(min=1))


PAYLOAD_SCHEMAS = {
    ISSUE_REPORTED: IssueReported(),
    CASE_OPENED: CaseEvent(),
    ROUTING_DECIDED: RoutingDecided(),
    CASE_ROUTED: CaseEvent(),
    CASE_NEEDS_TRIAGE: CaseEvent(),
    TASK_ACCEPTED: TaskEvent(),
    TASK_DECLINED: TaskEvent(),
    TASK_PROGRESSED: TaskEvent(),
    TASK_COMPLETED: TaskEvent(),
    CASE_RESOLVED: CaseEvent(),
    CASE_REOPENED: CaseEvent(),
    CASE_CLOSED: CaseEvent(),
    COMMENT_ADDED: CommentAdded(),
    DEADLINE_MISSED: TaskEvent(),
    CASE_ESCALATED: CaseEvent(),
    CASE_CLOSING_SOON: CaseEvent(),
    CASE_CANCELLED: CaseEvent(),
    TASK_WITHDRAWN: TaskEvent(),
    LEAD_CHANGED: TaskEvent(),
    LIKELY_DUPLICATE: CaseEvent(),
    CASE_MERGED: CaseEvent(),
    DUPLICATE_MERGED: CaseEvent(),
    ACTOR_CHANGED: ActorChanged(),
}
EVENT_TYPES = tuple(PAYLOAD_SCHEMAS)
# An announcement a coordinator or the regency office sends to every village of its area: no
# event between services, but a kind of news the villages hear of like the others.
ANNOUNCEMENT = "announcement"
# What the notifications service tells parties of (their inbox and channels): the events of a
# case, and announcements.
CASE_EVENTS = tuple(t for t in EVENT_TYPES
                    if t not in (ISSUE_REPORTED, ROUTING_DECIDED, ACTOR_CHANGED))
NOTIFIED_EVENTS = CASE_EVENTS + (ANNOUNCEMENT,)


class Envelope(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    version = fields.Integer(required=True, validate=validate.Equal(ENVELOPE_VERSION))
    occurred_at = fields.AwareDateTime(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    payload = fields.Dict(required=True)


ENVELOPE = Envelope()  # a schema is built once: building one costs more than a load


@dataclass(frozen=True)
class Event:
    event_id: str
    type: str
    version: int
    occurred_at: datetime
    producer: str
    correlation_id: str
    payload: dict


def make_event(event_type, payload, producer, correlation_id):
    """Build the envelope of a new event; refuses a payload its schema does not accept."""
    schema = PAYLOAD_SCHEMAS.get(event_type)
    if schema is None:
        raise ValueError(f"unknown event type {event_type!r}")
    try:
        schema.load(payload, unknown=RAISE)
    except ValidationError as exc:
        raise ValueError(f"invalid {event_type} payload: {exc.messages}") from exc
    return {
        "event_id": str(uuid.uuid4()),
        "type": event_type,
        "version": ENVELOPE_VERSION,
        "occurred_at": iso(utcnow()),
        "producer": producer,
        "correlation_id": correlation_id,
        "payload": payload,
    }


def parse_event(body):
    """Validate a received message body; raises InvalidEvent with the reason."""
    if not isinstance(body, dict):
        raise InvalidEvent(f"body is {type(body).__name__}, not a JSON object")
    try:
        envelope = ENVELOPE.load(body)
        payload = PAYLOAD_SCHEMAS[envelope["type"]].load(envelope["payload"])
    except ValidationError as exc:
        raise InvalidEvent(f"schema: {exc.messages}") from exc
    return Event(
        event_id=str(envelope["event_id"]),
        type=envelope["type"],
        version=envelope["version"],
        occurred_at=envelope["occurred_at"],
        producer=envelope["producer"],
        correlation_id=envelope["correlation_id"],
        payload=payload,
    )
