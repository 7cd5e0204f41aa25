"""The pages of the web app, for every role (templates in services/gateway/templates).

Each page calls the same service RPCs as the API, with the person signed in as the actor: the
services apply the same access policy and domain rules. A form refused shows each error next
to its field (web.field_errors) with what the person typed; a form done redirects (303) to
the page that shows the result.
"""
import secrets
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, fields, validate
from werkzeug.wrappers import Response

from services.gateway import accounts, photos, schemas, storage, webtext
from services.gateway.models import Actor
from services.gateway.http import (
    TooManyRequests, Unauthorized, filled, load_body, load_query, read_upload,
)
from services.gateway.web import (
    SESSION_COOKIE, field_errors, page, redirect, render, session_cookie, static_file,
)
from shared import commands, config, policy
from shared.categories import CATEGORIES
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events import NOTIFIED_EVENTS, SEVERITIES
from shared.i18n import text

HOME = {policy.VILLAGE: "/cases", policy.AGENCY: "/inbox", policy.COORDINATOR: "/board",
        policy.REGENCY: "/escalations", policy.ADMIN: "/board"}
REPORT_FIELDS = ("category", "title", "description", "severity", "affected_people")
# What a form's refusal can be: it is shown on the form, next to its field.
FORM_REFUSALS = (ValidationFailed, Conflict, NotFound)
SENT_BEFORE = text("Formulir ini sudah terkirim sebelumnya dengan isi lain. Bila ini laporan "
                   "baru, periksa isiannya lalu kirim sekali lagi.",
                   "This form was sent before with other content. If this is a new report, "
                   "check it and send it once more.")
PHOTO_NOT_KEPT = text("Kemajuan tersimpan, tetapi fotonya tidak:", "The progress was saved, "
                      "but not its photo:")


class ReportForm(Schema):
    """What the report form reads before the villages service checks the report as for POST
    /reports: numbers typed as text, the location apart, and the key that makes a second tap
    harmless."""

    class Meta:
        unknown = EXCLUDE

    affected_people = fields.Integer()
    lat = fields.Float()
    lon = fields.Float()
    share_location = fields.Boolean(load_default=False)
    confidential = fields.Boolean(load_default=False)
    idempotency_key = fields.String(required=True, validate=validate.Length(1, 200))


class TaskForm(Schema):
    class Meta:
        unknown = EXCLUDE

    note = fields.Raw()
    reason = fields.Raw()


def safe_next(target):
    """Where to go after signing in: a path of this site only (a browser reads a backslash
    as a slash: "/\\evil.example" is another site)."""
    target = target or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


def form_values(request):
    """What the person typed (to show it again), without the CSRF token; nothing of a body
    refused for its size (it was not read)."""
    if getattr(request, "drained", False):
        return {}
    return {key: value for key, value in request.form.items() if key != "csrf_token"}


def query_of(request, schema):
    """A list page's query string, checked as the API checks it (`schema`): (what it loads
    to, and the values given, to show them again). Parameters left empty are not given."""
    keys = {field.data_key or name for name, field in schema().fields.items()}
    values = {key: value for key, value in filled(request.args).items() if key in keys}
    return load_query(values, schema), values


def new_key():
    return secrets.token_urlsafe(16)


class WebPages:
    """Mixed into the gateway service: its RPC proxies and accounts serve the pages too."""

    # -- signing in ------------------------------------------------------------------------------

    @page("GET", "/", public=True)
    def home_page(self, request, actor):
        return redirect(HOME[actor["role"]] if actor else "/login")

    @page("GET", "/login", public=True)
    def login_page(self, request, actor):
        if actor:
            return redirect(HOME[actor["role"]])
        return render(request, "login.html", values={}, errors={},
                      next=safe_next(request.args.get("next")) or "")

    @page("POST", "/login", public=True)
    def login_form(self, request, actor):
        values = form_values(request)
        try:
            given = load_body({key: value for key, value in filled(values).items()
                               if key in ("username", "password")}, schemas.LoginInput)
            _token, secret, account = self.sign_in(request, given["username"].strip(),
                                                   given["password"])
        except ValidationFailed as exc:
            errors, status = field_errors(exc), exc.status
        except (Unauthorized, TooManyRequests) as refusal:
            errors, status = {"password": [refusal.message]}, refusal.status
        else:
            target = safe_next(values.get("next")) or HOME[account.role]
            return session_cookie(redirect(target), request, secret)
        return render(request, "login.html", status=status,
                      values={"username": values.get("username", "")}, errors=errors,
                      next=safe_next(values.get("next")) or "")

    @page("POST", "/logout")
    def logout_form(self, request, actor):
        self.sign_out(request, actor)
        response = redirect("/login")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @page("GET", "/static/<path:name>", public=True)
    def static_page(self, request, actor, name):
        return static_file(name)

    # -- reporting -------------------------------------------------------------------------------

    def report_form(self, request, values, errors, status=200):
        return render(request, "report_new.html", status=status, values=values, errors=errors,
                      categories=CATEGORIES, severities=SEVERITIES)

    @page("GET", "/reports/new", operation="reports.create")
    def new_report_page(self, request, actor):
        return self.report_form(request, {"idempotency_key": new_key()}, {})

    @page("POST", "/reports/new", operation="reports.create", upload=True)
    def report_form_sent(self, request, actor):
        try:
            data, form = read_upload(request, ReportForm)
            report = {key: form.get(key, request.form.get(key)) for key in REPORT_FIELDS
                      if request.form.get(key, "").strip()}
            report["confidential"] = form["confidential"]
            if "lat" in form or "lon" in form:
                report["location"] = {key: form[key] for key in ("lat", "lon") if key in form}
            photo = photos.prepare_aside(data, form["share_location"]) if data else None
            if photo is None:
                accepted = self.villages.submit_report(actor, report, form["idempotency_key"])
            else:
                with storage.kept(photo):
                    accepted = self.villages.submit_report(
                        actor, report, form["idempotency_key"], photos=[photo.metadata()])
        except FORM_REFUSALS as exc:
            shown = form_values(request)
            errors = field_errors(exc)
            if "Idempotency-Key" in errors:  # the form was sent before, with other content
                errors, shown["idempotency_key"] = {"body": [SENT_BEFORE]}, new_key()
            shown.setdefault("idempotency_key", new_key())
            return self.report_form(request, shown, errors, status=exc.status)
        return redirect(f"/cases/{accepted['tracking_number']}?done=reported")

    # -- cases -----------------------------------------------------------------------------------

    @page("GET", "/cases")
    def cases_page(self, request, actor):
        query, values = query_of(request, schemas.CaseQuery)
        listed = self.requests.list_cases(actor, query, lang=request.lang)
        return render(request, "cases.html", listed=listed, values=values)

    @page("GET", "/cases/<case_id>")
    def case_page_read(self, request, actor, case_id):
        return self.case_page(request, actor, case_id)

    def case_page(self, request, actor, case_id, errors=None, values=None, status=200):
        try:
            case = self.requests.get_case(actor, case_id, lang=request.lang)
            timeline = self.requests.timeline(actor, case["id"], {"page": 1, "per_page": 100},
                                              lang=request.lang)["items"]
        except NotFound:  # reported a moment ago: the village still finds it
            case = self.villages.reported_case(actor, case_id, lang=request.lang)
            timeline = []
        agencies = []
        if actor["role"] in policy.SUPERVISORS:
            agencies = self.routing.agencies({"regency": case["regency"]["code"],
                                              "page": 1, "per_page": 100})["items"]
        return render(request, "case.html", status=status, case=case, timeline=timeline,
                      agencies=agencies, errors=errors or {}, values=values or {},
                      done=request.args.get("done"))

    @page("POST", "/cases/<case_id>/<any(comment,confirm,reopen,escalate,cancel,merge):action>",
          operation="cases.{action}")
    def case_form(self, request, actor, case_id, action):
        values = form_values(request)
        body, lang = filled(values), request.lang
        try:
            if action == "comment":
                self.requests.add_comment(actor, case_id, body, lang=lang)
            else:
                case = getattr(self.requests, action)(actor, case_id, body, lang=lang)
                case_id = case["tracking_number"] if action != "merge" else case_id
        except FORM_REFUSALS as exc:
            return self.case_page(request, actor, case_id, errors={action: field_errors(exc)},
                                  values={action: values}, status=exc.status)
        return redirect(f"/cases/{case_id}?done={action}")

    @page("POST", "/cases/<case_id>/route", operation="cases.route")
    def route_form(self, request, actor, case_id):
        values = {**form_values(request), "supports": request.form.getlist("supports")}
        body = {"note": values.get("note", ""), "supports": values["supports"]}
        if values.get("lead"):
            body["lead"] = values["lead"]
        try:
            context = self.requests.case_context(actor, case_id)
            plan = self.routing.plan_manual_route(actor, context, body)
            self.requests.route(actor, context["id"], plan, lang=request.lang)
        except FORM_REFUSALS as exc:
            return self.case_page(request, actor, case_id, errors={"route": field_errors(exc)},
                                  values={"route": values}, status=exc.status)
        return redirect(f"/cases/{case_id}?done=route")

    @page("POST", "/cases/<case_id>/photos", operation="cases.attach", upload=True)
    def photo_form(self, request, actor, case_id):
        try:
            self.attach_upload(request, actor, case_id, request.lang)
        except FORM_REFUSALS as exc:
            return self.case_page(request, actor, case_id, errors={"photo": field_errors(exc)},
                                  status=exc.status)
        return redirect(f"/cases/{case_id}?done=photo")

    @page("POST", "/cases/<case_id>/tasks/<task_id>/"
                  "<any(accept,decline,progress,complete,withdraw,lead):action>",
          operation="tasks.{action}", upload=True)
    def task_form(self, request, actor, case_id, task_id, action):
        key = f"task-{task_id}-{action}"
        try:
            data, body = read_upload(request, TaskForm)
            # A photo goes with progress only; it is checked before the progress is recorded.
            photo = photos.prepare_aside(data) if data and action == "progress" else None
            if action in ("withdraw", "lead"):
                self.requests.supervise_task(actor, case_id, task_id, action, body,
                                             lang=request.lang)
            else:
                self.requests.task_action(actor, case_id, task_id, action, body,
                                          lang=request.lang)
        except FORM_REFUSALS as exc:
            return self.case_page(request, actor, case_id, errors={key: field_errors(exc)},
                                  values={key: form_values(request)}, status=exc.status)
        if photo is not None:
            try:
                self.keep_photo(actor, case_id, photo, request.lang)
            except FORM_REFUSALS as exc:
                reasons = [reason for messages in field_errors(exc).values()
                           for reason in messages]
                return self.case_page(request, actor, case_id, status=exc.status, errors={
                    key: {"photo": [PHOTO_NOT_KEPT, *reasons]}})
        if action == "decline":  # the agency no longer sees the case
            return redirect("/inbox?done=decline")
        return redirect(f"/cases/{case_id}?done={action}")

    @page("GET", "/cases/<case_id>/photos/<attachment_id>", operation="attachments.read")
    def photo_page(self, request, actor, case_id, attachment_id):
        return self.photo_response(actor, case_id, attachment_id)

    @page("GET", "/cases/<case_id>/photos/<attachment_id>/thumbnail",
          operation="attachments.thumbnail")
    def thumbnail_page(self, request, actor, case_id, attachment_id):
        return self.photo_response(actor, case_id, attachment_id, thumbnail=True)

    # -- agencies, coordinators, the regency office ------------------------------------------

    @page("GET", "/inbox", roles=(policy.AGENCY,))
    def inbox_page(self, request, actor):
        """The agency's open cases, the next deadline first; overdue ones marked."""
        page, _given = query_of(request, schemas.Page)
        listed = self.requests.list_cases(actor, {**page, "agency": actor["scope"],
                                                  "open": True, "sort": "deadline"},
                                          lang=request.lang)
        return render(request, "inbox.html", listed=listed, done=request.args.get("done"))

    @page("GET", "/board", roles=policy.OVERSEERS)
    def board_page(self, request, actor):
        query, values = query_of(request, schemas.CaseQuery)
        listed = self.requests.list_cases(actor, query, lang=request.lang)
        summary = self.requests.summary(actor, lang=request.lang)
        return render(request, "board.html", listed=listed, summary=summary, values=values,
                      categories=CATEGORIES, statuses=schemas.CASE_STATUSES,
                      poll_seconds=config.board_poll_seconds())

    @page("GET", "/board/stamp", roles=policy.OVERSEERS)
    def board_stamp_page(self, request, actor):
        """What changed last on the board (its page polls this to know when to reload)."""
        latest = self.requests.list_cases(actor, {"sort": "updated", "page": 1, "per_page": 1},
                                          lang=request.lang)
        stamp = f"{latest['total']}:" + (latest["items"][0]["updated_at"]
                                         if latest["items"] else "")
        return Response(stamp, content_type="text/plain; charset=utf-8")

    @page("GET", "/records", operation="agencies.records")
    def records_page(self, request, actor):
        query, given = query_of(request, schemas.RecordQuery)
        return render(request, "records.html", given=given,
                      records=self.requests.agency_records(
                          actor, **schemas.record_period(query)))

    @page("GET", "/records.csv", operation="agencies.records_csv")
    def records_csv_page(self, request, actor):
        return self.records_csv(actor, query_of(request, schemas.RecordQuery)[0])

    # -- actors (an admin everywhere, a regency office in its regency) -------------------------

    @page("GET", "/actors", operation="actors.list")
    def actors_page(self, request, actor):
        query, values = query_of(request, schemas.ActorQuery)
        listed = self.actors_of(actor, query)
        return render(request, "actors.html", listed=listed, values=values, roles=policy.ROLES)

    @page("GET", "/actors/new", operation="actors.create")
    def new_actor_page(self, request, actor):
        return render(request, "actor_new.html", values={}, errors={}, roles=policy.ROLES)

    @page("POST", "/actors/new", operation="actors.create")
    def actor_form_sent(self, request, actor):
        values = form_values(request)
        try:
            body = load_body(filled(values), schemas.ActorInput)
            created = self.add_actor(request, actor, body)
        except FORM_REFUSALS as exc:
            return render(request, "actor_new.html", status=exc.status, values=values,
                          errors=field_errors(exc), roles=policy.ROLES)
        return redirect(f"/actors/{created['id']}?done=created")

    @page("GET", "/actors/<actor_id>", operation="actors.read")
    def actor_page(self, request, actor, actor_id, errors=None, status=200):
        return render(request, "actor.html", status=status, person=self.actor_detail(
            actor, actor_id), errors=errors or {}, done=request.args.get("done"))

    @page("POST", "/actors/<actor_id>/<any(disable,enable,password):action>",
          operation="actors.{action}")
    def actor_action(self, request, actor, actor_id, action):
        values = filled(form_values(request))
        try:
            if action == "password":
                self.set_actor_password(request, actor, actor_id,
                                        load_body(values, schemas.PasswordInput))
            else:
                self.set_disabled(request, actor, actor_id, action == "disable",
                                  load_body(values, schemas.DisableInput))
        except FORM_REFUSALS as exc:
            return self.actor_page(request, actor, actor_id, errors={action: field_errors(exc)},
                                   status=exc.status)
        return redirect(f"/actors/{actor_id}?done={action}")

    # -- one's own notification settings --------------------------------------------------------

    @page("GET", "/settings")
    def settings_page(self, request, actor, errors=None, values=None, status=200):
        with self.store.read() as session:
            channels = accounts.channels_view(session.get(Actor, actor["id"]))
        preferences = (self.notifications.preferences(actor)
                       if policy.role_may(actor["role"], "preferences.read") else None)
        following = (self.notifications.subscriptions(actor, {"per_page": 100})["items"]
                     if policy.role_may(actor["role"], "subscriptions.list") else None)
        return render(request, "settings.html", status=status, channels=channels,
                      values=values if values is not None else {
                          name: "" if value is None else value for name, value in channels.items()},
                      preferences=preferences, following=following, categories=CATEGORIES,
                      errors=errors or {},
                      done=request.args.get("done"), event_words=webtext.EVENT_WORDS,
                      channel_words=webtext.CHANNEL_WORDS,
                      settings_done_words=webtext.SETTINGS_DONE_WORDS)

    @page("POST", "/settings/channels", operation="me.channels")
    def settings_channels_sent(self, request, actor):
        values = form_values(request)
        body = {"email": values.get("email", "").strip() or None,
                "phone": values.get("phone", "").strip() or None,
                "whatsapp": values.get("whatsapp") == "on",
                "language": values.get("language") or "id"}
        try:
            self.set_channels(request, actor, actor["id"],
                              load_body(body, schemas.ChannelsInput), own=True)
        except FORM_REFUSALS as exc:
            return self.settings_page(request, actor, errors=field_errors(exc),
                                      values={**body, **values}, status=exc.status)
        return redirect("/settings?done=channels")

    @page("POST", "/settings/preferences", operation="preferences.update")
    def settings_preferences_sent(self, request, actor):
        available = self.notifications.preferences(actor)["available"]
        chosen = {event: [channel for channel in available
                          if f"{event}:{channel}" in request.form]
                  for event in NOTIFIED_EVENTS}
        self.notifications.set_preferences(actor, {"events": chosen,
                                                   "digest": "digest" in request.form})
        return redirect("/settings?done=preferences")

    @page("POST", "/settings/subscriptions", operation="subscriptions.create")
    def settings_subscription_sent(self, request, actor):
        values = form_values(request)
        body = {**filled({k: v for k, v in values.items() if k in ("category", "village")}),
                "overdue": values.get("overdue") == "on"}
        try:
            self.follow(actor, load_body(body, commands.SubscriptionInput))
        except FORM_REFUSALS as exc:
            return self.settings_page(request, actor, errors={"follow": field_errors(exc)},
                                      status=exc.status)
        return redirect("/settings?done=following")

    @page("POST", "/settings/subscriptions/<subscription_id>/delete",
          operation="subscriptions.delete")
    def settings_unsubscribe_sent(self, request, actor, subscription_id):
        self.notifications.unsubscribe(actor, subscription_id)
        return redirect("/settings?done=unfollowed")

    # -- announcements ---------------------------------------------------------------------------

    @page("GET", "/announcements", operation="announcements.list")
    def announcements_page(self, request, actor):
        page_query, _given = query_of(request, schemas.Page)
        return render(request, "announcements.html",
                      listed=self.notifications.announcements(actor, page_query))

    @page("GET", "/announcements/new", operation="announcements.create")
    def new_announcement_page(self, request, actor):
        return render(request, "announcement_new.html", values={}, errors={})

    @page("POST", "/announcements/new", operation="announcements.create")
    def announcement_form_sent(self, request, actor):
        values = form_values(request)
        area = "district" if actor["role"] == policy.COORDINATOR else "regency"
        try:
            body = load_body({**filled(values), area: actor["scope"]},
                             commands.AnnouncementInput)
            sent = self.announce(actor, body)
        except FORM_REFUSALS as exc:
            return render(request, "announcement_new.html", status=exc.status, values=values,
                          errors=field_errors(exc))
        return redirect(f"/announcements/{sent['id']}?done=sent")

    @page("GET", "/announcements/<announcement_id>", operation="announcements.read")
    def announcement_page(self, request, actor, announcement_id):
        if actor["role"] == policy.VILLAGE:  # opened here, it is read
            self.notifications.mark_all_read(actor, announcement_id=announcement_id)
        return render(request, "announcement.html",
                      announcement=self.notifications.announcement(actor, announcement_id),
                      done=request.args.get("done"))

    @page("POST", "/announcements/<announcement_id>/remind", operation="announcements.remind")
    def announcement_remind_sent(self, request, actor, announcement_id):
        try:
            reminded = self.notifications.remind(actor, announcement_id)["reminded"]
        except Conflict:
            return redirect(f"/announcements/{announcement_id}?done=all_read")
        return redirect(f"/announcements/{announcement_id}?done=reminded&count={reminded}")

    @page("GET", "/escalations", roles=policy.OVERSEERS)
    def escalations_page(self, request, actor):
        page, _given = query_of(request, schemas.Page)
        listed = self.requests.escalations(actor, page, lang=request.lang)
        return render(request, "escalations.html", listed=listed)


