"""Retention and the review's projector never hold SQLite's write lock long enough for Rasa to
lose a turn (issue 15, item 9).

Rasa's SQL tracker store waits 5 s for a locked SQLite database, then its fail-safe keeps the
turn in memory only: gone from the chat log. Here the real Rasa server takes a customer's turns
while retention works through a backlog of old conversations, and the projector through the
thousands of events it has not read yet, on the same database file: every turn is in the
`events` table afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.review import retention
from tests.e2e.conftest import new_sender

CONVERSATIONS = 400
MESSAGES_EACH = 5  # 400 × 16 events: more than the projector's old 5,000 in one transaction
PER_MINUTE = 25  # below MADOGUCHI_RATE_PER_SENDER (30)


def _event(kind: str, at: float, **data: object) -> dict:
    return {"event": kind, "timestamp": at, **data}


def backlog(now: datetime) -> list[dict]:
    """Old conversations in Rasa's event format, each message with a phone number to mask."""
    rows = []
    for i in range(CONVERSATIONS):
        at = (now - timedelta(days=400, minutes=i)).timestamp()
        sender = f"lock-backlog-{now.timestamp():.0f}-{i:04d}"
        events = [_event("action", at, name="action_session_start"),
                  _event("session_started", at)]
        for k in range(MESSAGES_EACH):
            text = f"問い合わせです。電話は090-{1000 + i:04d}-{2000 + k:04d}、山田です"
            parse = {"intent": {"name": "request_disclosure", "confidence": 0.9},
                     "entities": [], "text": text,
                     "intent_ranking": [{"name": "request_disclosure", "confidence": 0.9}]}
            events += [_event("user", at + k, text=text, parse_data=parse, input_channel="rest"),
                       _event("action", at + k, name="action_listen"),
                       _event("bot", at + k, text="承りました。", data={}, metadata={})]
        rows += [{"sender_id": sender, "type_name": e["event"], "timestamp": e["timestamp"],
                  "intent_name": (e.get("parse_data") or {}).get("intent", {}).get("name"),
                  "action_name": e.get("name"), "data": json.dumps(e)} for e in events]
    return rows


def test_no_turn_is_lost_while_retention_and_the_projector_work_a_backlog(servers):
    sender = new_sender()
    engine = db.make_engine(servers.database_url)
    try:
        servers.say(sender, "こんにちは")  # the conversation exists before the work starts
        with db.write_session(db.session_factory(engine)) as session:
            session.execute(insert(EVENTS), backlog(datetime.now(timezone.utc)))

        failures: list[BaseException] = []

        def work() -> None:
            try:
                retention.run(engine, 30)
            except BaseException as exc:
                failures.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        said = ["こんにちは"]
        started = time.monotonic()
        while worker.is_alive() or len(said) < 6:
            text = f"個人情報の開示について質問です（{len(said)}）"
            servers.say(sender, text)
            said.append(text)
            if time.monotonic() - started > 600 or len(said) >= PER_MINUTE:
                break
            time.sleep(60 / PER_MINUTE)  # within the conversation's rate limit
        worker.join()
        during = len(said)

        assert not failures, failures
        assert during >= 6
        with engine.connect() as conn:
            stored = [json.loads(d).get("text") for d in conn.execute(
                select(EVENTS.c.data).where(EVENTS.c.sender_id == sender,
                                            EVENTS.c.type_name == "user")
                .order_by(EVENTS.c.id)).scalars()]
            anonymised = conn.execute(select(func.count()).select_from(EVENTS).where(
                EVENTS.c.sender_id.like("lock-backlog-%"),
                EVENTS.c.data.like("%090-1%"))).scalar()
        assert stored == said  # every turn in the chat log, none kept in memory only
        assert anonymised == 0  # and retention did its work meanwhile
    finally:
        engine.dispose()
