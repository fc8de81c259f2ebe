"""The operator JSON API (DESIGN.md "Desk API"); the console pages do the same through `Desk`.

Domain errors become JSON answers in app.py: NotFound 404, Conflict and InvalidTransition 409,
InvalidField 422, RasaError 502.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from madoguchi.tickets import InvalidField, User

from . import views
from .auth import desk_of, require_operator
from .errors import ERROR_RESPONSES
from .service import MAX_TEXT, NOTE_BODY, TEXT, typed_text

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)

# The caller, holding the operator role (supervisors too); any JSON body.
Operator = Annotated[User, Depends(require_operator)]
Payload = Annotated[Any, Body()]

# The live queue: how often the stream looks at the database, how often it proves it is alive,
# and how long one stream lasts. EventSource reconnects by itself (with Last-Event-ID, so no
# change is missed); a short life keeps a server shutdown from waiting on open browsers.
POLL_SECONDS = 2.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 5.0
RETRY_MS = 1000


def _statuses(status: str | None) -> str | list[str] | None:
    if status is None or not status.strip():
        return None
    parts = [s.strip() for s in status.split(",") if s.strip()]
    return parts[0] if len(parts) == 1 else parts


@router.get("/tickets")
def list_tickets(
    request: Request,
    user: Operator,
    status: str | None = Query(None, description="a status, several separated by commas, "
                               "or `all`; default: the open tickets"),
    type: str | None = Query(None, description="a request type id"),
    assignee: str | None = Query(None, description="a user name, or `me`"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """The queue: most urgent first, then the earliest due, then the oldest."""
    if assignee == "me":
        assignee = user.name
    tickets = desk_of(request).tickets.list_queue(
        status=_statuses(status), type=type or None, assignee=assignee or None,
        limit=limit, offset=offset,
    )
    now = views.now_utc()
    return {
        "tickets": [views.queue_item(t, now) for t in tickets],
        "limit": limit,
        "offset": offset,
    }


def _event(name: str, data: dict[str, Any], event_id: str | None = None) -> str:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {name}\ndata: {json.dumps(data)}\n\n"


@router.get("/tickets/stream", response_class=StreamingResponse, responses={
    200: {"description": "server-sent events", "content": {"text/event-stream": {}}},
})
async def stream_queue(request: Request, user: Operator):
    """Server-sent events: `ready` once, then `queue` whenever a ticket arrives or changes."""
    desk = desk_of(request)
    seen = request.headers.get("last-event-id")

    async def events() -> AsyncIterator[str]:
        current = await run_in_threadpool(desk.queue_version)
        yield f"retry: {RETRY_MS}\n\n"
        if seen and seen != current:
            yield _event("queue", {"version": current}, current)
        else:
            yield _event("ready", {"version": current}, current)
        started = last_sent = time.monotonic()
        while time.monotonic() - started < STREAM_SECONDS:
            await asyncio.sleep(POLL_SECONDS)
            try:
                version = await run_in_threadpool(desk.queue_version)
            except Exception:  # the database blinked: try again at the next poll
                continue
            if version != current:
                current = version
                last_sent = time.monotonic()
                yield _event("queue", {"version": current}, current)
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/tickets/{reference}")
def get_ticket(
    reference: str, request: Request, user: Operator
) -> dict[str, Any]:
    """The ticket, unmasked (the operator calls the customer back), its history and transcript."""
    desk = desk_of(request)
    ticket = desk.ticket(reference)
    return {**views.ticket_detail(ticket), **desk.conversation(ticket)}


@router.get("/tickets/{reference}/transcript")
def get_transcript(
    reference: str, request: Request, user: Operator
) -> dict[str, Any]:
    """Only the conversation: the ticket page refreshes it while the customer is chatting."""
    desk = desk_of(request)
    return desk.conversation(desk.ticket(reference))


@router.post("/tickets/{reference}/claim")
def claim(reference: str, request: Request, user: Operator):
    ticket = desk_of(request).tickets.claim(reference, user)
    return views.ticket_detail(ticket)


@router.patch("/tickets/{reference}")
def patch_ticket(
    reference: str,
    request: Request,
    changes: Annotated[dict[str, Any], Body(description="fields to change, status included")],
    user: Operator,
):
    ticket = desk_of(request).update(reference, changes, user)
    return views.ticket_detail(ticket)


def _text_schema(what: str, old_name: str | None = None) -> dict[str, Any]:
    """The documented request body of a note or message (the route itself takes any JSON, so
    that a wrong shape gets the desk's own 422 with a Japanese reason)."""
    properties: dict[str, Any] = {
        TEXT: {"type": "string", "minLength": 1, "maxLength": MAX_TEXT, "description": what},
    }
    if old_name is not None:
        properties[old_name] = {
            "type": "string", "deprecated": True,
            "description": f"the old name of `{TEXT}`, accepted for one more release",
        }
    schema = {"type": "object", "properties": properties}
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}}


def _typed(payload: Any, *old_names: str) -> tuple[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidField(f"send a JSON object with {TEXT!r}")
    return typed_text(payload, *old_names)


@router.post("/tickets/{reference}/notes", status_code=201,
             openapi_extra=_text_schema("the note (never shown to the customer)", NOTE_BODY))
def add_note(
    reference: str,
    request: Request,
    payload: Payload,
    user: Operator,
):
    field, text = _typed(payload, NOTE_BODY)
    return desk_of(request).add_note(reference, text, user, field=field).to_dict()


@router.post("/tickets/{reference}/messages", status_code=201,
             openapi_extra=_text_schema("the message, shown in the customer's chat"))
def send_message(
    reference: str,
    request: Request,
    payload: Payload,
    user: Operator,
):
    return desk_of(request).send_message(reference, _typed(payload)[1], user)


@router.post("/tickets/{reference}/handback")
def hand_back(reference: str, request: Request, user: Operator):
    return desk_of(request).hand_back(reference, user)

