"""The HTTP edge: JSON in and out, the contract's error shape for every failure."""
import json
import logging
from functools import partial

import eventlet
from eventlet.event import Event
from marshmallow import ValidationError
from kombu.exceptions import OperationalError
from nameko.exceptions import RemoteError, UnknownService
from nameko.rpc import RpcProxy
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from shared import config
from shared.errors import JembatanError, ValidationFailed
from shared.i18n import localize, pick_language, text
from shared.messaging import ResilientReplyListener

log = logging.getLogger(__name__)
PREFIX = "/api/v1"


class Unauthorized(JembatanError):
    code, status = "unauthorized", 401


class PayloadTooLarge(JembatanError):
    code, status = "payload_too_large", 413


class Unavailable(JembatanError):
    code, status = "unavailable", 503


def language(request):
    return pick_language(request.args.get("lang") or request.headers.get("Accept-Language"))


def json_response(status, body, headers=None):
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    content_type="application/json; charset=utf-8")


def field_lists(details):
    """The contract's `details`: each field names a list of messages (nested where nested)."""
    if isinstance(details, dict):
        return {str(key): (value if isinstance(value, list) else [value])
                if not isinstance(value, dict) else field_lists(value)
                for key, value in details.items()}
    return {"body": details if isinstance(details, list) else [details]}


# What a service raises when its own database does not answer (SQLAlchemy's names).
DATABASE_DOWN = ("OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")


def error_response(exc, lang):
    if isinstance(exc, RequestEntityTooLarge):
        exc = too_large()
    failed = exc.exc_type if isinstance(exc, RemoteError) else type(exc).__name__
    if failed in DATABASE_DOWN:  # a service's database, or the gateway's own
        log.warning("a service's database is unavailable: %s", exc)
        exc = Unavailable(text("Basis data sebuah layanan sedang tidak tersedia; coba lagi "
                               "sebentar lagi.",
                               "A service's database is unavailable; try again shortly."))
    if not isinstance(exc, JembatanError):
        log.error("unexpected error answering a request", exc_info=exc)
        return json_response(500, {"error": {
            "code": "internal_error",
            "message": localize(text("Terjadi kesalahan di server; sudah dicatat.",
                                     "Something went wrong on the server; it has been logged."),
                                lang),
            "details": {}}})
    return json_response(exc.status, {"error": {
        "code": exc.code, "message": localize(exc.message, lang),
        "details": field_lists(localize(exc.details, lang))}})


def too_large():
    limit = config.max_body_bytes()
    return PayloadTooLarge(text(f"Isi permintaan melebihi {limit} bita.",
                                f"The body is larger than {limit} bytes."))


def read_json(request, schema=None):
    """The request body as JSON (through `schema` when given); refuses what is not."""
    limit = config.max_body_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise too_large()
    request.max_content_length = limit
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise too_large()
    try:
        decoded = raw.decode("utf-8")
        if "\x00" in decoded or "\\u0000" in decoded:
            raise ValueError("NUL character")
        body = json.loads(decoded, parse_constant=_refuse_constant) if raw else None
        json.dumps(body, ensure_ascii=False).encode("utf-8")  # a lone surrogate is not text
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValidationFailed(text("Isi permintaan bukan JSON yang sah.", "The body is not valid JSON."),
                               {"body": [text("Bukan JSON yang sah.", "Not valid JSON.")]}) from None
    if not isinstance(body, dict):
        raise ValidationFailed(text("Isi permintaan harus berupa objek JSON.",
                                    "The body must be a JSON object."),
                               {"body": [text("Harus berupa objek JSON.", "Must be a JSON object.")]})
    if schema is None:
        return body
    try:
        return schema().load(body)
    except ValidationError as exc:
        raise ValidationFailed(text("Isian tidak sah.", "Invalid input."), exc.messages) from None


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def read_query(request, schema):
    try:
        return schema().load(request.args.to_dict())
    except ValidationError as exc:
        raise ValidationFailed(text("Parameter tidak sah.", "Invalid query parameter."),
                               exc.messages) from None


# (method, path) -> what the OpenAPI document says of each endpoint
DOCUMENTED = {}


class ApiEndpoint(HttpRequestHandler):
    """`@api("POST", "/reports", summary=…, body=…, answers={202: …})`: a JSON endpoint.

    The method returns a body (200) or `(status, body)`; any error becomes the contract's shape.
    The keyword arguments describe the endpoint in the OpenAPI document.
    """

    def __init__(self, method, url, summary=None, body=None, query=None, answers=None,
                 roles=None, **kwargs):
        if summary is not None:
            DOCUMENTED[(method, url)] = {"summary": summary, "body": body, "query": query,
                                         "answers": answers or {}, "roles": roles}
        super().__init__(method, PREFIX + url if url != "/<path:path>" else url, **kwargs)

    def handle_request(self, request):
        request.shallow = False
        lang = language(request)
        try:
            args, kwargs = self.get_entrypoint_parameters(request)
            self.check_signature(args, kwargs)
            done = Event()
            self.container.spawn_worker(
                self, args, kwargs, context_data={},
                handle_result=partial(self.handle_result, done))
            result = done.wait()
        except Exception as exc:  # every failure gets the contract's error shape
            return error_response(exc, lang)
        status, body = result if isinstance(result, tuple) else (200, result)
        return json_response(status, body)


api = ApiEndpoint.decorator


class ServiceProxy:
    """Calls one service's RPC with a deadline; a silent or absent service is `Unavailable`."""

    def __init__(self, proxy, service, timeout):
        self._proxy, self._service, self._timeout = proxy, service, timeout

    def __getattr__(self, method):
        def call(*args, **kwargs):
            try:
                with eventlet.Timeout(self._timeout):
                    return getattr(self._proxy, method)(*args, **kwargs)
            except (eventlet.Timeout, UnknownService, OperationalError, OSError) as exc:
                log.warning("%s.%s did not answer: %r", self._service, method, exc)
                raise Unavailable(
                    text(f"Layanan {self._service} tidak menjawab; coba lagi sebentar lagi.",
                         f"The {self._service} service did not answer; try again shortly."),
                    {"service": [self._service]}) from None
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
        super().setup()

    def get_dependency(self, worker_ctx):
        return ServiceProxy(super().get_dependency(worker_ctx), self.target_service, self.timeout)
