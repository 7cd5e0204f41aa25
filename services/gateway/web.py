"""The web app's edge: server-rendered pages (Jinja2) on the same server as the API.

A page is declared with `@page(METHOD, PATH, roles=…)`: who may open it. A form that acts
names instead the API's `operation` (shared/policy.py), so the same role rule answers; the
services then check the jurisdiction and the domain rules exactly as for the API.

The person is known by the session cookie, holding a session token of the same kind as
`POST /api/v1/auth/login` gives (HttpOnly, SameSite=Lax; Secure behind HTTPS). Every POST
carries the CSRF token of its page (form_token: the CSRF cookie signed and bound to the
session), and a cross-site Origin is refused. The language is the `lang` of the query (remembered in a cookie), else the cookie,
else the browser's.
"""
import hmac
import logging
import re
import secrets
from datetime import datetime
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from eventlet.event import Event
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.security import safe_join
from werkzeug.utils import redirect as werkzeug_redirect
from werkzeug.wrappers import Response

from services.gateway import http, photos, webtext
from services.gateway.http import FORM_ROOM, EdgeServer, Gatekeeper, refusal_of
from shared import config, policy, signing
from shared.categories import category_name
from shared.errors import Forbidden, JembatanError, NotFound
from shared.i18n import LANGUAGES, localize, pick_language, text
from shared.timezones import local_time

log = logging.getLogger(__name__)

SESSION_COOKIE = "jembatan_session"
CSRF_COOKIE = "jembatan_csrf"
LANG_COOKIE = "jembatan_lang"
CSRF_FIELD = "csrf_token"
YEAR = 365 * 24 * 3600
STATIC = Path(__file__).parent / "static"
PAGE_HEADERS = {
    "Referrer-Policy": "same-origin",  # so that our forms send their Origin (check_form)
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; object-src 'none'",
}

# (method, url) -> the page's declaration: who may open it (the page access test reads it)
PAGES = {}
templates = Environment(loader=PackageLoader("services.gateway", "templates"),
                        autoescape=select_autoescape(("html",)), undefined=StrictUndefined,
                        trim_blocks=True, lstrip_blocks=True)


class PageRefused(JembatanError):
    """A cross-site form, or one without the right CSRF token."""

    code, status = "forbidden", 403


def page_language(request):
    """The language of the page: ?lang= (remembered), the cookie, the browser's."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in LANGUAGES:
        return remembered
    return pick_language(request.headers.get("Accept-Language"))


def secure(request):
    return request.scheme == "https"


def redirect(location):
    return werkzeug_redirect(location, code=303)


def render(request, template, status=200, **context):
    """The page `template` in the request's language, for the person signed in."""
    lang, me = request.lang, request.principal
    body = templates.get_template(template).render(
        lang=lang, _=webtext.translator(lang), t=partial(localize, lang=lang), me=me,
        csrf_token=request.csrf, lang_switch=lang_switch(request),
        may=lambda operation: me is not None and policy.role_may(me.role, operation),
        when=partial(shown_time, code=(me and me.regency) or ""),
        category_name=partial(category_name, lang=lang),
        page_query=partial(page_query, request),
        severity_words=webtext.SEVERITY_WORDS,
        status_words=webtext.STATUS_WORDS, status_hints=webtext.STATUS_HINTS,
        task_words=webtext.TASK_WORDS, sort_words=webtext.SORT_WORDS,
        done_words=webtext.DONE_WORDS, role_words=webtext.ROLE_WORDS,
        actor_done_words=webtext.ACTOR_DONE_WORDS, upload_max_bytes=config.upload_max_bytes(),
        upload_mb=f"{config.upload_max_bytes() / 1_000_000:g}", **context)
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def shown_time(moment, code):
    """An ISO time of the API as people of the area read it: '24-11-2026 14:00 WIB'."""
    if not moment:
        return ""
    return local_time(datetime.fromisoformat(moment.replace("Z", "+00:00")), code)


def page_query(request, number):
    """This page's query string, at page `number`."""
    return urlencode({**{key: value for key, value in request.args.items() if key != "page"},
                      "page": number})


def lang_switch(request):
    """The address of this page in the other language."""
    other = "en" if request.lang == "id" else "id"
    query = {key: value for key, value in request.args.items() if key != "lang"}
    return request.path + "?" + urlencode({**query, "lang": other})


def error_page(request, exc):
    """A refusal or a failure as a page (the API's messages, in the page's language)."""
    refusal = refusal_of(exc)
    return render(request, "error.html", status=refusal.status, error=refusal)


def field_errors(exc):
    """A refusal's details as {field: [messages]}, nested fields by their last name
    (location.lat is the form's lat); a refusal of no field in particular under `body`."""
    if not exc.details:
        return {"body": [exc.message]}
    flat = {}

    def walk(details):
        for field, messages in details.items():
            if isinstance(messages, dict) and set(messages) != set(LANGUAGES):
                walk(messages)
            else:
                flat.setdefault(str(field), []).extend(
                    messages if isinstance(messages, list) else [messages])
    walk(exc.details if isinstance(exc.details, dict) else {"body": exc.details})
    return flat


class PageEndpoint(HttpRequestHandler):
    """`@page("GET", "/board", roles=policy.OVERSEERS)`, `@page("POST", "/cases/<case_id>/
    comment", operation="cases.comment")`, `@page("GET", "/login", public=True)`.

    An `upload` page takes a body up to the photo limit, and must read it with
    http.read_upload before anything else: too large a body is refused there, naming the
    field, before its CSRF token could be read.

    The method is called as `method(request, actor=…, **path values)` and returns a
    werkzeug Response (web.render, web.redirect). A refusal it raises becomes an error page.
    An `operation` may name a path value in braces ("cases.{action}").
    """

    server = EdgeServer()
    gatekeeper = Gatekeeper()

    def __init__(self, method, url, roles=policy.SIGNED_IN, operation=None, public=False,
                 upload=False, **kwargs):
        assert operation is None or "{" in operation or operation in policy.OPERATIONS, operation
        self.roles, self.operation, self.public, self.upload = roles, operation, public, upload
        PAGES[(method, url)] = self
        super().__init__(method, url, **kwargs)

    def allowed(self, principal, values):
        if self.operation is not None:
            operation = self.operation.format(**values)
            return operation in policy.OPERATIONS and policy.role_may(principal.role, operation)
        return principal.role in self.roles

    def handle_request(self, request):
        request.shallow = False
        request.lang = page_language(request)
        request.csrf_cookie = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.principal = None
        request.csrf = form_token(request.csrf_cookie, None)
        try:
            response = self.respond(request)
        except Exception as exc:  # every failure is a page in the person's language
            if isinstance(exc, Forbidden):
                self.gatekeeper.record("access.forbidden", request.principal, request,
                                       target=f"{request.method} {request.path}")
            response = error_page(request, exc)
        if request.cookies.get(CSRF_COOKIE) != request.csrf_cookie:
            response.set_cookie(CSRF_COOKIE, request.csrf_cookie, httponly=True, samesite="Lax",
                                secure=secure(request), path="/", max_age=YEAR)
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie(LANG_COOKIE, request.lang, max_age=YEAR, samesite="Lax",
                                secure=secure(request), path="/")
        for name, value in PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def way_back(self, request):
        """Where signing in leads back to: this page; for a form, the page it is on."""
        if request.method == "GET":
            return request.full_path.rstrip("?")
        if ("GET", self.url) in PAGES:
            return request.path
        case_page = re.match(r"/cases/[^/]+", request.path)
        return case_page.group(0) if case_page else "/"

    def respond(self, request):
        gate = self.gatekeeper
        if config.rate_limit_per_address():
            gate.throttle(f"addr:{request.remote_addr}", gate.per_address)
        if any("\x00" in str(value) for value in request.path_values.values()):
            raise NotFound(text("Halaman tidak ditemukan.", "Page not found."))
        principal = gate.principal_of(request.cookies.get(SESSION_COOKIE))
        request.principal, request.token_id = principal, principal and principal.token_id
        request.csrf = form_token(request.csrf_cookie, principal)
        if principal is None and not self.public:  # nothing is done: sign in first
            return redirect("/login?" + urlencode({"next": self.way_back(request)}))
        if request.method == "POST":
            limit = config.upload_max_bytes() + FORM_ROOM
            if (request.content_length or 0) > limit and self.upload:
                pass  # the page reads the upload first, and refuses it naming its field
            elif (request.content_length or 0) > limit:
                raise photos.too_large()
            else:
                request.max_content_length = limit
                try:
                    check_form(request)
                except RequestEntityTooLarge:
                    raise photos.too_large() from None
        if not self.public:
            gate.throttle(f"token:{principal.token_id}", gate.per_token)
            if not self.allowed(principal, request.path_values):
                raise policy.forbidden()
        args, kwargs = self.get_entrypoint_parameters(request)
        kwargs["actor"] = principal and principal.as_dict()
        done = Event()
        self.container.spawn_worker(self, args, kwargs, context_data={},
                                    handle_result=partial(self.handle_result, done))
        return done.wait()


def form_token(cookie, principal):
    """The CSRF token the forms of a page carry: the CSRF cookie's value, signed with the
    system's key and bound to the session, so a cookie another site planted is of no use."""
    session = principal.token_id if principal else ""
    return signing.signature(f"csrf|{cookie}|{session}".encode())


def check_form(request):
    """A POST from our own pages only: no other origin (pages send their Origin: see
    Referrer-Policy), and the CSRF token of this cookie and session."""
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        raise PageRefused(text("Formulir dari situs lain ditolak.",
                               "A form from another site was refused."))
    sent = request.form.get(CSRF_FIELD, "")
    if not request.cookies.get(CSRF_COOKIE) or \
            not hmac.compare_digest(sent.encode(), request.csrf.encode()):
        raise PageRefused(text("Formulir kedaluwarsa; muat ulang halaman dan coba lagi.",
                               "The form has expired; reload the page and try again."))


def session_cookie(response, request, token):
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Lax",
                        secure=secure(request), path="/",
                        max_age=int(config.session_hours() * 3600))
    return response


def static_file(name):
    """A file of the web app's static folder (CSS, script, icons), cached a day."""
    path = safe_join(str(STATIC), name)
    if path is None or not Path(path).is_file():
        raise NotFound(text("Berkas tidak ditemukan.", "File not found."))
    kinds = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
    response = Response(Path(path).read_bytes(),
                        content_type=kinds.get(Path(path).suffix, "application/octet-stream"))
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def not_found_page(request):
    """An unknown address outside the API, as a page."""
    request.lang = page_language(request)
    request.csrf, request.principal = "", None
    response = error_page(request, NotFound(text("Halaman tidak ditemukan.", "Page not found.")))
    for name, value in PAGE_HEADERS.items():
        response.headers[name] = value
    return response


http.page_not_found = not_found_page
page = PageEndpoint.decorator
