"""DurableSQLTrackerStore keeps each conversation's events between turns, never stale.

Every retrieve is compared with what Rasa's own SQLTrackerStore reads from the same database, on
SQLite and on PostgreSQL: the kept events are a shortcut, never a different answer.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from madoguchi.rasa_adapters.tracker_store import DurableSQLTrackerStore

DOMAIN = Domain.from_dict({
    "intents": ["greet", "ask_notice"],
    "slots": {"request_type": {"type": "text", "mappings": [{"type": "custom"}]}},
    "responses": {"utter_greet": [{"text": "こんにちは。"}]},
})


def run(coro):
    return asyncio.run(coro)


def turn(tracker: DialogueStateTracker, n: int) -> None:
    """One turn's events: the customer's words, an action, its slot and its answer."""
    tracker.update(UserUttered(f"質問 {n}", {"name": "ask_notice", "confidence": 0.9},
                               parse_data={"intent": {"name": "ask_notice", "confidence": 0.9},
                                           "text": f"質問 {n}", "entities": []}))
    tracker.update(ActionExecuted("action_answer_notice"))
    tracker.update(SlotSet("request_type", f"value {n}"))
    tracker.update(BotUttered(f"お答え {n}です。"))
    tracker.update(ActionExecuted("action_listen"))


def as_dicts(tracker: DialogueStateTracker | None) -> list[dict] | None:
    return None if tracker is None else [e.as_dict() for e in tracker.events]


def rows(store: SQLTrackerStore, sender_id: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"),
                            {"s": sender_id}).scalar_one()


@pytest.fixture
def stores(db_url):
    """Two replicas of our store and Rasa's plain one, on the same database."""
    ours = DurableSQLTrackerStore(DOMAIN, host=db_url)
    replica = DurableSQLTrackerStore(DOMAIN, host=db_url)
    rasa = SQLTrackerStore(DOMAIN, host=db_url)
    yield ours, replica, rasa
    for store in (ours, replica, rasa):
        store.engine.dispose()


def new_conversation(store: SQLTrackerStore, sender_id: str) -> DialogueStateTracker:
    tracker = store.init_tracker(sender_id)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    return tracker


def test_a_long_conversation_reads_back_as_rasa_reads_it_and_saves_only_new_events(stores):
    ours, _, rasa = stores
    tracker = new_conversation(ours, "c1")
    run(ours.save(tracker))
    for n in range(12):
        tracker = run(ours.retrieve("c1"))
        assert as_dicts(tracker) == as_dicts(run(rasa.retrieve("c1")))
        before = rows(ours, "c1")
        turn(tracker, n)
        run(ours.save(tracker))
        assert rows(ours, "c1") == before + 5  # the turn's five events, nothing again
    assert as_dicts(run(ours.retrieve("c1"))) == as_dicts(run(rasa.retrieve("c1")))
    assert run(ours.retrieve("c1")).get_slot("request_type") == "value 11"
    assert run(ours.retrieve("unknown")) is None


def test_what_another_replica_wrote_is_never_missed(stores):
    ours, replica, rasa = stores
    tracker = new_conversation(ours, "c2")
    turn(tracker, 1)
    run(ours.save(tracker))
    run(ours.retrieve("c2"))  # kept now
    elsewhere = run(replica.retrieve("c2"))
    turn(elsewhere, 2)
    run(replica.save(elsewhere))
    again = run(ours.retrieve("c2"))
    assert as_dicts(again) == as_dicts(run(rasa.retrieve("c2")))
    assert again.get_slot("request_type") == "value 2"
    before = rows(ours, "c2")
    turn(again, 3)
    run(ours.save(again))
    assert as_dicts(run(replica.retrieve("c2"))) == as_dicts(run(rasa.retrieve("c2")))
    assert rows(ours, "c2") == before + 5


def test_deleted_or_rewritten_rows_are_read_again(stores, monkeypatch):
    ours, _, rasa = stores
    tracker = new_conversation(ours, "c3")
    turn(tracker, 1)
    turn(tracker, 2)
    run(ours.save(tracker))
    run(ours.retrieve("c3"))
    with ours.engine.begin() as conn:
        last = conn.execute(sa.text("SELECT max(id) FROM events WHERE sender_id = 'c3'"))
        conn.execute(sa.text("DELETE FROM events WHERE id = :i"), {"i": last.scalar_one()})
    assert as_dicts(run(ours.retrieve("c3"))) == as_dicts(run(rasa.retrieve("c3")))
    # A rewrite in place (retention masks conversations idle for days) changes no stamp: what
    # was kept is dropped once idle longer than the store keeps anything.
    with ours.engine.begin() as conn:
        conn.execute(sa.text("UPDATE events SET data = replace(data, 'value 2', '[masked]') "
                             "WHERE sender_id = 'c3'"))
    later = time.monotonic() + 10 * 24 * 3600
    monkeypatch.setattr("madoguchi.rasa_adapters.tracker_store.time.monotonic", lambda: later)
    masked = run(ours.retrieve("c3"))
    assert masked.get_slot("request_type") == "[masked]"
    assert as_dicts(masked) == as_dicts(run(rasa.retrieve("c3")))


def test_a_new_session_is_read_from_its_start(stores):
    ours, _, rasa = stores
    tracker = new_conversation(ours, "c4")
    turn(tracker, 1)
    run(ours.save(tracker))
    tracker = run(ours.retrieve("c4"))
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted(timestamp=time.time() + 1))
    tracker.update(ActionExecuted("action_listen"))
    run(ours.save(tracker))
    again = run(ours.retrieve("c4"))
    assert as_dicts(again) == as_dicts(run(rasa.retrieve("c4")))
    # from the new SessionStarted on, as Rasa reads it: the last session's slot is not there
    assert isinstance(again.events[0], SessionStarted)
    assert again.get_slot("request_type") is None


def test_a_turn_that_was_not_saved_leaves_nothing_behind(stores):
    ours, _, rasa = stores
    tracker = new_conversation(ours, "c5")
    turn(tracker, 1)
    run(ours.save(tracker))
    failed = run(ours.retrieve("c5"))
    turn(failed, 2)
    failed.update(DefinePrevUserUtteredFeaturization(True))
    again = run(ours.retrieve("c5"))
    assert as_dicts(again) == as_dicts(run(rasa.retrieve("c5")))
    assert again.get_slot("request_type") == "value 1"
    assert not again.latest_message.use_text_for_featurization
