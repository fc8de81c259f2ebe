"""The supervisors' review: list, transcript, tags, reviewed mark, comments, audited reveal.

Everything returned here is masked (`masking.py`); the one way to see a raw value is `reveal`,
which needs a reason and writes who, when, which field and why to `review_audit` first.
Every read first lets the projector catch up with Rasa's events.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from madoguchi.conversation import events as ce
from madoguchi.conversation import transcript
from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.text.pii import mask_forbidden
from madoguchi.tickets import InvalidField, NotFound, Ticket

from . import events as ev
from . import filters as flt
from .export import ROW_KINDS, turn_rows
from .masking import PERSONAL_SLOTS, ConversationMasker, mask_pii
from .metrics import metrics
from .models import Comment, Conversation, Facet, ReviewAudit, Tag
from .projector import Projector
from .training import add_example, example_text

TAG_RE = re.compile(r"^[\w\-ぁ-んァ-ヶー一-龠々・]{1,64}$")
MAX_COMMENT = 2000
MIN_REASON = 4
MAX_REASON = 500
REVEALABLE = ("text", "value")


def actor_name(actor: Any) -> str:
    return actor if isinstance(actor, str) else str(actor.name)


@dataclass
class ReviewService:
    engine: Engine
    sessions: sessionmaker
    projector: Projector = field(init=False)

    def __post_init__(self) -> None:
        self.projector = Projector(self.engine, self.sessions)

    @classmethod
    def from_url(cls, url: str) -> ReviewService:
        engine = db.make_engine(url)
        return cls(engine, db.session_factory(engine))

    def refresh(self) -> int:
        return self.projector.catch_up()

    # --- reading ---------------------------------------------------------------------------

    def list(self, filters: flt.Filters, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        if not 1 <= limit <= flt.MAX_LIMIT or offset < 0:
            raise InvalidField(f"limit は 1〜{flt.MAX_LIMIT}、offset は 0 以上です")
        self.refresh()
        with self.sessions() as session:
            total = session.execute(
                select(func.count()).select_from(Conversation).where(*flt.where(filters))
            ).scalar_one()
            stmt = flt.conversations(filters, matches=total, dialect=self.engine.dialect.name)
            rows = list(session.execute(stmt.limit(limit).offset(offset)).scalars())
            extras = self._extras(session, [c.id for c in rows])
        return {
            "conversations": [summary(c, extras.get(c.id, {}), filters.threshold) for c in rows],
            "total": total, "limit": limit, "offset": offset, "filters": filters.as_dict(),
        }

    def conversation(self, sender_id: str) -> dict[str, Any]:
        """The masked transcript with the conversation's flags, tags, comments and ticket."""
        self.refresh()
        threshold = ev.low_confidence_threshold()
        with self.sessions() as session:
            conv = self._get(session, sender_id)
            extras = self._extras(session, [conv.id]).get(conv.id, {})
            rows = self._events(session, sender_id)
            comments = list(session.execute(
                select(Comment).where(Comment.conversation_id == conv.id).order_by(Comment.id)
            ).scalars())
            tickets = list(session.execute(
                select(Ticket).where(Ticket.conversation_id == sender_id).order_by(Ticket.id)
            ).scalars())
            reveals = list(session.execute(
                select(ReviewAudit).where(ReviewAudit.sender_id == sender_id)
                .order_by(ReviewAudit.id)
            ).scalars())
        transcript = masked_transcript(rows, threshold)
        return {
            **summary(conv, extras, threshold),
            "transcript": transcript,
            "notice_versions": _notice_versions(transcript),
            "comments": [{**c.to_dict(), "body": mask_pii(c.body)} for c in comments],
            "tickets": [_ticket(t) for t in tickets],
            "audit": [a.to_dict() for a in reveals],
        }

    @staticmethod
    def _events(session: Session, sender_id: str) -> list[Any]:
        return list(session.execute(
            select(EVENTS).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        ).all())

    @staticmethod
    def _get(session: Session, sender_id: str, *, lock: bool = False) -> Conversation:
        stmt = select(Conversation).where(Conversation.sender_id == sender_id)
        conv = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
        if conv is None:
            raise NotFound(f"conversation {sender_id}")
        return conv

    @staticmethod
    def _extras(session: Session, ids: list[int]) -> dict[int, dict[str, list[str]]]:
        out: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        if not ids:
            return out
        for cid, kind, value in session.execute(
            select(Facet.conversation_id, Facet.kind, Facet.value)
            .where(Facet.conversation_id.in_(ids)).order_by(Facet.id)
        ):
            out[cid][kind].append(value)
        for cid, tag in session.execute(
            select(Tag.conversation_id, Tag.tag).where(Tag.conversation_id.in_(ids))
            .order_by(Tag.tag)
        ):
            out[cid]["tags"].append(tag)
        return out

    def audit(self, sender_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        stmt = select(ReviewAudit).order_by(ReviewAudit.id.desc()).limit(limit)
        if sender_id is not None:
            stmt = stmt.where(ReviewAudit.sender_id == sender_id)
        with self.sessions() as session:
            return [a.to_dict() for a in session.execute(stmt).scalars()]

    # --- review work -----------------------------------------------------------------------

    def tag(self, sender_id: str, actor: Any, *, add: Any = None, remove: Any = None,
            reviewed: Any = None) -> dict[str, Any]:
        """Add / remove tags and set or clear the reviewed mark, audited together."""
        add_tags, remove_tags = _tags(add, "tags"), _tags(remove, "remove")
        if reviewed is not None and not isinstance(reviewed, bool):
            raise InvalidField("reviewed は true か false です (reviewed must be a boolean)")
        if not add_tags and not remove_tags and reviewed is None:
            raise InvalidField("tags, remove, reviewed のいずれかを指定してください")
        who = actor_name(actor)
        self.refresh()
        with db.write_session(self.sessions) as session:
            conv = self._get(session, sender_id, lock=True)
            now = db.utcnow()
            current = set(session.execute(
                select(Tag.tag).where(Tag.conversation_id == conv.id)).scalars())
            added = [t for t in add_tags if t not in current]
            removed = [t for t in remove_tags if t in current and t not in add_tags]
            session.add_all(Tag(conversation_id=conv.id, tag=t, added_by=who, added_at=now)
                            for t in added)
            if removed:
                session.execute(delete(Tag).where(Tag.conversation_id == conv.id,
                                                  Tag.tag.in_(removed)))
            details: dict[str, Any] = {}
            if added:
                details["tags_added"] = added
            if removed:
                details["tags_removed"] = removed
            if reviewed is not None and reviewed != conv.reviewed:
                conv.reviewed = reviewed
                conv.reviewed_by, conv.reviewed_at = (who, now) if reviewed else (None, None)
                details["reviewed"] = reviewed
            if details:
                session.add(ReviewAudit(at=now, actor=who, action="review", sender_id=sender_id,
                                        details=details))
        return self.conversation_summary(sender_id)

    def conversation_summary(self, sender_id: str) -> dict[str, Any]:
        with self.sessions() as session:
            conv = self._get(session, sender_id)
            extras = self._extras(session, [conv.id]).get(conv.id, {})
        return summary(conv, extras, ev.low_confidence_threshold())

    def comment(self, sender_id: str, event_id: Any, body: Any, actor: Any) -> dict[str, Any]:
        """A comment on one message; card and individual numbers never stored, others masked
        when shown."""
        if not isinstance(body, str) or not body.strip():
            raise InvalidField("コメントを入力してください (body must be non-empty text)")
        if len(body) > MAX_COMMENT:
            raise InvalidField(f"コメントは{MAX_COMMENT}文字までです")
        body = mask_forbidden(body.strip())[0]
        who = actor_name(actor)
        self.refresh()
        with db.write_session(self.sessions) as session:
            conv = self._get(session, sender_id, lock=True)
            self._event(session, sender_id, event_id)
            comment = Comment(conversation_id=conv.id, event_id=event_id, at=db.utcnow(),
                              author=who, body=body)
            session.add(comment)
            session.flush()
            session.add(ReviewAudit(at=comment.at, actor=who, action="comment",
                                    sender_id=sender_id,
                                    details={"event_id": event_id, "comment_id": comment.id}))
            result = comment.to_dict()
        return {**result, "body": mask_pii(result["body"])}

    @staticmethod
    def _event(session: Session, sender_id: str, event_id: Any) -> Any:
        if not isinstance(event_id, int) or isinstance(event_id, bool):
            raise InvalidField(
                "event_id は会話のメッセージの番号です (event_id must be an integer)")
        row = session.execute(select(EVENTS).where(
            EVENTS.c.id == event_id, EVENTS.c.sender_id == sender_id)).first()
        if row is None:
            raise NotFound(f"event {event_id} of conversation {sender_id}")
        return row

    def reveal(self, sender_id: str, event_id: Any, field_name: Any, reason: Any,
               actor: Any) -> dict[str, Any]:
        """One raw field, only with a reason; the audit entry is written before it is shown."""
        if field_name not in REVEALABLE:
            raise InvalidField(f"field は {' / '.join(REVEALABLE)} のいずれかです")
        if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
            raise InvalidField(
                f"表示する理由を{MIN_REASON}文字以上で入力してください (a reason is required)")
        reason = reason.strip()[:MAX_REASON]
        who = actor_name(actor)
        with db.write_session(self.sessions) as session:
            row = self._event(session, sender_id, event_id)
            value = ce.raw_field(ce.from_row(row), field_name)
            if value is None:
                raise InvalidField(f"event {event_id} has no field {field_name!r}")
            # Card and individual numbers are never shown, even if an old row still holds one.
            value = mask_forbidden(value)[0] if isinstance(value, str) else value
            entry = ReviewAudit(at=db.utcnow(), actor=who, action="reveal", sender_id=sender_id,
                                details={"event_id": event_id, "field": field_name,
                                         "reason": mask_pii(reason)})
            session.add(entry)
            session.flush()
            audited = entry.to_dict()
        return {"conversation_id": sender_id, "event_id": event_id, "field": field_name,
                "value": value, "audit": audited}


def _tags(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InvalidField(f"{name} はタグの文字列のリストです ({name} must be a list of strings)")
    tags = []
    for tag in (t.strip() for t in value):
        if not TAG_RE.match(tag):
            raise InvalidField(
                f"タグ {tag!r} は使えません（64文字以内の文字・数字・-・_） (invalid tag)")
        if tag not in tags:
            tags.append(tag)
    return tags


def summary(conv: Conversation, extras: dict[str, list[str]], threshold: float) -> dict[str, Any]:
    return {
        "id": conv.sender_id,
        "started_at": conv.started_at.isoformat(),
        "last_at": conv.last_at.isoformat(),
        "day": conv.day.isoformat(),
        "turns": conv.turns,
        "first_words": conv.first_words,
        "handed_off": conv.handed_off,
        "fell_back": conv.fell_back,
        "fallback_turns": conv.fallback_turns,
        "min_confidence": conv.min_confidence,
        "low_confidence": conv.min_confidence is not None and conv.min_confidence < threshold,
        "operator_turns": conv.operator_turns,
        "ticket_reference": conv.ticket_reference,
        "turns_to_ticket": conv.turns_to_ticket,
        "reviewed": conv.reviewed,
        "reviewed_by": conv.reviewed_by,
        "reviewed_at": conv.reviewed_at.isoformat() if conv.reviewed_at else None,
        "anonymised": conv.anonymised_at is not None,
        "intents": list(extras.get("intent", [])),
        "request_types": list(extras.get("request_type", [])),
        "sections": list(extras.get("section", [])),
        "tags": list(extras.get("tags", [])),
    }


class _ReviewMasker:
    """The review's masking (`masking.py`) in the shape the one transcript asks for."""

    def __init__(self) -> None:
        self.masker = ConversationMasker()

    def learn(self, slot: str, value: Any) -> None:
        self.masker.learn(slot, value)

    def customer(self, text: str, asked: str | None,
                 entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        # An answer to a form question for a contact datum is hidden whole, entities too.
        whole = asked in PERSONAL_SLOTS and not text.startswith("/")
        return self.masker.customer_text(text, asked), self.masker.entities(entities, whole)

    def reply(self, text: str) -> str:
        return self.masker.text(text)

    def slot(self, name: str, value: Any) -> Any:
        return self.masker.slot_value(name, value)


def masked_transcript(rows: list[Any], threshold: float) -> list[dict[str, Any]]:
    """The conversation's turns from its `events` rows, masked for a supervisor."""
    return transcript.build(ce.from_rows(rows), _ReviewMasker()).turn_dicts(threshold)


def _notice_versions(transcript: list[dict[str, Any]]) -> list[str]:
    """The notice versions the conversation's answers quoted (slot notice_version), in order."""
    seen: list[str] = []
    for turn in transcript:
        for slot in turn["slots"]:
            value = slot["value"]
            if slot["name"] == "notice_version" and value and value not in seen:
                seen.append(value)
    return seen


def _ticket(ticket: Ticket) -> dict[str, Any]:
    """What the review needs of a ticket: never its contact data."""
    return {
        "reference": ticket.reference,
        "request_types": ticket.request_types,
        "status": ticket.status,
        "priority": ticket.priority,
        "created_at": ticket.created_at.isoformat() if ticket.created_at else None,
        "assignee": ticket.assignee,
        "nlu_intent": ticket.nlu_intent,
        "nlu_confidence": ticket.nlu_confidence,
        "notice_sections": ticket.notice_sections,
    }


class SupervisorReview(ReviewService):
    """What the supervisors' pages and API use: the review service with figures, export and
    labelling for training (all audited). Retention needs only the base (the projector)."""

    def metrics(self, filters: flt.Filters) -> dict[str, Any]:
        self.refresh()
        with self.sessions() as session:
            return metrics(session, filters)

    def export(self, filters: flt.Filters, kind: str, actor: Any,
               batch: int = 500) -> Iterator[dict[str, Any]]:
        """Rows, masked, newest conversation first; the export itself is audited first."""
        if kind not in ROW_KINDS:
            raise InvalidField(f"rows は {' / '.join(ROW_KINDS)} のいずれかです")
        self.refresh()
        with db.write_session(self.sessions) as session:
            session.add(ReviewAudit(at=db.utcnow(), actor=actor_name(actor), action="export",
                                    details={"rows": kind, "filters": filters.as_dict()}))
        threshold = filters.threshold

        def rows() -> Iterator[dict[str, Any]]:
            stmt = flt.conversations(filters)
            offset = 0
            while True:
                with self.sessions() as session:
                    convs = list(session.execute(stmt.limit(batch).offset(offset)).scalars())
                    if not convs:
                        return
                    extras = self._extras(session, [c.id for c in convs])
                    events: dict[str, list[Any]] = defaultdict(list)
                    if kind == "turns":
                        for row in session.execute(
                            select(EVENTS)
                            .where(EVENTS.c.sender_id.in_([c.sender_id for c in convs]))
                            .order_by(EVENTS.c.id)
                        ):
                            events[row.sender_id].append(row)
                for conv in convs:
                    if kind == "conversations":
                        yield summary(conv, extras.get(conv.id, {}), threshold)
                    else:
                        yield from turn_rows(
                            conv.sender_id,
                            masked_transcript(events[conv.sender_id], threshold))
                offset += batch

        return rows()

    def label_for_training(self, sender_id: str, event_id: Any, intent: Any,
                           actor: Any) -> dict[str, Any]:
        """The message's masked text as an example of `intent` in the review NLU file."""
        if not isinstance(intent, str) or not intent.strip():
            raise InvalidField("intent を指定してください (intent is required)")
        self.refresh()
        with self.sessions() as session:
            self._get(session, sender_id)
            row = self._event(session, sender_id, event_id)
            asked = self._asked_before(session, sender_id, row.id)
        result = add_example(example_text(row, asked), intent.strip())
        with db.write_session(self.sessions) as session:
            session.add(ReviewAudit(
                at=db.utcnow(), actor=actor_name(actor), action="training_example",
                sender_id=sender_id,
                details={"event_id": event_id, "intent": result["intent"],
                         "added": result["added"], "file": result["file"]}))
        return {"conversation_id": sender_id, "event_id": event_id, **result}

    @staticmethod
    def _asked_before(session: Session, sender_id: str, event_id: int) -> str | None:
        """The form question open when the message came (its answer is masked whole)."""
        rows = session.execute(
            select(EVENTS.c.type_name, EVENTS.c.action_name, EVENTS.c.data)
            .where(EVENTS.c.sender_id == sender_id, EVENTS.c.id < event_id,
                   EVENTS.c.type_name.in_([ce.SLOT, ce.SESSION_STARTED, ce.RESTART]))
            .order_by(EVENTS.c.id.desc())
        )
        for type_name, name, data in rows:
            if type_name != "slot":
                return None
            if name == "requested_slot":
                value = ce.load(data).get("value")
                return value if isinstance(value, str) else None
        return None
