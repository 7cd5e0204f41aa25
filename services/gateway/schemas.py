"""Schemas of what the API answers and of its query strings (the OpenAPI document's source).

Request bodies are the command schemas of shared/commands.py.
"""
from marshmallow import EXCLUDE, Schema, fields, validate

from shared.categories import CODES as CATEGORY_CODES
from shared.events import SEVERITIES, TASK_ROLES

CASE_STATUSES = ("reported", "needs_triage", "routed", "in_progress", "resolved", "closed",
                 "reopened", "cancelled")
TASK_STATUSES = ("pending", "accepted", "completed", "declined", "withdrawn")


class Query(Schema):
    class Meta:
        unknown = EXCLUDE


class Page(Query):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, 100))


class CaseQuery(Page):
    status = fields.String(validate=validate.OneOf(CASE_STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORY_CODES))
    village = fields.String()
    district = fields.String()
    regency = fields.String()
    agency = fields.String()
    overdue = fields.Boolean()
    escalation_level = fields.String(validate=validate.OneOf(("district", "regency")), metadata={
        "description": "escalated at least this far"})
    sort = fields.String(load_default="newest", validate=validate.OneOf(
        ("newest", "oldest", "updated", "escalation", "deadline")), metadata={
        "description": "deadline: the case whose agencies' next deadline comes first"})


class VillageQuery(Page):
    district = fields.String()
    q = fields.String(validate=validate.Length(max=100))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, 500))


class InboxQuery(Query):
    unread = fields.Boolean(load_default=False)
    case_id = fields.String()


class AgencyQuery(Query):
    regency = fields.String()


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


class Place(Schema):
    lat = fields.Float(required=True)
    lon = fields.Float(required=True)


class Reporter(Schema):
    name = fields.String(required=True)


class Routing(Schema):
    rule_id = fields.String(allow_none=True)
    explanation = fields.String(allow_none=True)


class CaseOut(CaseSummary):
    description = fields.String(required=True)
    location = fields.Nested(Place, allow_none=True)
    reporter = fields.Nested(Reporter, required=True)
    tasks = fields.List(fields.Nested(TaskOut), required=True)
    routing = fields.Nested(Routing, required=True)
    likely_duplicate_of = fields.String(allow_none=True, metadata={
        "description": "an open case of the same village and category when this one came in"})
    merged_into = fields.String(allow_none=True)


class CaseList(Schema):
    items = fields.List(fields.Nested(CaseSummary), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


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
    case_id = fields.String(required=True)
    type = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.String(required=True)
    read_at = fields.String(allow_none=True)


class AgencyOut(AgencyRef):
    short_name = fields.String(required=True)
    regency = fields.Nested(Ref, required=True)
    categories = fields.List(fields.String(), required=True)


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
