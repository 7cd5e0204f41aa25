"""The gateway: Jembatan's HTTP API (docs/api.md) and its web app (services/gateway/pages.py).
Every read and command goes to its owner by RPC; the accounts
(services/gateway/account_endpoints.py) and the photos' bytes (storage.py) are the gateway's own.

Each endpoint names its operation in the access policy (shared/policy.py): the edge has
checked the caller's role before the method runs, and the services check the jurisdiction.
"""
import eventlet
from werkzeug.wrappers import Response

from services.gateway import openapi, photos, schemas, storage
from services.gateway.account_endpoints import AccountEndpoints
from services.gateway.musrenbang import MusrenbangEndpoints
from services.gateway.open311 import Open311Endpoints
from services.gateway.public import PublicEndpoints
from services.gateway.pages import WebPages
from services.gateway.http import (
    TimedRpcProxy, api, csv_response, language, read_json, read_query, read_upload,
)
from shared import commands, paging, policy
from shared.categories import CATEGORIES
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.i18n import text

SERVICES = ("villages", "requests", "routing", "notifications")
# The columns of the agencies' record as CSV, after the period and the agency.
RECORD_COUNTS = ("received", "accepted", "accepted_in_time", "completed", "completed_in_time",
                 "declined", "referred", "median_hours_to_accept", "median_hours_to_complete",
                 "open", "overdue")


def case_answers(**extra):
    return {200: schemas.CaseOut, **extra}


class GatewayService(AccountEndpoints, WebPages, Open311Endpoints, PublicEndpoints,
                     MusrenbangEndpoints):
    name = "gateway"

    villages = TimedRpcProxy("villages")
    requests = TimedRpcProxy("requests")
    routing = TimedRpcProxy("routing")
    notifications = TimedRpcProxy("notifications")

    # -- public ----------------------------------------------------------------------------------

    @api("GET", "/health", "health", "Whether every service answers",
         answers={200: schemas.Health, 503: schemas.Health})
    def health(self, request, actor):
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

    @api("GET", "/categories", "categories.list", "The category catalogue", query=schemas.Page,
         answers={200: schemas.CategoryList})
    def categories(self, request, actor):
        number, per_page = paging.bounds(read_query(request, schemas.Page))
        start = (number - 1) * per_page
        return paging.page([{"code": c.code, "name": c.name, "name_en": c.name_en,
                             "description": c.description, "description_en": c.description_en}
                            for c in CATEGORIES[start:start + per_page]],
                           len(CATEGORIES), number, per_page)

    @api("GET", "/openapi.json", "openapi", "This document")
    def openapi_document(self, request, actor):
        return openapi.document()

    # -- villages --------------------------------------------------------------------------------

    @api("GET", "/villages", "villages.list", "Villages of the registry", query=schemas.VillageQuery,
         answers={200: schemas.VillageList})
    def list_villages(self, request, actor):
        return self.villages.list_villages(read_query(request, schemas.VillageQuery))

    @api("POST", "/reports", "reports.create", "A village reports an issue",
         body=commands.ReportInput, answers={202: schemas.ReportAccepted})
    def create_report(self, request, actor):
        body = read_json(request, commands.ReportInput)
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (key.strip() and len(key) <= 200):
            raise ValidationFailed(text("Idempotency-Key tidak sah.", "Invalid Idempotency-Key."),
                                   {"Idempotency-Key": [text("Panjang 1 sampai 200 karakter.",
                                                             "1 to 200 characters.")]})
        return 202, self.villages.submit_report(actor, body, key.strip() if key else None)

    # -- cases -----------------------------------------------------------------------------------

    @api("GET", "/cases", "cases.list", "Cases in the caller's jurisdiction",
         query=schemas.CaseQuery, answers={200: schemas.CaseList})
    def list_cases(self, request, actor):
        return self.requests.list_cases(actor, read_query(request, schemas.CaseQuery),
                                        lang=language(request))

    @api("GET", "/cases/summary", "cases.summary",
         "Counts of the caller's cases: per status, agency, village",
         answers={200: schemas.CaseSummaryCounts})
    def case_summary(self, request, actor):
        return self.requests.summary(actor, lang=language(request))

    @api("GET", "/cases/<case_id>", "cases.read", "One case (by id or tracking number)",
         answers=case_answers())
    def get_case(self, request, actor, case_id):
        try:
            return self.requests.get_case(actor, case_id, lang=language(request))
        except NotFound:
            # Reported a moment ago and not opened yet: the village still finds it.
            return self.villages.reported_case(actor, case_id, lang=language(request))

    @api("GET", "/cases/<case_id>/timeline", "cases.timeline",
         "Every step of a case, oldest first", query=schemas.Page,
         answers={200: schemas.TimelineList})
    def timeline(self, request, actor, case_id):
        return self.requests.timeline(actor, case_id, read_query(request, schemas.Page),
                                      lang=language(request))

    @api("POST", "/cases/<case_id>/comments", "cases.comment", "Comment on an open case",
         body=commands.CommentInput, answers={201: schemas.CommentOut})
    def comment(self, request, actor, case_id):
        return 201, self.requests.add_comment(actor, case_id, read_json(request),
                                              lang=language(request))

    @api("POST", "/cases/<case_id>/attachments", "cases.attach", "Add a photo to an open case",
         body=schemas.AttachmentInput, body_type="multipart/form-data",
         answers={201: schemas.AttachmentOut})
    def attach(self, request, actor, case_id):
        return 201, self.attach_upload(request, actor, case_id, language(request))

    def attach_upload(self, request, actor, case_id, lang):
        """The photo of a multipart upload (schemas.AttachmentInput), checked, stored and
        recorded on the case (the API's, and the case page's form)."""
        data, options = read_upload(request, schemas.AttachmentInput)
        return self.keep_photo(actor, case_id,
                               photos.prepare_aside(data, options["share_location"]), lang)

    def keep_photo(self, actor, case_id, photo, lang):
        """Store the photo's bytes, then have the case record it; refused, nothing stays
        (storage.kept)."""
        with storage.kept(photo):
            try:
                return self.requests.add_photo(actor, case_id, photo.metadata(), lang=lang)
            except NotFound:
                self.villages.reported_case(actor, case_id)  # 404 unless reported just now
                not_open = Conflict(text("Kasus baru saja dilaporkan dan belum dibuka; coba "
                                         "lagi sebentar lagi.",
                                         "The case was reported a moment ago and is not open "
                                         "yet; try again shortly."))
                not_open.headers = {"Retry-After": "1"}
                raise not_open from None

    @api("GET", "/cases/<case_id>/attachments/<attachment_id>", "attachments.read",
         "A photo of the case", answers={200: openapi.IMAGE})
    def attachment(self, request, actor, case_id, attachment_id):
        return self.photo_response(actor, case_id, attachment_id)

    @api("GET", "/cases/<case_id>/attachments/<attachment_id>/thumbnail", "attachments.thumbnail",
         "A small version of a photo of the case, for lists", answers={200: openapi.IMAGE})
    def attachment_thumbnail(self, request, actor, case_id, attachment_id):
        return self.photo_response(actor, case_id, attachment_id, thumbnail=True)

    def photo_response(self, actor, case_id, attachment_id, thumbnail=False):
        """The photo's bytes, once the case says the caller may see it."""
        photo = self.requests.photo(actor, case_id, attachment_id)
        key = photo["id"] + (storage.THUMBNAIL if thumbnail else "")
        data = storage.storage().get(key)
        if data is None:
            raise NotFound(text("Berkas foto tidak ada di penyimpanan.",
                                "The photo's file is missing from storage."))
        return Response(data, content_type=photos.THUMBNAIL_TYPE if thumbnail
                        else photo["content_type"],
                        headers={"Cache-Control": "private, max-age=86400"})

    def _task_action(self, request, actor, case_id, task_id, action, optional=False):
        return self.requests.task_action(actor, case_id, task_id, action,
                                         read_json(request, optional=optional),
                                         lang=language(request))

    @api("POST", "/cases/<case_id>/tasks/<task_id>/accept", "tasks.accept",
         "The agency accepts its task", body=commands.NoteInput, body_optional=True,
         answers={200: schemas.TaskOut})
    def accept_task(self, request, actor, case_id, task_id):
        return self._task_action(request, actor, case_id, task_id, "accept", optional=True)

    @api("POST", "/cases/<case_id>/tasks/<task_id>/decline", "tasks.decline",
         "The agency declines its task, with a reason", body=commands.ReasonInput,
         answers={200: schemas.TaskOut})
    def decline_task(self, request, actor, case_id, task_id):
        return self._task_action(request, actor, case_id, task_id, "decline")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/progress", "tasks.progress",
         "The agency posts progress", body=commands.RequiredNoteInput,
         answers={200: schemas.TaskOut})
    def task_progress(self, request, actor, case_id, task_id):
        return self._task_action(request, actor, case_id, task_id, "progress")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/complete", "tasks.complete",
         "The agency completes its task", body=commands.RequiredNoteInput,
         answers={200: schemas.TaskOut})
    def complete_task(self, request, actor, case_id, task_id):
        return self._task_action(request, actor, case_id, task_id, "complete")

    @api("POST", "/cases/<case_id>/tasks/<task_id>/withdraw", "tasks.withdraw",
         "The coordinator takes a task back from an agency, with a reason",
         body=commands.ReasonInput, answers=case_answers())
    def withdraw_task(self, request, actor, case_id, task_id):
        return self.requests.supervise_task(actor, case_id, task_id, "withdraw",
                                            read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/tasks/<task_id>/lead", "tasks.lead",
         "The coordinator makes this agency the lead, with a reason",
         body=commands.ReasonInput, answers=case_answers())
    def make_lead(self, request, actor, case_id, task_id):
        return self.requests.supervise_task(actor, case_id, task_id, "lead", read_json(request),
                                            lang=language(request))

    @api("POST", "/cases/<case_id>/confirm", "cases.confirm",
         "The village confirms the problem is solved", body=commands.NoteInput,
         body_optional=True, answers=case_answers())
    def confirm(self, request, actor, case_id):
        return self.requests.confirm(actor, case_id, read_json(request, optional=True),
                                     lang=language(request))

    @api("POST", "/cases/<case_id>/reopen", "cases.reopen",
         "The village reopens a resolved case", body=commands.ReasonInput,
         answers=case_answers())
    def reopen(self, request, actor, case_id):
        return self.requests.reopen(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/route", "cases.route", "Route a case by hand",
         body=commands.RouteInput, answers=case_answers())
    def route(self, request, actor, case_id):
        body = read_json(request)
        context = self.requests.case_context(actor, case_id)
        plan = self.routing.plan_manual_route(actor, context, body)
        return self.requests.route(actor, context["id"], plan, lang=language(request))

    @api("POST", "/cases/<case_id>/escalate", "cases.escalate",
         "Escalate a case to the regency office", body=commands.ReasonInput,
         answers=case_answers())
    def escalate(self, request, actor, case_id):
        return self.requests.escalate(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/cancel", "cases.cancel", "Cancel a case, with a reason",
         body=commands.ReasonInput, answers=case_answers())
    def cancel(self, request, actor, case_id):
        return self.requests.cancel(actor, case_id, read_json(request), lang=language(request))

    @api("POST", "/cases/<case_id>/merge", "cases.merge",
         "Merge a case into another, with a reason", body=commands.MergeInput,
         answers=case_answers())
    def merge(self, request, actor, case_id):
        return self.requests.merge(actor, case_id, read_json(request), lang=language(request))

    @api("GET", "/escalations", "escalations.list",
         "Open escalated cases in the caller's jurisdiction", query=schemas.Page,
         answers={200: schemas.CaseList})
    def escalations(self, request, actor):
        return self.requests.escalations(actor, read_query(request, schemas.Page),
                                         lang=language(request))

    # -- notifications ---------------------------------------------------------------------------

    @api("GET", "/notifications", "notifications.list", "The caller's inbox, newest first",
         query=schemas.InboxQuery, answers={200: schemas.NotificationList})
    def inbox(self, request, actor):
        return self.notifications.inbox(actor, read_query(request, schemas.InboxQuery),
                                        lang=language(request))

    @api("POST", "/notifications/<notification_id>/read", "notifications.read",
         "Mark a notification read", answers={200: schemas.NotificationOut})
    def mark_read(self, request, actor, notification_id):
        return self.notifications.mark_read(actor, notification_id, lang=language(request))

    @api("POST", "/notifications/read-all", "notifications.read_all",
         "Mark every notification read (of one case, with case_id)",
         query=schemas.ReadAllQuery, answers={200: schemas.ReadAllOut})
    def mark_all_read(self, request, actor):
        return self.notifications.mark_all_read(
            actor, read_query(request, schemas.ReadAllQuery).get("case_id"))

    @api("GET", "/me/preferences", "preferences.read",
         "The channels the caller is told on, per kind of event",
         answers={200: schemas.PreferencesOut})
    def preferences(self, request, actor):
        return self.notifications.preferences(actor)

    @api("PUT", "/me/preferences", "preferences.update",
         "Choose the channels of some kinds of event ([]: the inbox only)",
         body=commands.PreferencesInput, answers={200: schemas.PreferencesOut})
    def set_preferences(self, request, actor):
        return self.notifications.set_preferences(
            actor, read_json(request, commands.PreferencesInput))

    @api("GET", "/subscriptions", "subscriptions.list",
         "What the caller follows beyond its office's own news", query=schemas.Page,
         answers={200: schemas.SubscriptionList})
    def list_subscriptions(self, request, actor):
        return self.notifications.subscriptions(actor, read_query(request, schemas.Page))

    @api("POST", "/subscriptions", "subscriptions.create",
         "Follow the cases of a category, of a village, or the overdue ones, in one's area",
         body=commands.SubscriptionInput,
         answers={201: schemas.SubscriptionOut, 404: schemas.Error})
    def subscribe(self, request, actor):
        return 201, self.follow(actor, read_json(request, commands.SubscriptionInput))

    def follow(self, actor, body):
        """A subscription (commands.SubscriptionInput) of the caller; its village must exist."""
        if body.get("village"):
            try:
                self.villages.get_village(body["village"])
            except NotFound:
                raise NotFound(text("Desa/kelurahan tidak ditemukan.", "Village not found."),
                               {"village": [text("Kode tidak dikenal.", "Unknown code.")]}) \
                    from None
        return self.notifications.subscribe(actor, body)

    @api("DELETE", "/subscriptions/<subscription_id>", "subscriptions.delete",
         "Stop following", answers={204: None})
    def unsubscribe(self, request, actor, subscription_id):
        self.notifications.unsubscribe(actor, subscription_id)
        return 204, None

    @api("GET", "/webhooks", "webhooks.list", "The webhooks of the caller's party (an admin: all)",
         query=schemas.Page, answers={200: schemas.WebhookList})
    def list_webhooks(self, request, actor):
        return self.notifications.webhooks(actor, read_query(request, schemas.Page))

    @api("POST", "/webhooks", "webhooks.create",
         "A system of the caller's party told of its notifications by signed POSTs",
         body=commands.WebhookInput, answers={201: schemas.WebhookCreated})
    def create_webhook(self, request, actor):
        return 201, self.notifications.create_webhook(
            actor, read_json(request, commands.WebhookInput))

    @api("DELETE", "/webhooks/<webhook_id>", "webhooks.delete", "Stop a webhook",
         answers={204: None})
    def delete_webhook(self, request, actor, webhook_id):
        self.notifications.delete_webhook(actor, webhook_id)
        return 204, None

    @api("GET", "/announcements", "announcements.list",
         "Announcements the caller's office sent (a village: those it received), newest first",
         query=schemas.Page, answers={200: schemas.AnnouncementList})
    def list_announcements(self, request, actor):
        return self.notifications.announcements(actor, read_query(request, schemas.Page))

    @api("POST", "/announcements", "announcements.create",
         "Send an announcement to every village of a district or regency",
         body=commands.AnnouncementInput,
         answers={201: schemas.AnnouncementOut, 404: schemas.Error})
    def create_announcement(self, request, actor):
        return 201, self.announce(actor, read_json(request, commands.AnnouncementInput))

    def announce(self, actor, body):
        """Send an announcement (commands.AnnouncementInput) to the villages of its area."""
        code = body.get("district") or body.get("regency")
        try:
            found = self.villages.villages_of(code)
        except NotFound:
            raise NotFound(text("Wilayah tidak ditemukan.", "No such area."),
                           {"district" if "district" in body else "regency": [
                               text("Kode tidak dikenal.", "Unknown code.")]}) from None
        area = found["area"]
        if "district" in body:
            area = {**area, "name": f"Kecamatan {area['name']}"}
        return self.notifications.announce(actor, body, area, found["villages"])

    @api("GET", "/announcements/<announcement_id>", "announcements.read",
         "One announcement: to its sender, who has read it and who not",
         answers={200: schemas.AnnouncementOut})
    def get_announcement(self, request, actor, announcement_id):
        return self.notifications.announcement(actor, announcement_id)

    @api("POST", "/announcements/<announcement_id>/remind", "announcements.remind",
         "Send it again to the villages that have not read it", answers={
             200: schemas.Reminded, 409: schemas.Error})
    def remind_announcement(self, request, actor, announcement_id):
        return self.notifications.remind(actor, announcement_id)

    @api("GET", "/deliveries", "deliveries.list",
         "Messages sent outside the app, newest first, with every attempt",
         query=schemas.DeliveryQuery, answers={200: schemas.DeliveryList})
    def list_deliveries(self, request, actor):
        return self.notifications.deliveries(actor, read_query(request, schemas.DeliveryQuery))

    @api("POST", "/deliveries/<delivery_id>/retry", "deliveries.retry",
         "Try a failed delivery again", answers={200: schemas.DeliveryOut, 409: schemas.Error})
    def retry_delivery(self, request, actor, delivery_id):
        return self.notifications.retry_delivery(actor, delivery_id)

    # -- routing ---------------------------------------------------------------------------------

    @api("GET", "/agencies", "agencies.list", "Agencies", query=schemas.AgencyQuery,
         answers={200: schemas.AgencyList})
    def agencies(self, request, actor):
        return self.routing.agencies(read_query(request, schemas.AgencyQuery))

    @api("GET", "/agencies/records", "agencies.records",
         "How each agency answered the caller's cases over a period",
         query=schemas.RecordQuery, answers={200: schemas.AgencyRecords})
    def agency_records(self, request, actor):
        return self.records_of(actor, request)

    @api("GET", "/agencies/records.csv", "agencies.records_csv", "The same, as CSV",
         query=schemas.RecordQuery, answers={200: schemas.CSV})
    def agency_records_csv(self, request, actor):
        return self.records_csv(actor, read_query(request, schemas.RecordQuery))

    def records_csv(self, actor, query):
        """The agencies' record of a period (a loaded schemas.RecordQuery) as CSV."""
        records = self.requests.agency_records(actor, **schemas.record_period(query))
        return csv_response(
            f"jembatan-agency-records-{records['from']}-{records['to']}.csv",
            ("from", "to", "agency_id", "agency") + RECORD_COUNTS,
            [(records["from"], records["to"], row["agency"]["id"], row["agency"]["name"],
              *("" if row[name] is None else row[name] for name in RECORD_COUNTS))
             for row in records["items"]])

    def records_of(self, actor, request):
        query = read_query(request, schemas.RecordQuery)
        return self.requests.agency_records(actor, **schemas.record_period(query))

    @api("GET", "/routing/rules", "routing.rules", "The routing rules in force",
         query=schemas.Page, answers={200: schemas.RuleList})
    def rules(self, request, actor):
        return self.routing.rules(read_query(request, schemas.Page),
                                  regency=policy.rules_regency(actor))

    @api("POST", "/routing/preview", "routing.preview",
         "The decision routing would take for a village of the caller's area",
         body=commands.PreviewInput, answers={200: schemas.PreviewOut, 404: schemas.Error})
    def preview(self, request, actor):
        body = read_json(request, commands.PreviewInput)
        unknown = NotFound(text("Desa/kelurahan tidak ditemukan di wilayah Anda.",
                                "No such village in your area."),
                           {"village_code": [text("Tidak ditemukan.", "Not found.")]})
        try:
            village = self.villages.get_village(body["village_code"])
        except NotFound:
            raise unknown from None
        if not policy.sees_place(actor, village["code"], village["district"]["code"],
                                 village["regency"]["code"]):
            raise unknown
        return self.routing.preview(village, body, lang=language(request))
