"""Schemas of what the API answers, of its query strings and of the bodies only the gateway
reads (accounts): the OpenAPI document's source.

The bodies of the commands the services carry out are the schemas of shared/commands.py.
"""
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from services.gateway import accounts
from shared import paging, policy
from shared.categories import CODES as CATEGORY_CODES
from shared.commands import (
    LONGEST_RECORD_DAYS, MUSRENBANG_YEARS, JsonBoolean, PLAIN_TEXT, Text,
    optional_text, required_text,
)
from shared.channels import (
    CHANNELS, DELIVERY_STATUSES, PERSONAL_CHANNELS, email_address, phone_number,
)
from shared.events import NOTIFIED_EVENTS, SEVERITIES, TASK_ROLES
from shared.i18n import LANGUAGES, text

CASE_STATUSES = ("reported", "needs_triage", "routed", "in_progress", "resolved", "closed",
                 "reopened", "cancelled")
TASK_STATUSES = ("pending", "accepted", "completed", "declined", "withdrawn")


class Query(Schema):
    class Meta:
        unknown = EXCLUDE


class Page(Query):
    """Every list is paged the same way: `page` (from 1) and `per_page` (1 to 100, 20 by
    default); the answer says how many there are in all (`total`)."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=paging.DEFAULT_PER_PAGE,
                              validate=validate.Range(1, paging.MAX_PER_PAGE))


def query_text(max_length=200, **kwargs):
    """A free-text query parameter (a code, a name to search): any text but NUL."""
    return fields.String(validate=[Text(blank=True), validate.Length(max=max_length)], **kwargs)


def paged(item_schema, name):
    """The answer of a list: {items, total, page, per_page}."""
    return type(name, (Schema,), {
        "items": fields.List(fields.Nested(item_schema), required=True),
        "total": fields.Integer(required=True, validate=validate.Range(min=0)),
        "page": fields.Integer(required=True, validate=validate.Range(min=1)),
        "per_page": fields.Integer(required=True,
                                   validate=validate.Range(1, paging.MAX_PER_PAGE)),
    })


class CaseQuery(Page):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORY_CODES))
    village = query_text()
    district = query_text()
    regency = query_text()
    agency = query_text()
    overdue = fields.Boolean()
    escalation_level = fields.String(validate=validate.OneOf(("district", "regency")), metadata={
        "description": "escalated at least this far"})
    likely_duplicate = fields.Boolean(metadata={
        "description": "open and flagged as likely the same as another case"})
    no_lead = fields.Boolean(metadata={"description": "open, and no working agency leads it"})
    sort = fields.String(load_default="newest", validate=validate.OneOf(
        ("newest", "oldest", "updated", "escalation", "deadline")), metadata={
        "description": "deadline: the case whose agencies' next deadline comes first"})


class VillageQuery(Page):
    district = query_text()
    q = query_text(100)


class InboxQuery(Page):
    unread = fields.Boolean(load_default=False)
    case_id = query_text()


class ReadAllQuery(Query):
    case_id = query_text(metadata={"description": "only the notifications of this case"})


class AgencyQuery(Page):
    regency = query_text()


class RecordQuery(Query):
    """The period of the agencies' record: the days `from` to `to` (both included, where the
    caller's area is); or `days` days up to `to` (today by default), or from `from`."""

    days = fields.Integer(load_default=30, validate=validate.Range(1, LONGEST_RECORD_DAYS),
                          metadata={"description": "so many days, up to `to` or from `from`"})
    first = fields.Date(data_key="from", metadata={"description": "the first day (YYYY-MM-DD)"})
    last = fields.Date(data_key="to", metadata={"description": "the last day (YYYY-MM-DD)"})

    @validates_schema
    def a_period_of_at_most_a_year(self, data, **kwargs):
        first, last = data.get("first"), data.get("last")
        if first is not None and last is not None:
            if last < first:
                raise ValidationError(text("Tidak sebelum from.", "Not before from."), "to")
            if (last - first).days + 1 > LONGEST_RECORD_DAYS:
                raise ValidationError(text(f"Paling lama {LONGEST_RECORD_DAYS} hari setelah from.",
                                           f"At most {LONGEST_RECORD_DAYS} days after from."),
                                      "to")
        for name, day in (("from", first), ("to", last)):
            if day is not None and not 2000 <= day.year <= 2100:
                raise ValidationError(text("Antara tahun 2000 dan 2100.",
                                           "Between the years 2000 and 2100."), name)


def record_period(query):
    """A loaded RecordQuery as the keyword arguments of the requests service's
    agency_records."""
    return {"days": query["days"],
            "first": query["first"].isoformat() if query.get("first") else None,
            "last": query["last"].isoformat() if query.get("last") else None}


class PublicRecordQuery(Query):
    months = fields.Integer(load_default=12, validate=validate.Range(1, 24), metadata={
        "description": "the last so many months (this one included), where the area is"})


class ActorQuery(Page):
    role = fields.String(validate=validate.OneOf(policy.ROLES))
    scope = query_text()
    q = query_text(100, metadata={"description": "part of the name or username"})
    disabled = fields.Boolean()


class AuditQuery(Page):
    action = query_text()
    actor = query_text(metadata={"description": "the id of the actor who acted"})


class Ref(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True, metadata={"description": "field -> list of messages"})


class Error(Schema):
    error = fields.Nested(ErrorBody, required=True)


class ServiceCheck(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok", "degraded", "unavailable")))
    database = fields.String(validate=validate.OneOf(("ok", "unavailable")))
    outbox_backlog = fields.Integer(allow_none=True, metadata={
        "description": "events committed but not yet published"})
    dead_letters = fields.Integer(allow_none=True, metadata={
        "description": "messages in the dead-letter queue (jembatan dlq list)"})


class Health(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("ok", "unavailable")))
    services = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(ServiceCheck), required=True)
    outbox_backlog = fields.Integer(allow_none=True)
    dead_letters = fields.Integer(allow_none=True)


class CategoryOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    description = fields.String(required=True)
    description_en = fields.String(required=True)


class VillageOut(Ref):
    district = fields.Nested(Ref, required=True)
    regency = fields.Nested(Ref, required=True)


class ReportAccepted(Schema):
    case_id = fields.String(required=True)
    tracking_number = fields.String(required=True)
    status = fields.String(required=True)


class AgencyRef(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class TaskOut(Schema):
    id = fields.String(required=True)
    agency = fields.Nested(AgencyRef, required=True)
    role = fields.String(required=True, validate=validate.OneOf(TASK_ROLES))
    status = fields.String(required=True, validate=validate.OneOf(TASK_STATUSES))
    accept_due_at = fields.String(allow_none=True)
    due_at = fields.String(allow_none=True)
    accepted_at = fields.String(allow_none=True)
    completed_at = fields.String(allow_none=True)
    declined_at = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class CaseAgency(AgencyRef):
    role = fields.String(required=True)
    status = fields.String(required=True)


class CaseSummary(Schema):
    id = fields.String(required=True)
    tracking_number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))
    status_label = fields.String(required=True)
    category = fields.String(required=True)
    title = fields.String(required=True)
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    affected_people = fields.Integer(allow_none=True)
    village = fields.Nested(Ref, required=True)
    district = fields.Nested(Ref, required=True)
    regency = fields.Nested(Ref, required=True)
    agencies = fields.List(fields.Nested(CaseAgency), required=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    overdue = fields.Boolean(required=True)
    escalation_level = fields.String(required=True,
                                     validate=validate.OneOf(("none", "district", "regency")))
    confidential = fields.Boolean(required=True, metadata={
        "description": "a complaint about an official: never public"})


class Place(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class Reporter(Schema):
    name = fields.String(required=True)


class Routing(Schema):
    rule_id = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)


class AttachmentOut(Schema):
    id = fields.String(required=True)
    content_type = fields.String(required=True, validate=validate.OneOf(
        ("image/jpeg", "image/png", "image/webp")))
    size = fields.Integer(required=True, metadata={"description": "bytes of the photo kept"})
    width = fields.Integer(required=True)
    height = fields.Integer(required=True)
    added_at = fields.String(required=True)
    added_by = fields.Nested("TimelineActor", required=True)


class AttachmentInput(Schema):
    """multipart/form-data: the photo, and whether its location (EXIF GPS) may stay in it."""

    photo = fields.Raw(required=True, metadata={
        "type": "string", "format": "binary",
        "description": "JPEG, PNG or WebP, at most JEMBATAN_UPLOAD_MAX_BYTES (5 MB)"})
    share_location = fields.Boolean(load_default=False, metadata={
        "description": "keep the phone's location in the photo (removed by default)"})


class CaseOut(CaseSummary):
    description = fields.String(required=True)
    location = fields.Nested(Place, allow_none=True)
    reporter = fields.Nested(Reporter, required=True)
    tasks = fields.List(fields.Nested(TaskOut), required=True)
    attachments = fields.List(fields.Nested(AttachmentOut), required=True)
    routing = fields.Nested(Routing, required=True)
    likely_duplicate_of = fields.String(allow_none=True, metadata={
        "description": "an open case of the same village and category when this one came in"})
    merged_into = fields.String(allow_none=True)


CaseList = paged(CaseSummary, "CaseList")


class TimelineActor(Schema):
    role = fields.String(required=True)
    name = fields.String(required=True)


class TimelineEntryOut(Schema):
    at = fields.String(required=True)
    type = fields.String(required=True)
    actor = fields.Nested(TimelineActor, required=True)
    summary = fields.String(required=True)
    data = fields.Dict(required=True)


class CommentOut(Schema):
    id = fields.String(required=True)
    body = fields.String(required=True)
    author = fields.Nested(TimelineActor, required=True)


class NotificationOut(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True, allow_none=True)
    announcement_id = fields.String(required=True, allow_none=True)
    type = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.String(required=True)
    read_at = fields.String(allow_none=True)


class AgencyOut(AgencyRef):
    short_name = fields.String(required=True)
    regency = fields.Nested(Ref, required=True)
    categories = fields.List(fields.String(), required=True)


class AgencyRecord(Schema):
    agency = fields.Nested(AgencyRef, required=True)
    received = fields.Integer(required=True, metadata={"description": "tasks given in the period"})
    accepted = fields.Integer(required=True)
    accepted_in_time = fields.Integer(required=True, metadata={
        "description": "accepted by the deadline to accept"})
    completed = fields.Integer(required=True)
    completed_in_time = fields.Integer(required=True, metadata={
        "description": "completed by the deadline to complete"})
    declined = fields.Integer(required=True)
    referred = fields.Integer(required=True, metadata={
        "description": "of the declined, those whose case another agency was given after"})
    median_hours_to_accept = fields.Float(allow_none=True, required=True)
    median_hours_to_complete = fields.Float(allow_none=True, required=True, metadata={
        "description": "from the task being given to its completion"})
    open = fields.Integer(required=True, metadata={"description": "tasks pending or accepted now"})
    overdue = fields.Integer(required=True)
    overdue_share = fields.Float(required=True, metadata={"description": "overdue / open"})


class AgencyRecords(Schema):
    days = fields.Integer(required=True)
    first = fields.String(required=True, data_key="from")
    last = fields.String(required=True, data_key="to")
    items = fields.List(fields.Nested(AgencyRecord), required=True)


class Conditions(Schema):
    min_severity = fields.String(allow_none=True)
    min_affected_people = fields.Integer(allow_none=True)


class RuleOut(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    scope_code = fields.String(required=True)
    scope_level = fields.String(required=True)
    category = fields.String(required=True)
    conditions = fields.Nested(Conditions, required=True)
    lead_agency_id = fields.String(required=True)
    support_agency_ids = fields.List(fields.String(), required=True)
    fallback_agency_ids = fields.List(fields.String(), required=True, metadata={
        "description": "tried in order when an agency declines"})
    deadlines = fields.Dict(keys=fields.String(validate=validate.OneOf(SEVERITIES)),
                            values=fields.Dict(keys=fields.String(), values=fields.String()),
                            required=True, metadata={
                                "description": "by severity: {accept, resolve}, e.g. 3wd "
                                               "(working days) or 6h (hours)"})


class PlannedTaskOut(Schema):
    agency_id = fields.String(required=True)
    agency_name = fields.String(required=True)
    role = fields.String(required=True)
    accept_due_at = fields.String(required=True)
    due_at = fields.String(required=True)
    accept_within = fields.String(required=True, metadata={"description": "e.g. 3wd or 6h"})
    resolve_within = fields.String(required=True, metadata={"description": "e.g. 5wd or 24h"})


class PreviewOut(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(("routed", "needs_triage")))
    rule_id = fields.String(allow_none=True)
    explanation = fields.String(required=True)
    tasks = fields.List(fields.Nested(PlannedTaskOut), required=True)


class AgencyCount(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    open = fields.Integer(required=True)


class VillageCount(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    open = fields.Integer(required=True)


class CaseSummaryCounts(Schema):
    total = fields.Integer(required=True)
    open = fields.Integer(required=True)
    overdue = fields.Integer(required=True)
    escalated = fields.Integer(required=True)
    by_status = fields.Dict(keys=fields.String(validate=validate.OneOf(CASE_STATUSES)),
                            values=fields.Integer(), required=True)
    by_agency = fields.List(fields.Nested(AgencyCount), required=True,
                            metadata={"description": "open cases with an active task per agency"})
    by_village = fields.List(fields.Nested(VillageCount), required=True)


# -- accounts ------------------------------------------------------------------------------

class Password(validate.Validator):
    """A new password: long enough, and not one of the most common (the OpenAPI document lists
    them under `not`)."""

    def __call__(self, value):
        problem = accounts.password_problem(value)
        if problem:
            raise ValidationError(problem)
        return value


def new_password(**kwargs):
    return fields.String(required=True, validate=Password(), metadata={
        "minLength": accounts.MIN_PASSWORD, "maxLength": accounts.MAX_PASSWORD,
        "pattern": PLAIN_TEXT, "not": {"enum": sorted(accounts.common_passwords())},
        "description": f"at least {accounts.MIN_PASSWORD} characters, not one of the most "
                       "common passwords"}, **kwargs)


def given_password():
    """A password given to be checked (to sign in, or the current one)."""
    return fields.String(required=True, validate=[Text(blank=True),
                                                  validate.Length(1, accounts.MAX_PASSWORD)])


class LoginInput(Schema):
    username = fields.String(required=True, validate=[Text(blank=True), validate.Length(1, 64)])
    password = given_password()


class OwnPasswordInput(Schema):
    current_password = given_password()
    new_password = new_password()


class PasswordInput(Schema):
    password = new_password()


class ChannelsInput(Schema):
    """How an actor is reached outside the app; a field left out keeps what it had, a null
    clears it."""

    email = email_address(allow_none=True, metadata={"example": "kades.punten@example.org"})
    phone = phone_number(allow_none=True, metadata={
        "description": "an Indonesian mobile number; kept as +628…",
        "example": "+6281234567890"})
    whatsapp = JsonBoolean(metadata={"description": "WhatsApp messages to the phone number"})
    language = fields.String(validate=validate.OneOf(LANGUAGES),
                             metadata={"description": "of the messages sent to the actor"})


class ChannelsOut(Schema):
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    whatsapp = fields.Boolean(required=True)
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))


class ActorInput(Schema):
    """A new actor. The OpenAPI document states it as one variant per role (openapi.py): the
    scope each role has (an admin: none)."""

    role = fields.String(required=True, validate=validate.OneOf(policy.ROLES))
    scope = fields.String(validate=validate.Length(max=64), metadata={
        "description": "a village, district or regency code, or an agency id"})
    name = required_text(200)
    username = fields.String(validate=validate.Regexp(accounts.USERNAME), metadata={
        "description": "for a person, who then signs in with the password set by "
                       "POST /actors/{id}/password"})
    channels = fields.Nested(ChannelsInput, metadata={
        "description": "how the actor is reached outside the app (PUT /actors/{id}/channels)"})


class DisableInput(Schema):
    reason = optional_text(500)


class TokenInput(Schema):
    label = optional_text(100, metadata={"description": "what the token is for"})
    expires_in_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                     validate=validate.Range(1, 3650))


class ActorOut(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(policy.ROLES))
    scope = fields.String(required=True, allow_none=True)
    name = fields.String(required=True)
    regency = fields.String(required=True, allow_none=True)
    username = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    disabled_at = fields.String(required=True, allow_none=True)
    channels = fields.Nested(ChannelsOut, required=True)


class TokenOut(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf((accounts.SESSION, accounts.API)))
    label = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    expires_at = fields.String(required=True, allow_none=True)
    revoked_at = fields.String(required=True, allow_none=True)


class IssuedToken(TokenOut):
    token = fields.String(required=True, metadata={"description": "shown only this once"})


class ActorDetail(ActorOut):
    tokens = fields.List(fields.Nested(TokenOut), required=True)


class MeOut(ActorOut):
    token = fields.Nested(TokenOut, required=True)


class LoginOut(Schema):
    token = fields.String(required=True)
    token_id = fields.String(required=True)
    expires_at = fields.String(required=True)
    actor = fields.Nested(ActorOut, required=True)


class AuditActor(Schema):
    id = fields.String(required=True)
    role = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)


class AuditEntryOut(Schema):
    id = fields.Integer(required=True)
    at = fields.String(required=True)
    action = fields.String(required=True)
    actor = fields.Nested(AuditActor, required=True, allow_none=True)
    address = fields.String(required=True, allow_none=True)
    target = fields.String(required=True, allow_none=True)
    detail = fields.Dict(required=True)


class ReadAllOut(Schema):
    marked = fields.Integer(required=True, metadata={"description": "how many were unread"})


CategoryList = paged(CategoryOut, "CategoryList")
VillageList = paged(VillageOut, "VillageList")
TimelineList = paged(TimelineEntryOut, "TimelineList")
NotificationList = paged(NotificationOut, "NotificationList")
AgencyList = paged(AgencyOut, "AgencyList")
RuleList = paged(RuleOut, "RuleList")
class EventChannels(Schema):
    event = fields.String(required=True, validate=validate.OneOf(NOTIFIED_EVENTS))
    channels = fields.List(fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                           required=True)
    chosen = fields.Boolean(required=True, metadata={
        "description": "false: the default for this kind of event"})


class PreferencesOut(Schema):
    available = fields.List(fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                            required=True, metadata={
                                "description": "the channels this deployment sends on"})
    reachable = fields.Dict(keys=fields.String(validate=validate.OneOf(PERSONAL_CHANNELS)),
                            values=fields.Boolean(), required=True, metadata={
                                "description": "whether the caller has an address on each"})
    events = fields.List(fields.Nested(EventChannels), required=True)
    digest = fields.Boolean(required=True, metadata={
        "description": "email comes once a day, all news together (SMS and WhatsApp at once)"})


class SubscriptionOut(Schema):
    id = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)
    village = fields.String(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    created_at = fields.String(required=True)


class WebhookOut(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(validate=validate.OneOf(NOTIFIED_EVENTS)), required=True)
    party = fields.String(required=True)
    created_at = fields.String(required=True)


class WebhookCreated(WebhookOut):
    secret = fields.String(required=True, metadata={
        "description": "the key of every delivery's signature; shown in this answer only"})


class DeliveryQuery(Page):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    party = query_text(metadata={"description": "role:scope, e.g. agency:pdam-batu"})


class DeliveryAttemptOut(Schema):
    number = fields.Integer(required=True)
    at = fields.String(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(("sent", "failed")))
    detail = fields.String(required=True, allow_none=True)
    milliseconds = fields.Integer(required=True)


class DeliveryOut(Schema):
    id = fields.String(required=True, metadata={
        "description": "the same on every attempt: X-Jembatan-Delivery, the email's Message-ID"})
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    status = fields.String(required=True, validate=validate.OneOf(DELIVERY_STATUSES), metadata={
        "description": "held: an email waiting for the daily digest; digested: put in one"})
    party = fields.String(required=True)
    target = fields.String(required=True, metadata={"description": "actor:<id> or webhook:<id>"})
    address = fields.String(required=True)
    event = fields.String(required=True)
    source = fields.String(required=True)
    attempts = fields.Integer(required=True)
    last_error = fields.String(required=True, allow_none=True)
    next_attempt_at = fields.String(required=True, allow_none=True)
    created_at = fields.String(required=True)
    sent_at = fields.String(required=True, allow_none=True)
    history = fields.List(fields.Nested(DeliveryAttemptOut), required=True)


class Sender(Schema):
    party = fields.String(required=True)
    name = fields.String(required=True)


class Receipt(Schema):
    village = fields.Nested(Ref, required=True)
    read_at = fields.String(required=True, allow_none=True, metadata={
        "description": "when someone of the village first read it; null: not yet"})


class AnnouncementOut(Schema):
    """An announcement; its sender's office (and an admin) see each village's receipt, a
    village sees when it read it."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    area = fields.Nested(Ref, required=True)
    sender = fields.Nested(Sender, required=True)
    created_at = fields.String(required=True)
    reminders = fields.Integer(required=True)
    reminded_at = fields.String(required=True, allow_none=True)
    villages = fields.Integer(metadata={"description": "how many villages it was sent to"})
    read = fields.Integer(metadata={"description": "how many of them have read it"})
    receipts = fields.List(fields.Nested(Receipt))
    read_at = fields.String(allow_none=True, metadata={"description": "a village's own"})


class Reminded(Schema):
    reminded = fields.Integer(required=True, metadata={
        "description": "the villages reminded: those where nobody has read it yet"})


ActorList = paged(ActorOut, "ActorList")
SubscriptionList = paged(SubscriptionOut, "SubscriptionList")
AnnouncementList = paged(AnnouncementOut, "AnnouncementList")
WebhookList = paged(WebhookOut, "WebhookList")
DeliveryList = paged(DeliveryOut, "DeliveryList")
AuditList = paged(AuditEntryOut, "AuditList")


# -- what anyone may read (services/gateway/public.py) ---------------------------------------------

CSV = "csv"  # an answer that is a CSV file (openapi.py)


class PublicArea(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    level = fields.String(required=True, validate=validate.OneOf(("regency", "district")))
    regency = fields.Nested(Ref, required=True)


class RecordCounts(Schema):
    received = fields.Integer(required=True)
    resolved = fields.Integer(required=True)
    overdue = fields.Integer(required=True, metadata={
        "description": "of the cases received, those that missed a deadline"})
    median_days_to_resolve = fields.Float(required=True, allow_none=True)


class MonthTotal(RecordCounts):
    month = fields.String(required=True, metadata={"description": "YYYY-MM, where the area is"})


class CategoryRecord(RecordCounts):
    category = fields.String(required=True)
    category_name = fields.String(required=True)


class MonthCategoryRecord(CategoryRecord):
    month = fields.String(required=True)


class AgencyRecordRef(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class AgencyMonthsRecord(RecordCounts):
    agency = fields.Nested(AgencyRecordRef, required=True)


class MonthAgencyRecord(AgencyMonthsRecord):
    month = fields.String(required=True)


class Licence(Schema):
    name = fields.String(required=True)
    url = fields.String(required=True)
    attribution = fields.String(required=True)


class PublicAreaCount(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    cases = fields.Integer(required=True)


class PublicRecord(Schema):
    area = fields.Nested(PublicArea, required=True)
    districts = fields.List(fields.Nested(PublicAreaCount), required=True, metadata={
        "description": "a regency's districts with public cases (a district: none)"})
    months = fields.List(fields.String(), required=True)
    total = fields.List(fields.Nested(MonthTotal), required=True)
    by_category = fields.List(fields.Nested(MonthCategoryRecord), required=True)
    by_agency = fields.List(fields.Nested(MonthAgencyRecord), required=True)
    categories = fields.List(fields.Nested(CategoryRecord), required=True)
    agencies = fields.List(fields.Nested(AgencyMonthsRecord), required=True)
    licence = fields.Nested(Licence, required=True)


class PublicCase(Schema):
    tracking_number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))
    status_label = fields.String(required=True)
    open = fields.Boolean(required=True)
    category = fields.String(required=True)
    village = fields.Nested(Ref, required=True)
    district = fields.Nested(Ref, required=True)
    regency = fields.Nested(Ref, required=True)
    agency = fields.Nested(AgencyRecordRef, required=True, allow_none=True)
    created_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    expected_at = fields.String(required=True, allow_none=True)


PublicCaseList = paged(PublicCase, "PublicCaseList")


# -- the Musrenbang input (services/gateway/musrenbang.py) ----------------------------------------

PDF = "pdf"  # an answer that is a PDF file (openapi.py)


class ProposalOut(Schema):
    note = fields.String(required=True)
    by = fields.String(required=True)
    at = fields.String(required=True)


class MusrenbangPageQuery(Query):
    district = fields.String(validate=validate.Regexp(r"^\d{2}\.\d{2}\.\d{2}$"))
    year = fields.Integer(validate=validate.Range(*MUSRENBANG_YEARS))


class MusrenbangCase(Schema):
    tracking_number = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES))
    affected_people = fields.Integer(required=True, allow_none=True)
    reported_at = fields.String(required=True)
    days_unresolved = fields.Float(required=True)


class MusrenbangVillage(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    cases = fields.List(fields.Nested(MusrenbangCase), required=True)


class MusrenbangItem(Schema):
    rank = fields.Integer(required=True)
    category = fields.String(required=True)
    category_name = fields.String(required=True)
    cases = fields.Integer(required=True)
    affected_people = fields.Integer(required=True)
    median_days_unresolved = fields.Float(required=True)
    recurring = fields.Integer(required=True, metadata={
        "description": "cases reopened, or reported again after one of the kind was resolved"})
    villages = fields.List(fields.Nested(MusrenbangVillage), required=True)
    proposal = fields.Nested(ProposalOut, required=True, allow_none=True)


class MusrenbangDistrict(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    regency = fields.Nested(Ref, required=True)


class MusrenbangOut(Schema):
    district = fields.Nested(MusrenbangDistrict, required=True)
    year = fields.Integer(required=True)
    items = fields.List(fields.Nested(MusrenbangItem), required=True)
