"""Domain errors with a stable code and an HTTP-like status, raised by the engine (stdlib only)."""

from __future__ import annotations


class HallError(Exception):
    """Base class: ``code`` is machine-readable, the message is for people (Chinese first)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class Invalid(HallError):
    """The request is well-formed but its content is wrong (unknown item, bad ID number…)."""

    status = 422
    code = "invalid"


class NotFound(HallError):
    """No such ticket, window, item or hall."""

    status = 404
    code = "not_found"


class Unauthorized(HallError):
    """No authenticated actor."""

    status = 401
    code = "unauthenticated"


class Forbidden(HallError):
    """The actor may not do this (wrong role, window or hall)."""

    status = 403
    code = "forbidden"


class Conflict(HallError):
    """The hall's state does not allow it now (window busy, ticket already called, limit reached)."""

    status = 409
    code = "conflict"


class TooMany(HallError):
    """A rate limit or quota was reached."""

    status = 429
    code = "too_many"
