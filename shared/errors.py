"""Errors a service raises for a caller's mistake; they cross RPC as themselves.

The gateway turns each into the contract's error shape (docs/api.md, "Errors").
"""
import logging

from nameko.exceptions import deserialize_to_instance


class JembatanError(Exception):
    """Base of every error a caller caused. `code` is the contract's error code."""

    code = "error"
    status = 400

    def __init__(self, message="", details=None):
        super().__init__(message, details or {})
        self.message = message
        self.details = details or {}


@deserialize_to_instance
class ValidationFailed(JembatanError):
    code = "validation_error"
    status = 400


@deserialize_to_instance
class NotFound(JembatanError):
    code = "not_found"
    status = 404


@deserialize_to_instance
class Forbidden(JembatanError):
    code = "forbidden"
    status = 403


@deserialize_to_instance
class Conflict(JembatanError):
    code = "conflict"
    status = 409


DOMAIN_ERRORS = (ValidationFailed, NotFound, Forbidden, Conflict)


class ClientErrorsAreInfo(logging.Filter):
    """nameko logs every error a worker raised, with its traceback (a warning for an expected
    one, an error otherwise). A caller's mistake is no fault of ours: one line at INFO."""

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, JembatanError):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "%s answered %s %s: %s", (
                _worker(record.args), error.status, error.code, _english(error.message))
            record.exc_info = record.exc_text = None
        return True


def _worker(args):
    context = args[0] if args else None
    entrypoint = getattr(context, "entrypoint", None)
    if entrypoint is None:
        return "a worker"
    return f"{context.service_name}.{entrypoint.method_name}"


def _english(message):
    return message.get("en", "") if isinstance(message, dict) else str(message)
