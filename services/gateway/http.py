"""The HTTP edge: who is calling, JSON in and out, and the contract's error shape for every
failure, with the headers every response carries.

An endpoint is declared with `@api(METHOD, PATH, OPERATION, …)`. Before its method runs, the
edge (`ApiEndpoint.handle_request`) applies the rate limits, reads the bearer token and checks
the caller's role against the access policy (shared/policy.py) for that operation; the method
then receives the caller as `actor`. The same declaration feeds the OpenAPI document.
"""
import csv
import io
import json
import logging
from functools import partial

import eventlet
from eventlet.event import Event
from kombu.exceptions import OperationalError
from marshmallow import ValidationError
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import SharedExtension
from nameko.rpc import RpcProxy
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request, Response

from services.gateway import accounts, audit, limits, photos
from services.gateway.models import Base
from shared import commands, config, policy, signing
from shared.commands import not_an_object
from shared.db import Store
from shared.errors import Forbidden, JembatanError, NotFound, ValidationFailed
from shared.events import utcnow
from shared.i18n import LANGUAGES, localize, pick_language, text
from shared.messaging import ResilientReplyListener

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
API_PATHS = (PREFIX + "/", "/open311/")  # an unknown address here is answered as the API's
# A signed call stays valid this much longer than the gateway waits, for clocks a little apart.
CLOCK_SLACK_SECONDS = 30
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Unauthorized(JembatanError):
    code, status = "unauthorized", 401


class PayloadTooLarge(JembatanError):
    code, status = "payload_too_large", 413


class Unavailable(JembatanError):
    code, status = "unavailable", 503


class TooManyRequests(JembatanError):
    code, status = "rate_limited", 429

    def __init__(self, retry_after, message=None):
        super().__init__(message or text(
            f"Terlalu banyak permintaan; coba lagi dalam {retry_after} detik.",
            f"Too many requests; try again in {retry_after} seconds."))
        self.headers = {"Retry-After": str(retry_after)}


class MethodRefused(JembatanError):
    code, status = "method_not_allowed", 405

    def __init__(self, allowed):
        super().__init__(text("Metode ini tidak tersedia untuk alamat ini.",
                              "This method is not available at this address."),
                         {"method": [text(f"Yang tersedia: {', '.join(allowed)}.",
                                          f"Available: {', '.join(allowed)}.")]})
        self.headers = {"Allow": ", ".join(allowed)}


def unauthorized():
    return Unauthorized(text("Token tidak ada, tidak dikenal, kedaluwarsa, atau sudah dicabut.",
                             "The token is missing, unknown, expired or revoked."))


def language(request):
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    return pick_language(request.headers.get("Accept-Language"))


def json_response(status, body, headers=None):
    if body is None:
        return empty_response(status, headers)
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula


def csv_response(filename, header, rows, headers=None):
    """A CSV file to download: its header row, then `rows`. A text a spreadsheet would take
    for a formula (=, +, -, @ first) is written with a ' before it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([f"'{cell}" if isinstance(cell, str) and cell[:1] in FORMULA_STARTS
                      else cell for cell in row] for row in rows)
    return Response(out.getvalue(), status=200, content_type="text/csv; charset=utf-8",
                    headers={**(headers or {}),
                             "Content-Disposition": f'attachment; filename="{filename}"'})


def empty_response(status, headers=None):
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


def field_lists(details):
    """The contract's `details`: each field names a list of messages (nested where nested)."""
    if isinstance(details, dict):
        return {str(key): (value if isinstance(value, list) else [value])
                if not isinstance(value, dict) else field_lists(value)
                for key, value in details.items()}
    return {"body": details if isinstance(details, list) else [details]}


# What a service raises when its own database does not answer (SQLAlchemy's names).
DATABASE_DOWN = ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")


class InternalError(JembatanError):
    code, status = "internal_error", 500


def refusal_of(exc):
    """What the caller is told of a failure (the API's error, or the web app's error page):
    the refusal itself; a database that does not answer as 503; anything else as 500, logged,
    never its stack trace."""
    if isinstance(exc, RequestEntityTooLarge):
        return too_large()
    failed = exc.exc_type if isinstance(exc, RemoteError) else type(exc).__name__
    if failed in DATABASE_DOWN:  # a service's database, or the gateway's own
        log.warning("a service's database is unavailable: %s", exc)
        return Unavailable(text("Basis data sebuah layanan sedang tidak tersedia; coba lagi "
                                "sebentar lagi.",
                                "A service's database is unavailable; try again shortly."))
    if not isinstance(exc, JembatanError):
        log.error("unexpected error answering a request", exc_info=exc)
        return InternalError(text("Terjadi kesalahan di server; sudah dicatat.",
                                  "Something went wrong on the server; it has been logged."))
    return exc


def error_response(exc, lang):
    exc = refusal_of(exc)
    return json_response(exc.status, {"error": {
        "code": exc.code, "message": localize(exc.message, lang),
        "details": field_lists(localize(exc.details, lang))}}, getattr(exc, "headers", None))


def too_large():
    limit = config.max_body_bytes()
    return PayloadTooLarge(text(f"Isi permintaan melebihi {limit} bita.",
                                f"The body is larger than {limit} bytes."))


def not_json():
    return ValidationFailed(text("Isi permintaan bukan JSON yang sah.",
                                 "The body is not valid JSON."),
                            {"body": [text("Bukan JSON yang sah.", "Not valid JSON.")]})


def read_json(request, schema=None, optional=False):
    """The request body as a JSON object (loaded through `schema` when given); refuses what
    is not. An `optional` body may be empty, and reads as {}."""
    limit = config.max_body_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    request.max_content_length = limit + 1  # a body that goes past the limit is read that far
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise too_large()
    if not raw.strip() and optional:
        body = {}
    else:
        try:
            decoded = raw.decode("utf-8")
            if "\x00" in decoded or "\\u0000" in decoded:
                raise ValueError("NUL character")
            body = json.loads(decoded, parse_constant=_refuse_constant) if raw else None
            json.dumps(body, ensure_ascii=False).encode("utf-8")  # a lone surrogate is not text
        except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError: ValueErrors
            raise not_json() from None
    if not isinstance(body, dict):
        raise not_an_object()
    return body if schema is None else load_body(body, schema)


def load_body(body, schema):
    """A body (the API's JSON, or a web form's fields) loaded through `schema`."""
    try:
        return commands.schema(schema).load(body)
    except ValidationError as exc:
        raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), exc.messages) from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def read_query(request, schema):
    return load_query(request.args.to_dict(), schema)


def load_query(values, schema):
    try:
        return commands.schema(schema).load(values)
    except ValidationError as exc:
        raise ValidationFailed(text("Parameter tidak sah.", "Invalid query parameter."),
                               exc.messages) from None


def filled(fields):
    """The fields of a form that were given: one left empty is a field not given."""
    return {key: value for key, value in fields.items() if value.strip()}


# Room for a form's other fields and its multipart framing, besides the file.
FORM_ROOM = 64 * 1024
# A body too large is still read this far, so that the client hears why it was refused.
DRAIN_LIMIT = 64 * 1024 * 1024


def read_upload(request, schema, field=photos.FIELD):
    """A multipart/form-data body: (the bytes of its file `field`, b"" when none, and its
    other fields loaded through `schema`). A body over the size limit names `field`."""
    limit = config.upload_max_bytes()
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed(text("Kirim sebagai multipart/form-data.",
                                    "Send it as multipart/form-data."),
                               {"body": [text("Bukan multipart/form-data.",
                                              "Not multipart/form-data.")]})
    length = request.content_length
    if length is not None and length > limit + FORM_ROOM:
        _drain(request.environ["wsgi.input"], min(length, DRAIN_LIMIT))
        request.drained = True  # nothing more is read of it
        raise photos.too_large(limit)
    request.max_content_length = limit + FORM_ROOM
    try:
        upload, values = request.files.get(field), filled(request.form)
    except RequestEntityTooLarge:
        raise photos.too_large(limit) from None
    data = upload.read(limit + 1) if upload is not None else b""
    return data, load_body(values, partial(schema, partial=(field,)))


def _drain(stream, length):
    while length > 0:
        chunk = stream.read(min(length, 1024 * 1024))
        if not chunk:
            return
        length -= len(chunk)


# -- who is calling ------------------------------------------------------------------------------

class Gatekeeper(SharedExtension):
    """The gateway's own database (actors, tokens, sign-in failures, audit, and the outbox of
    the actors' changes) and the rate limits: one per gateway process, shared by every
    endpoint."""

    def setup(self):
        self.store = Store("gateway", Base.metadata, amqp_uri=self.container.config["AMQP_URI"])
        self.store.migrate()
        self.per_token = limits.RateLimiter(config.rate_limit_per_token())
        self.per_address = limits.RateLimiter(config.rate_limit_per_address())

    def start(self):
        self.store.start_relay()  # what the command line changed is published from here

    def stop(self):
        self.store.close()

    def kill(self):
        self.store.close(flush=False)

    def principal(self, request):
        """The principal of the request's bearer token, or None."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.principal_of(token) if scheme.lower() == "bearer" else None

    def principal_of(self, token):
        """The principal a token (a bearer's, or a web session cookie's) stands for, or None."""
        if not token or not token.strip():
            return None
        with self.store.engine.connect() as connection:  # one statement: no snapshot
            return accounts.principal(connection, token.strip(), utcnow())

    def throttle(self, key, limiter):
        wait = limiter.retry_after(key)
        if wait:
            raise TooManyRequests(wait)

    def record(self, action, by, request, target=None, detail=None):
        with self.store.transaction() as unit:
            audit.record(unit.session, utcnow(), action, by, target=target, detail=detail,
                         address=request.remote_addr)


# -- every response ------------------------------------------------------------------------------

def allowed_methods(url_map, environ):
    """The methods declared for the request's path (empty when no such path)."""
    adapter = url_map.bind_to_environ(environ)
    try:
        adapter.match(method="--")
    except MethodNotAllowed as exc:
        return sorted(set(exc.valid_methods or ()) | {"OPTIONS"})
    except HTTPException:
        return []
    return []


class EdgeApp(WsgiApp):
    """The WSGI application: security headers and CORS on every response, unknown paths and
    methods in the contract's error shape, chunked bodies read."""

    def __call__(self, environ, start_response):
        # eventlet's server reads chunked bodies and stops at Content-Length itself.
        environ["wsgi.input_terminated"] = True
        request = Request(environ, shallow=True)
        lang = language(request)
        try:
            if request.method == "OPTIONS":
                allowed = allowed_methods(self.url_map, environ)
                if not allowed:
                    raise no_such_endpoint(request)
                response = empty_response(204, {"Allow": ", ".join(allowed)})
            else:
                provider, values = self.url_map.bind_to_environ(environ).match()
                request.path_values = values
                response = provider.handle_request(request)
        except MethodNotAllowed:
            response = error_answer(request, MethodRefused(allowed_methods(self.url_map, environ)),
                                    lang)
        except HTTPException:
            if page_not_found is not None and not request.path.startswith(API_PATHS):
                response = page_not_found(request)
            else:
                response = error_answer(request, no_such_endpoint(request), lang)
        except Exception as exc:  # anything else: the contract's shape, never a stack trace
            response = error_answer(request, exc, lang)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        cors(request, response)
        return response(environ, start_response)


# The web app's page for an unknown address outside the API (services/gateway/web.py sets it).
page_not_found = None
# Parts of the site whose errors have a shape of their own (Open311's, services/gateway/
# open311.py): path prefix -> answer(request, exception, lang).
ERROR_SHAPES = {}
# What anyone may read from any site (public data): no credentials, so any origin.
ANY_ORIGIN = {"Access-Control-Allow-Origin": "*"}


def error_answer(request, exc, lang):
    """The error answer of the part of the site the request is for."""
    for prefix, answer in ERROR_SHAPES.items():
        if request.path.startswith(prefix):
            return answer(request, exc, lang)
    return error_response(exc, lang)


def refuse_nul(path_values):
    """404 for a path value with a NUL character: no resource is named so."""
    if any("\x00" in str(value) for value in path_values.values()):
        raise NotFound(text("Tidak ditemukan.", "Not found."))


def known_place(villages, code, role, refusal):
    """The villages service's place of a code (`role`: of which level), or `refusal` (a
    NotFound naming the field) when the registry has none."""
    try:
        return villages.place(code, role)
    except NotFound:
        raise refusal from None


def no_such_endpoint(request):
    return NotFound(text("Alamat tidak dikenal.", "No such endpoint."), {"path": [request.path]})


def cors(request, response):
    """Cross-origin reads only from the origins JEMBATAN_CORS_ORIGINS names (none by default)."""
    origin = request.headers.get("Origin")
    if not origin or origin not in config.cors_origins():
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    response.headers["Access-Control-Expose-Headers"] = "Retry-After"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "")
        response.headers["Access-Control-Allow-Headers"] = ("Authorization, Content-Type, "
                                                            "Accept-Language, Idempotency-Key")
        response.headers["Access-Control-Max-Age"] = "600"


class EdgeServer(WebServer):
    def get_wsgi_app(self):
        app = EdgeApp(self)
        proxies = config.trusted_proxies()
        return ProxyFix(app, x_for=proxies, x_proto=proxies) if proxies else app


# (method, url) -> what the OpenAPI document says of each endpoint
DOCUMENTED = {}


class ApiEndpoint(HttpRequestHandler):
    """`@api("POST", "/reports", "reports.create", summary=…, body=…, answers={202: …})`.

    The method is called as `method(request, actor=…, **path values)`, `actor` being the
    caller (None on a public operation), and returns a body (200), `(status, body)` or
    `(status, body, headers)`; a body of None answers without content; a werkzeug Response
    (a photo) is sent as it is.
    """

    server = EdgeServer()
    gatekeeper = Gatekeeper()

    def __init__(self, method, url, operation, summary, body=None, body_optional=False,
                 body_type="application/json", query=None, answers=None, **kwargs):
        assert operation in policy.OPERATIONS, operation
        self.operation = operation
        DOCUMENTED[(method, url)] = {"operation": operation, "summary": summary, "body": body,
                                     "body_optional": body_optional, "body_type": body_type,
                                     "query": query, "answers": answers or {}}
        super().__init__(method, PREFIX + url, **kwargs)

    def throttle_address(self, request):
        """429 when the caller's address has sent too many requests."""
        if config.rate_limit_per_address():
            self.gatekeeper.throttle(f"addr:{request.remote_addr}", self.gatekeeper.per_address)

    def caller(self, request):
        """The principal calling (None on a public operation); raises 401 or 429."""
        gate = self.gatekeeper
        self.throttle_address(request)
        if policy.roles_of(self.operation) is policy.PUBLIC:
            return None
        principal = gate.principal(request)
        if principal is None:
            gate.record("access.unauthorized", None, request,
                        target=f"{request.method} {request.path}")
            raise unauthorized()
        gate.throttle(f"token:{principal.token_id}", gate.per_token)
        return principal

    def handle_request(self, request):
        request.shallow = False
        lang = language(request)
        principal = None
        try:
            principal = self.caller(request)
            if principal is not None and not policy.role_may(principal.role, self.operation):
                raise policy.forbidden()
            args, kwargs = self.get_entrypoint_parameters(request)
            refuse_nul(kwargs)
            kwargs["actor"] = principal and principal.as_dict()
            request.token_id = principal and principal.token_id
            result = self.run_worker(args, kwargs)
        except Exception as exc:  # every failure gets the contract's error shape
            if isinstance(exc, Forbidden):
                self.gatekeeper.record("access.forbidden", principal, request,
                                       target=f"{request.method} {request.path}")
            return error_response(exc, lang)
        if isinstance(result, Response):
            return result
        if not isinstance(result, tuple):
            result = (200, result)
        return json_response(*result)

    def run_worker(self, args, kwargs):
        """What the endpoint's method returns (or raises), run in a worker of the service."""
        self.check_signature(args, kwargs)
        done = Event()
        self.container.spawn_worker(self, args, kwargs, context_data={},
                                    handle_result=partial(self.handle_result, done))
        return done.wait()


api = ApiEndpoint.decorator


# -- calling the services ------------------------------------------------------------------------

class ServiceProxy:
    """Calls one service's RPC, signed, with a deadline; a silent or absent service is
    `Unavailable`."""

    def __init__(self, proxy, service, timeout):
        self._proxy, self._service, self._timeout = proxy, service, timeout

    def __getattr__(self, method):
        def call(*args, **kwargs):
            kwargs[signing.CALL_SIGNATURE] = signing.sign_call(
                f"{self._service}.{method}", args, kwargs, self._timeout + CLOCK_SLACK_SECONDS)
            try:
                with eventlet.Timeout(self._timeout):
                    return getattr(self._proxy, method)(*args, **kwargs)
            except (eventlet.Timeout, UnknownService, OperationalError, OSError) as exc:
                log.warning("%s.%s did not answer: %r", self._service, method, exc)
                raise Unavailable(text("Sebuah layanan tidak menjawab; coba lagi sebentar lagi.",
                                       "A service did not answer; try again shortly.")) from None
        return call


class TimedRpcProxy(RpcProxy):
    """nameko's RpcProxy with the gateway's deadline (JEMBATAN_RPC_TIMEOUT), on a reply
    listener that survives a lost connection.

    A request that waited past the deadline expires in its queue, so a service that comes
    back later never acts on a command the caller was told had failed.
    """

    rpc_reply_listener = ResilientReplyListener()

    def setup(self):
        self.timeout = config.rpc_timeout()
        self.options["expiration"] = self.timeout
        # A call outlives nothing (it expires with the deadline): no need to write it to disk.
        self.options["delivery_mode"] = NON_PERSISTENT
        super().setup()

    def get_dependency(self, worker_ctx):
        return ServiceProxy(super().get_dependency(worker_ctx), self.target_service, self.timeout)
