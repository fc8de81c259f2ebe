"""A refused attempt leaves its trace: who tried what on a ticket, and why it was refused.

A privacy desk must be able to show not only what was done but what was tried and stopped: a
refusal approved by its own author, a decision without its ground, a second identity record,
a request type changed after the decision (issue 16, "all audited"). `TicketService` wraps each
of its changing methods with `refusals_audited`: when the method refuses (`Conflict`,
`InvalidTransition`, `InvalidField`) on a ticket that exists, the service writes an
`attempt_refused` entry in a transaction of its own. The attempt's own transaction has rolled
back, so the ticket is unchanged: no field, not `updated_at`, only the entry.

The error is marked as audited and raised on, so callers answer as before, and the desk, which
refuses some attempts itself before calling the service (a body that is not an object, someone
else's ticket), writes the entry for those through `TicketService.record_refusal` without
writing one twice.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import Conflict, InvalidField, InvalidTransition

ACTION = "attempt_refused"
# The errors that are refusals of an attempt (NotFound is not: there is no ticket to note it on).
REFUSALS = (Conflict, InvalidTransition, InvalidField)
_AUDITED = "madoguchi_audited"
_ACTOR_PARAMETERS = ("actor", "user", "author")

F = TypeVar("F", bound=Callable[..., Any])


def is_audited(error: BaseException) -> bool:
    """Whether the refusal's audit entry has been written already."""
    return bool(getattr(error, _AUDITED, False))


def mark_audited(error: BaseException) -> None:
    setattr(error, _AUDITED, True)


def refusals_audited(
    attempted: str, detail: Callable[[Mapping[str, Any]], str | None] | None = None
) -> Callable[[F], F]:
    """Wrap a `TicketService` method `(self, reference, …, actor|user|author, …)` so that its
    refusals are audited as `attempted` (plus `detail(arguments)`, e.g. the fields asked)."""

    def wrap(method: F) -> F:
        signature = inspect.signature(method)
        actor_name = next(p for p in _ACTOR_PARAMETERS if p in signature.parameters)

        @functools.wraps(method)
        def run(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except REFUSALS as error:
                arguments = signature.bind_partial(self, *args, **kwargs).arguments
                what = attempted
                if detail is not None:
                    extra = _safe_detail(detail, arguments)
                    what = f"{attempted} ({extra})" if extra else attempted
                self.record_refusal(arguments.get("reference"), arguments.get(actor_name),
                                    what, error)
                raise

        return run  # type: ignore[return-value]

    return wrap


def _safe_detail(detail: Callable[[Mapping[str, Any]], str | None],
                 arguments: Mapping[str, Any]) -> str | None:
    """The detail of an attempt, or none when the arguments are too malformed to describe."""
    try:
        return detail(arguments)
    except (TypeError, AttributeError, ValueError):
        return None


def changed_fields(arguments: Mapping[str, Any]) -> str | None:
    """update_fields: the names of the fields asked for, never their values (contact data)."""
    changes = arguments.get("changes")
    if not isinstance(changes, Mapping):
        return None
    names = sorted(str(name)[:40] for name in changes if name != "reason")[:20]
    status = changes.get("status")
    if isinstance(status, str):
        names = [f"status → {status[:40]}" if n == "status" else n for n in names]
    return ", ".join(names) or None


def new_status(arguments: Mapping[str, Any]) -> str | None:
    """transition: the status asked for."""
    status = arguments.get("new_status")
    return f"status → {status[:40]}" if isinstance(status, str) else None


__all__ = ["ACTION", "REFUSALS", "changed_fields", "is_audited", "mark_audited", "new_status",
           "refusals_audited"]
