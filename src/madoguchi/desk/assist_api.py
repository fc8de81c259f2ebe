"""Operator assist on the desk: the notice passages and canned reply for each customer message,
the canned replies' `/` search and filling, and the ticket's summary.

The domain work is `madoguchi.assist`; this module reads the ticket and its conversation and
shapes the answers for the JSON API and the ticket page. Filling a canned reply changes
nothing, so it is a GET: the console's login cookie opens the API's reads (never its writes),
and the page fills replies through the same call an API client uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from madoguchi.assist import canned
from madoguchi.assist.passages import DEFAULT_K, suggest
from madoguchi.assist.summary import summarize
from madoguchi.conversation.transcript import CUSTOMER
from madoguchi.tickets import NotFound, Ticket, User

from .auth import desk_of, require_operator
from .errors import ERROR_BODY, ERROR_RESPONSES
from .reply_check import PLACEHOLDER_LABELS
from .service import HIDDEN_TRANSCRIPT

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["assist"], responses=ERROR_RESPONSES)
# Only a broken data/desk/canned_replies.yml (the desk names the reply and the placeholder).
BROKEN_DATA = {500: {"description": "data/desk/canned_replies.yml is broken; `detail` says how",
                     "content": {"application/json": {"schema": ERROR_BODY}}}}
Operator = Annotated[User, Depends(require_operator)]

# The customer messages the panel shows, newest first, and the replies per message.
RECENT_MESSAGES = 5
CANNED_PER_MESSAGE = 2
EMPTY_REASON = "no_customer_message"
EMPTY_TEXT = ("お客様のメッセージはまだありません。"
              "お客様が書き込むと、ここに通知の該当箇所と定型文が表示されます。")
REASON_TEXTS = {
    "empty_message": "メッセージが空です。",
    "no_content_words": "通知に照らせる言葉がありません（挨拶やお礼など）。",
    "no_matching_section": "通知の中に該当する項が見つかりませんでした。",
}


# --- the shapes (the OpenAPI schema) ---------------------------------------------------------


class PassageOut(BaseModel):
    section_id: str = Field(description="the notice's section id, e.g. 4.2")
    title: str
    citation: str = Field(description="how the chat cites it (出典: …)")
    quote: str = Field(description="the notice's own sentences, verbatim")
    reply: str = Field(description="the answer the assistant would give, ready to edit")
    confidence: float = Field(ge=0, le=1, description="calibrated: share of such suggestions "
                                                       "that were right on the held-out set")
    score: float
    limit_id: str | None = Field(None, nullable=True)


class FilledOut(BaseModel):
    id: str
    title: str
    text: str = Field(description="the reply with the ticket's values; a placeholder without "
                                  "a value stays as {name}")
    missing: list[str] = Field(description="placeholders left for the operator to fill")
    missing_labels: list[str]
    complete: bool


class MessageAssist(BaseModel):
    at: str | None = Field(..., nullable=True)
    text: str = Field(description="the customer's message")
    latest: bool
    passages: list[PassageOut]
    canned: list[FilledOut]
    reason: str | None = Field(None, description="why there are no passages", nullable=True)
    reason_text: str | None = Field(None, nullable=True)


class SummaryOut(BaseModel):
    headline: str
    facts: list[str]
    cues: list[dict[str, Any]]
    request_types: list[str]
    is_agent: bool
    text: str


class AssistOut(BaseModel):
    reference: str
    empty: bool = Field(description="true while the conversation has no customer message")
    empty_reason: str | None = Field(None, nullable=True)
    empty_text: str | None = Field(None, nullable=True)
    transcript_error: str | None = Field(None, nullable=True)
    messages: list[MessageAssist] = Field(description="newest customer message first")
    summary: SummaryOut


class CannedItem(BaseModel):
    id: str
    title: str
    tags: list[str]
    sections: list[str]
    placeholders: list[str]
    preview: str


class CannedList(BaseModel):
    query: str
    replies: list[CannedItem]


# --- computing -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _replies() -> tuple[canned.CannedReply, ...]:
    return canned.default_replies()


def customer_messages(conversation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The customer's own words in the transcript (a button's command is not words)."""
    return [line for line in conversation.get("transcript") or []
            if line.get("who") == CUSTOMER and isinstance(line.get("text"), str)
            and line["text"].strip() and not line["text"].lstrip().startswith("/")]


def ticket_values(ticket: Ticket, user: User | None) -> dict[str, Any]:
    """The ticket as the canned replies read it; the operator is the assignee, else the reader."""
    data = ticket.to_dict()
    data["operator_name"] = ticket.assignee or (user.name if user else None)
    return data


def filled(reply: canned.CannedReply, values: Mapping[str, Any]) -> dict[str, Any]:
    result = canned.fill(reply, values)
    return {"id": reply.id, "title": reply.title, "text": result.text,
            "missing": list(result.missing),
            "missing_labels": [PLACEHOLDER_LABELS.get(m, m) for m in result.missing],
            "complete": result.complete}


def summary_of(ticket: Ticket, conversation: Mapping[str, Any]) -> dict[str, Any]:
    """The summary on top of the ticket: the conversation's words, else the ticket's."""
    said = [line["text"] for line in customer_messages(conversation)]
    if not said and ticket.customer_words:
        said = ticket.customer_words.splitlines()
    return summarize(said, ticket.to_dict()).as_dict()


def assist_for(ticket: Ticket, conversation: Mapping[str, Any], user: User | None,
               k: int = DEFAULT_K) -> dict[str, Any]:
    """Passages and canned replies per customer message (newest first), and the summary."""
    said = customer_messages(conversation)
    values = ticket_values(ticket, user)
    messages = []
    for index, line in enumerate(reversed(said[-RECENT_MESSAGES:])):
        found = suggest(line["text"], k=k)
        sections = [p.section_id for p in found.passages]
        replies = canned.for_sections(sections, _replies())[:CANNED_PER_MESSAGE] if sections \
            else []
        messages.append({
            "at": line.get("at"), "text": line["text"], "latest": index == 0,
            "passages": [p.as_dict() for p in found.passages],
            "canned": [filled(r, values) for r in replies],
            "reason": found.reason,
            "reason_text": REASON_TEXTS.get(found.reason or "") if found.reason else None,
        })
    error = conversation.get("transcript_error")
    empty = not messages and not error
    return {
        "reference": ticket.reference,
        "empty": empty,
        "empty_reason": EMPTY_REASON if empty else None,
        "empty_text": EMPTY_TEXT if empty else None,
        "transcript_error": error,
        "messages": messages,
        "summary": summary_of(ticket, conversation),
    }


def page_context(ticket: Ticket, conversation: Mapping[str, Any], user: User) -> dict[str, Any]:
    """What the ticket page's summary and assist panel show when it is first drawn."""
    try:
        return {"assist": assist_for(ticket, conversation, user)}
    except Exception:  # the page must open without its helpers
        logger.warning("assist failed for %s", ticket.reference, exc_info=True)
        return {"assist": None}


# --- routes ----------------------------------------------------------------------------------


@router.get("/tickets/{reference}/assist", response_model=AssistOut)
def ticket_assist(reference: str, request: Request, user: Operator,
                  k: int = Query(DEFAULT_K, ge=1, le=5, description="passages per message")
                  ) -> dict[str, Any]:
    """The holder's and supervisors' only (like the transcript; 403 for other operators).
    For each of the customer's latest messages, newest first: the notice passages that
    answer it (section id, the notice's own words, a calibrated confidence) and the canned
    replies that go with them, filled from the ticket; and the ticket's summary. A
    conversation without a customer message yet answers `empty: true` with the reason."""
    ticket, detail, conversation = desk_of(request).read(reference, user, contact=False)
    if not detail["contact_visible"]:
        raise HTTPException(status_code=403, detail=HIDDEN_TRANSCRIPT)
    return assist_for(ticket, conversation, user, k=k)


def _canned_error(exc: canned.CannedError) -> JSONResponse:
    return JSONResponse({"detail": f"定型文のファイルに誤りがあります: {exc}"}, status_code=500)


@router.get("/canned", response_model=CannedList, responses=BROKEN_DATA)
def search_canned(user: Operator, q: str = Query("", max_length=100,
                  description="what follows / in the reply box; empty lists all")) -> Any:
    """Canned replies matching the query: id, title or tag first, then by reading
    (てすうりょう finds 手数料)."""
    try:
        found = canned.search(q, _replies())
    except canned.CannedError as exc:
        return _canned_error(exc)
    return {"query": q, "replies": [
        {"id": r.id, "title": r.title, "tags": list(r.tags), "sections": list(r.sections),
         "placeholders": list(r.placeholders), "preview": r.body[:80]} for r in found]}


@router.get("/tickets/{reference}/canned/{reply_id}", response_model=FilledOut,
            responses=BROKEN_DATA)
def fill_canned(reference: str, reply_id: str, request: Request, user: Operator) -> Any:
    """The canned reply filled from the ticket: `missing` names the placeholders the ticket
    has no value for; they stay in `text` as {name}, and the desk refuses to send a message
    that still holds one."""
    try:
        replies = {r.id: r for r in _replies()}
    except canned.CannedError as exc:
        return _canned_error(exc)
    if reply_id not in replies:
        raise NotFound(f"canned reply {reply_id}")
    ticket, detail, _ = desk_of(request).read(reference, user, transcript=False)
    if not detail["contact_visible"]:
        raise HTTPException(status_code=403, detail=HIDDEN_TRANSCRIPT)
    return filled(replies[reply_id], ticket_values(ticket, user))
