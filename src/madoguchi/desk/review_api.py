"""The supervisors' JSON API (DESIGN.md "Desk API"): conversations, review work, figures,
export. A thin adapter over `madoguchi.review`; operators get 403 on every call here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse

from madoguchi.review import filters as flt
from madoguchi.review.export import CONVERSATION_COLUMNS, TURN_COLUMNS, csv_lines, jsonl
from madoguchi.review.service import SupervisorReview
from madoguchi.tickets import InvalidField, User

from .auth import desk_of, require_supervisor
from .errors import ERROR_RESPONSES

router = APIRouter(prefix="/api", tags=["review"], responses=ERROR_RESPONSES)

Supervisor = Annotated[User, Depends(require_supervisor)]
Payload = Annotated[Any, Body()]
# The query parameters that more than one call takes, described once.
Since = Annotated[str | None, Query(description="ISO date (a JST day) or date-time")]
Until = Annotated[str | None, Query(description="ISO date (the whole JST day) or date-time")]
Rows = Annotated[str, Query(description="conversations | turns")]

FILTER_NAMES = ("since", "until", "intent", "request_type", "section", "notice_section", "tag",
                "handoff", "fallback", "low_confidence", "reviewed", "q")


def review_of(request: Request) -> SupervisorReview:
    """One review service per desk process, on the desk's engine."""
    state = request.app.state
    review = getattr(state, "review", None)
    if review is None:
        desk = desk_of(request)
        review = state.review = SupervisorReview(desk.engine, desk.sessions)
    return review


def filters_of(request: Request) -> flt.Filters:
    return flt.parse_filters({name: request.query_params.get(name) for name in FILTER_NAMES})


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise InvalidField("JSON オブジェクトを送ってください (send a JSON object)")
    return payload


@router.get("/conversations")
def list_conversations(
    request: Request,
    user: Supervisor,
    since: Since = None,
    until: Until = None,
    intent: str | None = None,
    request_type: str | None = None,
    section: str | None = Query(None, description="notice section id, e.g. 2.4"),
    tag: str | None = None,
    handoff: str | None = Query(None, description="true / false"),
    fallback: str | None = Query(None, description="true / false"),
    low_confidence: str | None = Query(None, description="true / false"),
    reviewed: str | None = Query(None, description="true / false"),
    q: str | None = Query(None, description="words in the customer's (masked) messages"),
    limit: int = Query(50, ge=1, le=flt.MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    """Conversations, newest first, masked."""
    return review_of(request).list(filters_of(request), limit=limit, offset=offset)


@router.get("/conversations/{conversation_id}")
def get_conversation(conversation_id: str, request: Request, user: Supervisor) -> dict[str, Any]:
    """The transcript turn by turn (intent, confidence, runner-up, entities, actions, slots,
    pauses, operator turns), its ticket, comments and review audit; masked."""
    return review_of(request).conversation(conversation_id)


@router.post("/conversations/{conversation_id}/tags")
def tag_conversation(
    conversation_id: str, request: Request, payload: Payload, user: Supervisor
) -> dict[str, Any]:
    """`{"tags": [...], "remove": [...], "reviewed": true|false}` (any of them)."""
    body = _object(payload)
    return review_of(request).tag(conversation_id, user, add=body.get("tags"),
                                  remove=body.get("remove"), reviewed=body.get("reviewed"))


@router.post("/conversations/{conversation_id}/comments", status_code=201)
def comment(
    conversation_id: str, request: Request, payload: Payload, user: Supervisor
) -> dict[str, Any]:
    """`{"event_id": N, "body": "..."}`: a comment on one message."""
    body = _object(payload)
    return review_of(request).comment(conversation_id, body.get("event_id"), body.get("body"),
                                      user)


@router.post("/conversations/{conversation_id}/reveal")
def reveal(
    conversation_id: str, request: Request, payload: Payload, user: Supervisor
) -> dict[str, Any]:
    """`{"event_id": N, "field": "text"|"value", "reason": "..."}`: one raw field, audited."""
    body = _object(payload)
    return review_of(request).reveal(conversation_id, body.get("event_id"), body.get("field"),
                                     body.get("reason"), user)


@router.post("/conversations/{conversation_id}/training", status_code=201)
def add_to_training(
    conversation_id: str, request: Request, payload: Payload, user: Supervisor
) -> dict[str, Any]:
    """`{"event_id": N, "intent": "..."}`: the message, masked, as a training example."""
    body = _object(payload)
    return review_of(request).label_for_training(conversation_id, body.get("event_id"),
                                                 body.get("intent"), user)


@router.get("/metrics")
def metrics(request: Request, user: Supervisor, since: Since = None,
            until: Until = None) -> dict[str, Any]:
    """Containment, handoffs by request type, fallback rate, sections asked, median turns to
    ticket: in total and per day."""
    return review_of(request).metrics(filters_of(request))


def _exported_as(media: str) -> dict[str, Any]:
    """The route's OpenAPI answer: the file, of this media type."""
    return {"response_class": StreamingResponse,
            "responses": {200: {"description": "the export", "content": {media: {}}}}}


def _export(request: Request, user: User, rows: str, fmt: str) -> StreamingResponse:
    kind = rows or "conversations"
    data = review_of(request).export(filters_of(request), kind, user)
    stamp = f"conversations-{kind}"
    if fmt == "csv":
        columns = CONVERSATION_COLUMNS if kind == "conversations" else TURN_COLUMNS
        body, media = csv_lines(data, columns), "text/csv; charset=utf-8"
    else:
        body, media = jsonl(data), "application/x-ndjson; charset=utf-8"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{stamp}.{fmt}"',
        "Cache-Control": "no-store",
        # Customers' words may hold markup: never let a browser sniff the file as HTML.
        "X-Content-Type-Options": "nosniff",
    })


@router.get("/export/conversations.jsonl", **_exported_as("application/x-ndjson"))
def export_jsonl(
    request: Request, user: Supervisor, rows: Rows = "conversations"
) -> StreamingResponse:
    """One JSON object per line: per conversation, or per turn with `rows=turns`; masked.
    Takes the list's filters."""
    return _export(request, user, rows, "jsonl")


@router.get("/export/conversations.csv", **_exported_as("text/csv"))
def export_csv(
    request: Request, user: Supervisor, rows: Rows = "conversations"
) -> StreamingResponse:
    """CSV (UTF-8 with BOM), safe to open in a spreadsheet; masked. Takes the list's filters."""
    return _export(request, user, rows, "csv")
