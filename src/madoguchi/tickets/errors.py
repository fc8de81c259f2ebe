"""Errors the desk maps to HTTP answers (NotFound 404, Conflict 409, InvalidTransition 409,
InvalidField 422)."""

from __future__ import annotations


class TicketError(Exception):
    """Base of the ticket domain's errors."""


class NotFound(TicketError, LookupError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class Conflict(TicketError):
    """Someone else holds the ticket (or the name is taken); `holder` says who, if known."""

    def __init__(self, message: str, *, holder: str | None = None) -> None:
        super().__init__(message)
        self.holder = holder


class InvalidTransition(TicketError, ValueError):
    def __init__(self, current: str, requested: str, message: str) -> None:
        super().__init__(message)
        self.current = current
        self.requested = requested


class InvalidField(TicketError, ValueError):
    """A change names a field that may not be changed, or a value of the wrong shape."""
