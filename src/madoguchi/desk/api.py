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

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from madoguchi.review.filters import parse_time
from madoguchi.review.metrics import decided_within_target
from madoguchi.tickets import InvalidField, User, load_rules
from madoguchi.tickets.fields import MAX_FEE_YEN

from . import views
from .auth import desk_of, require_operator, require_supervisor
from .errors import ERROR_RESPONSES
from .service import HIDDEN_TRANSCRIPT, MAX_TEXT, NOTE_BODY, TEXT, Desk, typed_text

router = APIRouter(prefix="/api", responses=ERROR_RESPONSES)

# A route's name → the TicketService method it calls, for the audit entry of an attempt the
# desk refuses before calling it (app.py; the service notes its own refusals).
ATTEMPTS: dict[str, str] = {
    "patch_ticket": "update_fields", "send_message": "record_message",
    "hand_back": "record_handback", "set_received": "set_received_at",
}

# Past this the queue is empty anyway; a larger number overflowed the database's integer (500).
MAX_OFFSET = 10_000_000

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
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> dict[str, Any]:
    """The queue: most urgent first, then the earliest due, then the oldest."""
    if assignee == "me":
        assignee = user.name
    tickets = desk_of(request).tickets.list_queue(
        status=_statuses(status), type=type or None, assignee=assignee or None,
        limit=limit, offset=offset,
    )
    now = views.now_utc()
    desk = desk_of(request)
    return {
        "tickets": [desk.queue_item(t, user, now) for t in tickets],
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
    """The ticket, its history and transcript: unmasked for its holder and supervisors (the
    operator calls the customer back; the read is audited), masked for other operators until
    they claim it (`contact_visible` says which)."""
    _, detail, conversation = desk_of(request).read(reference, user)
    return {**detail, **conversation}


@router.get("/tickets/{reference}/transcript")
def get_transcript(
    reference: str, request: Request, user: Operator
) -> dict[str, Any]:
    """Only the conversation: the ticket page refreshes it while the customer is chatting.
    The holder's and supervisors' only (audited); 403 for other operators."""
    _, detail, conversation = desk_of(request).read(reference, user, contact=False)
    if not detail["contact_visible"]:
        raise HTTPException(status_code=403, detail=HIDDEN_TRANSCRIPT)
    return conversation


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

# --- the law's steps (data/requests/lifecycle.yml; tickets/steps.py) ---------------------------

Supervisor = Annotated[User, Depends(require_supervisor)]


def _body(description: str, properties: dict[str, Any],
          required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A documented JSON body (the route takes any JSON, so a wrong shape gets the desk's own
    422 with its reason)."""
    schema: dict[str, Any] = {"type": "object", "description": description,
                              "properties": properties}
    if required:
        schema["required"] = list(required)
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": schema}}}}


def _ids(name: str) -> dict[str, Any]:
    rules = load_rules()
    options = {
        "identity_methods": rules.identity_methods, "agent_kinds": rules.agent_kinds,
        "disclosure_kinds": rules.disclosure_kinds, "delivery_methods": rules.delivery_methods,
        "disclosure_scopes": rules.disclosure_scopes, "outcomes": rules.outcomes,
    }[name]
    return {"type": "string", "enum": list(options), "description": f"an id of {name}"}


DATE = {"type": "string", "description": "ISO date (JST) or date-time with a time zone",
        "examples": ["2026-12-04", "2026-12-04T10:00:00+09:00"]}


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidField("JSON のオブジェクトを送ってください (send a JSON object)")
    return payload


def _worked_by(request: Request, reference: str, user: User) -> Desk:
    """The desk, after checking that `user` may work this ticket (its holder or a supervisor)."""
    desk = desk_of(request)
    desk.check_holder(desk.ticket(reference), user)
    return desk


@router.get("/lifecycle")
def lifecycle_rules(user: Operator) -> dict[str, Any]:
    """The law's steps as data: identity methods, agent kinds and their documents, disclosure
    kinds, delivery methods and scopes, fees, outcomes, grounds per request type, internal
    targets, the legal horizon."""
    return load_rules().as_dict()


@router.post("/tickets/{reference}/received", openapi_extra=_body(
    "the day the request reached us (the internal target moves with it)",
    {"received_at": DATE}, ("received_at",)))
def set_received(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.set_received_at(reference, body.get("received_at"),
                                                            user))


@router.post("/tickets/{reference}/identity", status_code=201, openapi_extra=_body(
    "the identity check (本人確認), once per ticket: a second one is 409",
    {"method": _ids("identity_methods"),
     "received": {"type": "string", "minLength": 1, "maxLength": 1000,
                  "description": "what was received (documents, the call …)"},
     "received_at": DATE}, ("method", "received")))
def record_identity(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.record_identity(
        reference, user, method=body.get("method"), received=body.get("received"),
        received_at=body.get("received_at")))


@router.post("/tickets/{reference}/agent", openapi_extra=_body(
    "who acts for the person (Art. 37(3)); kind null: the person themself",
    {"kind": {**_ids("agent_kinds"), "nullable": True},
     "relation": {"type": "string", "maxLength": 200}}, ("kind",)))
def set_agent(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.set_agent(
        reference, user, kind=body.get("kind"), relation=body.get("relation")))


@router.post("/tickets/{reference}/disclosure", openapi_extra=_body(
    "what is disclosed and how (Art. 33(1), (5)); kind null clears them",
    {"kind": {**_ids("disclosure_kinds"), "nullable": True},
     "delivery_method": _ids("delivery_methods"),
     "scope": _ids("disclosure_scopes"),
     "items": {"type": "array", "maxItems": 50,
               "items": {"type": "string", "maxLength": 200}}}, ("kind",)))
def set_disclosure(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.set_disclosure(
        reference, user, kind=body.get("kind"), delivery_method=body.get("delivery_method"),
        scope=body.get("scope"), items=body.get("items")))


@router.post("/tickets/{reference}/fee", openapi_extra=_body(
    "the fee told to the customer, only for ① and ② (Art. 38); amount default: the company's",
    {"amount": {"type": "integer", "minimum": 0, "maximum": MAX_FEE_YEN, "nullable": True},
     "told_at": DATE}))
def record_fee(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.record_fee(
        reference, user, amount=body.get("amount"), told_at=body.get("told_at")))


@router.delete("/tickets/{reference}/fee")
def clear_fee(reference: str, request: Request, user: Operator):
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.tickets.clear_fee(reference, user))


@router.post("/tickets/{reference}/decision", status_code=201, openapi_extra=_body(
    "the decision: a grant resolves; a refusal or partial grant needs a ground and an "
    "explanation (Art. 36) and waits for a supervisor's approval",
    {"outcome": _ids("outcomes"),
     "ground": {"type": "string", "maxLength": 64, "nullable": True,
                "description": "a ground code allowed for the ticket's request types"},
     "explanation": {"type": "string", "maxLength": 4000},
     "letter": {"type": "string", "maxLength": 10000,
                "description": "the letter; default: drafted from data"}}, ("outcome",)))
def propose_decision(reference: str, request: Request, payload: Payload, user: Operator):
    body = _object(payload)
    desk = _worked_by(request, reference, user)
    return views.ticket_detail(desk.decide(
        reference, user, outcome=body.get("outcome"), ground=body.get("ground"),
        explanation=body.get("explanation"), letter=body.get("letter")))


@router.post("/tickets/{reference}/decision/approve", tags=["review"])
def approve_decision(reference: str, request: Request, user: Supervisor):
    """A supervisor who did not decide approves a refusal or partial grant (four eyes)."""
    return views.ticket_detail(desk_of(request).approve_decision(reference, user))


@router.post("/tickets/{reference}/decision/return", tags=["review"], openapi_extra=_body(
    "a supervisor sends the proposed decision back, saying why",
    {"reason": {"type": "string", "minLength": 1, "maxLength": 4000}}, ("reason",)))
def return_decision(reference: str, request: Request, payload: Payload, user: Supervisor):
    body = _object(payload)
    return views.ticket_detail(desk_of(request).tickets.return_decision(
        reference, user, body.get("reason")))


@router.get("/metrics/decisions", tags=["review"])
def decision_figures(
    request: Request, user: Supervisor,
    since: str | None = Query(None, description="first JST day received, YYYY-MM-DD"),
    until: str | None = Query(None, description="last JST day received, YYYY-MM-DD"),
) -> dict[str, Any]:
    """The share of requests decided within the internal target, by request type and week."""
    return decision_figures_of(desk_of(request), since, until)


def decision_figures_of(desk: Desk, since: str | None, until: str | None) -> dict[str, Any]:
    """`metrics.decided_within_target` over the received days asked (JST days)."""
    try:
        start = parse_time(since or None, "since")
        end = parse_time(until or None, "until", end=True)
    except OverflowError:
        raise InvalidField("since/until: a date between 2000 and 9999") from None
    for moment in (start, end):
        if moment is not None and not 2000 <= moment.year <= 9000:
            raise InvalidField("since/until: a date between 2000 and 9000")
    with desk.sessions() as session:
        return decided_within_target(session, start, end, views.now_utc())
