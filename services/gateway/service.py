"""The gateway: Jembatan's HTTP API (API.md). Every read and command goes to its owner by RPC."""
import eventlet
from nameko.extensions import DependencyProvider

from services.gateway import openapi, schemas
from services.gateway.auth import Authenticator
from services.gateway.http import (
    TimedRpcProxy, Unauthorized, api, language, read_json, read_query,
)
from services.gateway.models import Base
from shared import commands
from shared.categories import CATEGORIES
from shared.db import Store
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.i18n import text

SERVICES = ("villages", "requests", "routing", "notifications")
SUPERVISORS = ("coordinator", "regency", "admin")
TASK_BODIES = {"accept": commands.NoteInput, "decline": commands.ReasonInput,
               "progress": commands.RequiredNoteInput, "complete": commands.RequiredNoteInput}


class Auth(DependencyProvider):
    """Who is calling: the actor of the request's bearer token (the gateway's own database)."""

    def setup(self):
        self.store = Store("gateway", Base.metadata)
        self.store.migrate()
        self.authenticator = Authenticator(self.store.sessions)

    def stop(self):
        self.store.close()

    def get_dependency(self, worker_ctx):
        return self

    def actor(self, request, roles=None):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        principal = (self.authenticator.principal(token.strip())
                     if scheme.lower() == "bearer" else None)
        if principal is None:
            raise Unauthorized(text("Token tidak ada, tidak dikenal, atau sudah dicabut.",
                                    "The token is missing, unknown or revoked."))
        if roles and principal.role not in roles:
            raise Forbidden(text("Peran Anda tidak boleh melakukan ini.",
                                 "Your role may not do this."))
        return principal.as_dict()


def case_answers(**extra):
    return {200: schemas.CaseOut, **extra}


class GatewayService:
    name = "gateway"

    auth = Auth()
    villages = TimedRpcProxy("villages")
    requests = TimedRpcProxy("requests")
    routing = TimedRpcProxy("routing")
    notifications = TimedRpcProxy("notifications")

    # -- public ----------------------------------------------------------------------------------

    @api("GET", "/health", summary="Whether every service answers", answers={200: schemas.Health, 503: schemas.Health})
    def health(self, request):
        def ask(service):
            try:
                return service, getattr(self, service).health()
            except Exception:  # no answer in time, or an error: not healthy
                return service, {"status": "unavailable"}

        checks = dict(eventlet.GreenPool().imap(ask, SERVICES))
        services = {name: check["status"] for name, check in checks.items()}
        services["gateway"] = "ok"
        healthy = all(state == "ok" for state in services.values())
        backlog = [c["outbox_backlog"] for c in checks.values() if c.get("outbox_backlog") is not None]
        dead = [c["dead_letters"] for c in checks.values() if c.get("dead_letters") is not None]
        return (200 if healthy else 503), {
            "status": "ok" if healthy else "unavailable", "services": services,
            "checks": checks, "outbox_backlog": sum(backlog) if backlog else None,
            "dead_letters": max(dead) if dead else None}

    @api("GET", "/categories", summary="The category catalogue", answers={200: schemas.CategoryOut(many=True)})
    def categories(self, request):
        return [{"code": c.code, "name": c.name, "name_en": c.name_en,
                 "description": c.description, "description_en": c.description_en}
                for c in CATEGORIES]

    @api("GET", "/openapi.json", summary="This document")
    def openapi_document(self, request):
        return openapi.document()

    # -- villages --------------------------------------------------------------------------------

    @api("GET", "/villages", summary="Villages of the registry", query=schemas.VillageQuery,
         answers={200: schemas.VillageOut(many=True)}, roles="signed in")
    def list_villages(self, request):
        self.auth.actor(request)
        query = read_query(request, schemas.VillageQuery)
        return self.villages.list_villages(
            district=query.get("district"), q=query.get("q"), limit=query["per_page"],
            offset=(query["page"] - 1) * query["per_page"])

    @api("POST", "/reports", summary="A village reports an issue", body=commands.ReportInput,
         answers={202: schemas.ReportAccepted}, roles="village")
    def create_report(self, request):
        actor = self.auth.actor(request, roles=("village",))
        body = read_json(request, commands.ReportInput)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key.strip()) <= 200):
            raise ValidationFailed(text("Idempotency-Key tidak sah.", "Invalid Idempotency-Key."),
                                   {"Idempotency-Key": [text("Panjang 1 sampai 200 karakter.",
                                                             "1 to 200 characters.")]})
        return 202, self.villages.submit_report(actor, body, key.strip() if key else None)

    # -- cases -----------------------------------------------------------------------------------

    @api("GET", "/cases", summary="Cases in the caller's jurisdiction", query=schemas.CaseQuery,
         answers={200: schemas.CaseList}, roles="signed in")
    def list_cases(self, request):
        actor = self.auth.actor(request)
        return self.requests.list_cases(actor, read_query(request, schemas.CaseQuery),
                                        lang=language(request))

    @api("GET", "/cases/<case_id>", summary="One case", answers=case_answers(), roles="in scope")
    def get_case(self, request, case_id):
        actor = self.auth.actor(request)
        try:
            return self.requests.get_case(actor, case_id, lang=language(request))
        except NotFound:
            # Reported a moment ago and not opened yet: the village still finds it.
            return self.villages.reported_case(actor, case_id, lang=language(request))

    @api("GET", "/cases/<case_id>/timeline", summary="Every step of a case, oldest first",
         answers={200: schemas.TimelineEntryOut(many=True)}, roles="in scope")
    def timeline(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.timeline(actor, case_id, lang=language(request))

    @api("POST", "/cases/<case_id>/comments", summary="Comment on a case",
         body=commands.CommentInput, answers={201: schemas.CommentOut}, roles="in scope")
    def comment(self, request, case_id):
        actor = self.auth.actor(request)
        return 201, self.requests.add_comment(actor, case_id, read_json(request),
                                              lang=language(request))

    def _task_action(self, request, case_id, task_id, action):
        actor = self.auth.actor(request)
        body = read_json(request)
        return self.requests.task_action(actor, case_id, task_id, action, body,
                                         lang=language(request))

    @api("POST", "/cases/<case_id>/tasks/<task_id>/accept", summary="The agency accepts its task",
         body=commands.NoteInput, answers={200: schemas.TaskOut}, roles="that agency")
    def accept_task(self, request, case_id, task_id):
        return self._task_action(request, case_id, task_id, "accept")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/decline",
         summary="The agency declines its task, with a reason", body=commands.ReasonInput,
         answers={200: schemas.TaskOut}, roles="that agency")
    def decline_task(self, request, case_id, task_id):
        return self._task_action(request, case_id, task_id, "decline")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/progress", summary="The agency posts progress",
         body=commands.RequiredNoteInput, answers={200: schemas.TaskOut}, roles="that agency")
    def task_progress(self, request, case_id, task_id):
        return self._task_action(request, case_id, task_id, "progress")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/complete", summary="The agency completes its task",
         body=commands.RequiredNoteInput, answers={200: schemas.TaskOut}, roles="that agency")
    def complete_task(self, request, case_id, task_id):
        return self._task_action(request, case_id, task_id, "complete")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/withdraw",
         summary="The coordinator takes a task back from an agency, with a reason",
         body=commands.ReasonInput, answers=case_answers(), roles="coordinator, regency")
    def withdraw_task(self, request, case_id, task_id):
        return self.requests.supervise_task(self.auth.actor(request), case_id, task_id,
                                            "withdraw", read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/tasks/<task_id>/lead",
         summary="The coordinator makes this agency the lead, with a reason",
         body=commands.ReasonInput, answers=case_answers(), roles="coordinator, regency")
    def make_lead(self, request, case_id, task_id):
        return self.requests.supervise_task(self.auth.actor(request), case_id, task_id, "lead",
                                            read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/confirm", summary="The village confirms the problem is solved",
         body=commands.NoteInput, answers=case_answers(), roles="the village")
    def confirm(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.confirm(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/reopen", summary="The village reopens a resolved case",
         body=commands.ReasonInput, answers=case_answers(), roles="the village")
    def reopen(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.reopen(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/route", summary="Route a case by hand",
         body=commands.RouteInput, answers=case_answers(), roles="coordinator, regency")
    def route(self, request, case_id):
        actor = self.auth.actor(request)
        body = read_json(request)
        context = self.requests.case_context(actor, case_id)
        plan = self.routing.plan_manual_route(actor, context, body)
        return self.requests.route(actor, context["id"], plan, lang=language(request))

    @api("POST", "/cases/<case_id>/escalate", summary="Escalate a case to the regency office",
         body=commands.ReasonInput, answers=case_answers(), roles="coordinator")
    def escalate(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.escalate(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/cancel", summary="Cancel a case, with a reason",
         body=commands.ReasonInput, answers=case_answers(), roles="coordinator, regency")
    def cancel(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.cancel(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/merge", summary="Merge a case into another, with a reason",
         body=commands.MergeInput, answers=case_answers(), roles="coordinator, regency")
    def merge(self, request, case_id):
        actor = self.auth.actor(request)
        return self.requests.merge(actor, case_id, read_json(request), lang=language(request))

    @api("GET", "/cases/summary", summary="Counts of the caller's cases: per status, agency, village",
         answers={200: schemas.CaseSummaryCounts}, roles="signed in")
    def case_summary(self, request):
        actor = self.auth.actor(request)
        return self.requests.summary(actor, lang=language(request))

    @api("GET", "/escalations", summary="Escalated cases in the caller's jurisdiction",
         query=schemas.Page, answers={200: schemas.CaseList}, roles="coordinator, regency, admin")
    def escalations(self, request):
        actor = self.auth.actor(request, roles=SUPERVISORS)
        filters = read_query(request, schemas.Page)
        filters["escalation_level"] = "regency" if actor["role"] == "regency" else "district"
        return self.requests.list_cases(actor, filters, lang=language(request))

    # -- notifications ---------------------------------------------------------------------------

    @api("GET", "/notifications", summary="The caller's inbox, newest first",
         query=schemas.InboxQuery, answers={200: schemas.NotificationOut(many=True)},
         roles="signed in")
    def inbox(self, request):
        actor = self.auth.actor(request)
        query = read_query(request, schemas.InboxQuery)
        return self.notifications.inbox(actor, unread=query["unread"],
                                         case_id=query.get("case_id"), lang=language(request))

    @api("POST", "/notifications/<notification_id>/read", summary="Mark a notification read",
         answers={200: schemas.NotificationOut}, roles="its owner")
    def mark_read(self, request, notification_id):
        actor = self.auth.actor(request)
        return self.notifications.mark_read(actor, notification_id, lang=language(request))

    # -- routing ---------------------------------------------------------------------------------

    @api("GET", "/agencies", summary="Agencies", query=schemas.AgencyQuery,
         answers={200: schemas.AgencyOut(many=True)}, roles="signed in")
    def agencies(self, request):
        self.auth.actor(request)
        return self.routing.agencies(regency=read_query(request, schemas.AgencyQuery).get("regency"))

    @api("GET", "/routing/rules", summary="The routing rules in force",
         answers={200: schemas.RuleOut(many=True)}, roles="coordinator, regency, admin")
    def rules(self, request):
        actor = self.auth.actor(request, roles=SUPERVISORS)
        regency = None if actor["role"] == "admin" else actor["scope"][:5]
        return self.routing.rules(regency=regency)

    @api("POST", "/routing/preview", summary="The decision routing would take",
         body=commands.PreviewInput, answers={200: schemas.PreviewOut}, roles="signed in")
    def preview(self, request):
        self.auth.actor(request)
        body = read_json(request, commands.PreviewInput)
        try:
            village = self.villages.get_village(body["village_code"])
        except NotFound as exc:
            raise ValidationFailed(exc.message, exc.details) from None
        return self.routing.preview(village, body, lang=language(request))

    # -- anything else ---------------------------------------------------------------------------

    @api("GET,POST,PUT,PATCH,DELETE", "/<path:path>")
    def unknown(self, request, path):
        raise NotFound(text("Alamat tidak dikenal.", "No such endpoint."),
                       {"path": [request.path]})
