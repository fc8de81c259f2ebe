"""DurableSQLTrackerStore's shortcuts for issue 14: its copy of an event is what `copy.copy` makes
of it, for every event type; the channel guard's reads give what Rasa's store reads, follow each
save and never miss what another replica wrote."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from madoguchi.rasa_adapters.tracker_store import DurableSQLTrackerStore, _shallow_copy
from tests.test_tracker_store import DOMAIN, as_dicts, new_conversation, turn

EVENTS = [
    UserUttered("開示したい", {"name": "request_disclosure", "confidence": 0.9},
                [{"entity": "fix_slot", "value": "phone"}],
                parse_data={"text": "開示したい", "entities": []}, metadata={"m": 1}),
    BotUttered("承知しました。", {"buttons": []}, metadata={"notice_version": "v2"}),
    ActionExecuted("action_answer_notice", policy="RulePolicy", confidence=1.0),
    SlotSet("request_stage", "confirming"), ActiveLoop("request_form"), LoopInterrupted(True),
    FollowupAction("action_listen"), ActionExecutionRejected("request_form"), ActionReverted(),
    UserUtteranceReverted(), AllSlotsReset(), Restarted(), SessionStarted(), ConversationPaused(),
    ConversationResumed(), DefinePrevUserUtteredFeaturization(False), EntitiesAdded([]),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_shallow_copy_is_copy_copy(event) -> None:
    mine, theirs = _shallow_copy(event), copy.copy(event)
    assert type(mine) is type(theirs) is type(event)
    assert mine is not event
    assert vars(mine) == vars(theirs) == vars(event)
    assert mine == event
    mine.timestamp = -1.0  # an attribute set on the copy never reaches the kept event
    assert event.timestamp != -1.0


# --- the channel guard's reads -----------------------------------------------------------------

def _store(db_url: str) -> tuple[DurableSQLTrackerStore, SQLTrackerStore]:
    return DurableSQLTrackerStore(DOMAIN, host=db_url), SQLTrackerStore(DOMAIN, host=db_url)


def test_a_read_is_what_rasa_reads_and_follows_each_save(db_url) -> None:
    ours, rasa = _store(db_url)
    try:
        assert asyncio.run(ours.retrieve_for_reading("nobody")) is None
        tracker = new_conversation(ours, "r1")
        asyncio.run(ours.save(tracker))
        for n in range(6):
            read = asyncio.run(ours.retrieve_for_reading("r1"))
            assert as_dicts(read) == as_dicts(asyncio.run(rasa.retrieve("r1")))
            # Until the conversation changes, readers share one tracker.
            assert asyncio.run(ours.retrieve_for_reading("r1")) is read
            tracker = asyncio.run(ours.retrieve("r1"))
            assert tracker is not read
            turn(tracker, n)
            asyncio.run(ours.save(tracker))
            again = asyncio.run(ours.retrieve_for_reading("r1"))
            assert as_dicts(again) == as_dicts(asyncio.run(rasa.retrieve("r1")))
            assert again.get_slot("request_type") == f"value {n}"
    finally:
        ours.engine.dispose()
        rasa.engine.dispose()


def test_a_read_after_another_replica_wrote_is_read_again(db_url) -> None:
    ours, rasa = _store(db_url)
    replica = DurableSQLTrackerStore(DOMAIN, host=db_url)
    try:
        tracker = new_conversation(ours, "r2")
        turn(tracker, 1)
        asyncio.run(ours.save(tracker))
        asyncio.run(ours.retrieve_for_reading("r2"))
        elsewhere = asyncio.run(replica.retrieve("r2"))
        turn(elsewhere, 2)
        asyncio.run(replica.save(elsewhere))
        read = asyncio.run(ours.retrieve_for_reading("r2"))
        assert as_dicts(read) == as_dicts(asyncio.run(rasa.retrieve("r2")))
        assert read.get_slot("request_type") == "value 2"
    finally:
        for store in (ours, rasa, replica):
            store.engine.dispose()


def test_a_conversation_changed_in_place_is_read_again_once_forgotten(db_url) -> None:
    """The channel masks the first half of a number split over two messages in the stored row
    itself; what the store keeps must not hand the clear half out afterwards."""
    ours, rasa = _store(db_url)
    try:
        tracker = new_conversation(ours, "r3")
        turn(tracker, 4111)
        asyncio.run(ours.save(tracker))
        assert "質問 4111" in [e.text for e in asyncio.run(ours.retrieve("r3")).events
                             if e.type_name == "user"]
        table = ours.SQLEvent.__table__
        with ours.engine.begin() as conn:
            row = conn.execute(select(table.c.id, table.c.data).where(
                table.c.sender_id == "r3", table.c.type_name == "user")).one()
            data = json.loads(row.data)
            data["text"] = "質問 ［カード番号］"
            conn.execute(update(table).where(table.c.id == row.id).values(data=json.dumps(data)))
        ours.forget("r3")
        for read in (asyncio.run(ours.retrieve("r3")),
                     asyncio.run(ours.retrieve_for_reading("r3"))):
            said = [e.text for e in read.events if e.type_name == "user"]
            assert said == ["質問 ［カード番号］"]
        assert as_dicts(asyncio.run(ours.retrieve("r3"))) == as_dicts(
            asyncio.run(rasa.retrieve("r3")))
    finally:
        ours.engine.dispose()
        rasa.engine.dispose()


# --- connections ------------------------------------------------------------------------------

def test_a_conversation_on_an_sqlite_file_is_served_by_one_kept_connection(sqlite_url) -> None:
    """Opening and closing an SQLite file's connection per session (SQLAlchemy 1.4's default)
    checkpoints and recreates the WAL at every save; the store keeps its connection instead,
    and what it reads is still what Rasa reads, after its own writes and another replica's."""
    ours, rasa = _store(sqlite_url)
    replica = DurableSQLTrackerStore(DOMAIN, host=sqlite_url)
    opened: list[object] = []
    sa_event.listen(ours.engine, "connect", lambda conn, _record: opened.append(conn))
    try:
        tracker = new_conversation(ours, "c1")
        asyncio.run(ours.save(tracker))
        for n in range(5):
            asyncio.run(ours.retrieve_for_reading("c1"))
            tracker = asyncio.run(ours.retrieve("c1"))
            turn(tracker, n)
            asyncio.run(ours.save(tracker))
            elsewhere = asyncio.run(replica.retrieve("c1"))
            turn(elsewhere, 100 + n)
            asyncio.run(replica.save(elsewhere))
            read = asyncio.run(ours.retrieve_for_reading("c1"))
            assert as_dicts(read) == as_dicts(asyncio.run(rasa.retrieve("c1")))
            assert read.get_slot("request_type") == f"value {100 + n}"
        assert len(opened) == 1
    finally:
        for store in (ours, rasa, replica):
            store.engine.dispose()


def _stamped_now(event) -> dict | None:
    # The empty message of a tracker that has none yet is stamped when it is made.
    return None if event is None else {**event.as_dict(), "timestamp": None}


def _state(tracker) -> dict:
    """What a turn reads of a tracker, beyond its events."""
    return {"slots": {n: (s.value, s.has_been_set) for n, s in tracker.slots.items()},
            "loop": tracker.active_loop, "action": tracker.latest_action,
            "paused": tracker.is_paused(), "followup": tracker.followup_action,
            "message": _stamped_now(tracker.latest_message),
            "bot": _stamped_now(tracker.latest_bot_utterance)}


def test_a_turns_tracker_is_rasas_and_owns_its_events(db_url) -> None:
    ours, rasa = _store(db_url)
    try:
        tracker = new_conversation(ours, "r5")
        turn(tracker, 0)
        asyncio.run(ours.save(tracker))
        for n in range(1, 5):
            view = asyncio.run(ours.retrieve_for_reading("r5"))
            mine = asyncio.run(ours.retrieve("r5"))
            theirs = asyncio.run(rasa.retrieve("r5"))
            assert as_dicts(mine) == as_dicts(theirs)
            assert _state(mine) == _state(theirs)
            assert not {id(e) for e in mine.events} & {id(e) for e in view.events}
            # The latest message is the turn's own event, as after a replay: what Rasa sets on
            # it (use_text_for_featurization) is saved with that event, never kept elsewhere.
            assert any(mine.latest_message is e for e in mine.events)
            mine.latest_message.use_text_for_featurization = True
            assert view.latest_message.use_text_for_featurization is not True
            turn(mine, n)
            asyncio.run(ours.save(mine))
    finally:
        ours.engine.dispose()
        rasa.engine.dispose()
