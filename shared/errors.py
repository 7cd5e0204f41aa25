"""Errors a service raises for a caller's mistake; they cross RPC as themselves.

The gateway turns each into the contract's error shape (API.md, "Errors").
"""
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
