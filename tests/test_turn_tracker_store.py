"""The tracker store's copy of an event is what `copy.copy` makes of it, for every event type."""

from __future__ import annotations

import copy

import pytest
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

from madoguchi.rasa_adapters.tracker_store import _shallow_copy

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
