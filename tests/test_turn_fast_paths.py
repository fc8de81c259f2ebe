"""The kept replay of fast_paths gives the policies exactly the dialogue states Rasa would.

Each tracker's states are compared with Rasa's own `states_for_tracker_history` (kept as
`_original_states`), for every option the policies use, as a conversation grows turn by turn,
when it is rewound, and when another conversation arrives under the same id.
"""

from __future__ import annotations

import itertools
import random

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    DefinePrevUserUtteredFeaturization,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from madoguchi.rasa_adapters import fast_paths
from madoguchi.rasa_adapters.tracker_store import _shallow_copy

DOMAIN = Domain.from_dict({
    "intents": ["greet", "ask_notice", "request_disclosure", "affirm"],
    "entities": ["fix_slot"],
    "slots": {
        "request_stage": {"type": "categorical", "values": ["confirming", "collecting"],
                          "mappings": [{"type": "custom"}]},
        "customer_name": {"type": "text", "influence_conversation": False,
                          "mappings": [{"type": "custom"}]},
        "requested_slot": {"type": "any", "influence_conversation": False,
                           "mappings": [{"type": "custom"}]},
    },
    "forms": {"request_form": {"required_slots": ["customer_name"]}},
    "actions": ["action_answer_notice", "action_start_request", "validate_request_form"],
    "responses": {"utter_greet": [{"text": "こんにちは。"}]},
})
RULE_ONLY = {"rule_only_slots": ["request_stage"], "rule_only_loops": ["request_form"]}
OPTIONS = [dict(omit_unset_slots=omit, ignore_rule_only_turns=ignore, rule_only_data=data)
           for omit, ignore, data in itertools.product(
               [False, True], [False, True], [None, RULE_ONLY])]


def user(text: str, intent: str, entities: list[dict] | None = None) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, entities or [],
                       parse_data={"intent": {"name": intent, "confidence": 0.9},
                                   "text": text, "entities": entities or []})


def turns() -> list[list]:
    """A greeting, a notice question, a request into its form, a rewound message."""
    return [
        [user("こんにちは", "greet"), DefinePrevUserUtteredFeaturization(False),
         ActionExecuted("utter_greet"), BotUttered("こんにちは。"),
         ActionExecuted("action_listen")],
        [user("利用目的は", "ask_notice"), ActionExecuted("action_answer_notice"),
         BotUttered("お答えします。"), ActionExecuted("action_listen")],
        [user("開示して", "request_disclosure", [{"entity": "fix_slot", "value": "phone"}]),
         ActionExecuted("action_start_request"), SlotSet("request_stage", "confirming"),
         ActionExecuted("action_listen")],
        [user("はい", "affirm"), ActionExecuted("request_form", hide_rule_turn=True),
         ActiveLoop("request_form"), SlotSet("requested_slot", "customer_name"),
         ActionExecuted("action_listen", hide_rule_turn=True)],
        [user("山田", "affirm"), UserUtteranceReverted(), user("山田花子", "affirm"),
         ActionExecuted("request_form"), SlotSet("customer_name", "山田花子"),
         ActiveLoop(None), SlotSet("request_stage", "collecting"), ActionExecuted("utter_greet"),
         ActionReverted(), ActionExecuted("action_listen")],
    ]


def fresh_states(tracker: DialogueStateTracker, **options) -> list[dict]:
    return fast_paths._original_states(DOMAIN, tracker, **options)


@pytest.fixture(autouse=True)
def no_kept_replays():
    fast_paths._replays.clear()
    yield
    fast_paths._replays.clear()


def test_installed() -> None:
    assert Domain.states_for_tracker_history is fast_paths.states_for_tracker_history


@pytest.mark.parametrize("options", OPTIONS)
def test_growing_conversation_gets_rasas_states_at_every_event(options) -> None:
    tracker = DialogueStateTracker("conversation-1", DOMAIN.slots)
    for event in itertools.chain.from_iterable(turns()):
        tracker.update(event, DOMAIN)
        assert tracker.past_states(DOMAIN, **options) == fresh_states(tracker, **options)
    [kept] = fast_paths._replays.values()  # one replay, continued event after event
    assert len(kept.marks) == len(tracker.applied_events())


@pytest.mark.parametrize("options", OPTIONS)
def test_each_retrieve_a_new_tracker_of_copies(options) -> None:
    """As the tracker store rebuilds the conversation every turn from copies of its events."""
    events: list = []
    for step in turns():
        events += step
        tracker = DialogueStateTracker.from_events(
            "conversation-2", [_shallow_copy(e) for e in events], DOMAIN.slots)
        assert tracker.past_states(DOMAIN, **options) == fresh_states(tracker, **options)


def test_another_conversation_under_the_same_id_is_replayed_from_its_start() -> None:
    first = DialogueStateTracker.from_events(
        "same-id", list(itertools.chain.from_iterable(turns()[:3])), DOMAIN.slots)
    assert first.past_states(DOMAIN) == fresh_states(first)
    other = DialogueStateTracker.from_events(
        "same-id", [*turns()[1], *turns()[0]], DOMAIN.slots)
    assert other.past_states(DOMAIN) == fresh_states(other)
    shorter = DialogueStateTracker.from_events("same-id", turns()[0][:2], DOMAIN.slots)
    assert shorter.past_states(DOMAIN) == fresh_states(shorter)


def test_a_rewritten_message_is_not_taken_for_the_kept_one() -> None:
    events = list(itertools.chain.from_iterable(turns()[:3]))
    tracker = DialogueStateTracker.from_events("rewritten", events, DOMAIN.slots)
    tracker.past_states(DOMAIN)
    changed = [_shallow_copy(e) for e in events]
    changed[0].parse_data = {**changed[0].parse_data, "intent": {"name": "ask_notice"}}
    changed[0].intent = {"name": "ask_notice", "confidence": 0.9}
    again = DialogueStateTracker.from_events("rewritten", changed, DOMAIN.slots)
    assert again.past_states(DOMAIN) == fresh_states(again)


def test_callers_may_change_their_states_without_touching_the_kept_ones() -> None:
    tracker = DialogueStateTracker.from_events(
        "mutating", list(itertools.chain.from_iterable(turns())), DOMAIN.slots)
    states = tracker.past_states(DOMAIN)
    for state in states:
        for sub in state.values():
            if isinstance(sub, dict):
                sub.clear()
    del states[:]
    assert tracker.past_states(DOMAIN) == fresh_states(tracker)


def test_every_option_on_one_growing_tracker_walks_its_events_once_per_event(
        monkeypatch) -> None:
    """As a prediction asks: each set of options in turn, about the same tracker; the applied
    events are taken again only once the tracker has a new event (appended or capped)."""
    walks = []
    applied_events = DialogueStateTracker.applied_events

    def counted(tracker: DialogueStateTracker) -> list:
        walks.append(len(tracker.events))
        return applied_events(tracker)

    monkeypatch.setattr(DialogueStateTracker, "applied_events", counted)
    tracker = DialogueStateTracker("conversation-3", DOMAIN.slots)
    capped = DialogueStateTracker("conversation-4", DOMAIN.slots, max_event_history=6)
    for event in itertools.chain.from_iterable(turns()):
        for current in (tracker, capped):
            current.update(_shallow_copy(event), DOMAIN)
            walks.clear()
            for options in OPTIONS:
                assert current.past_states(DOMAIN, **options) == \
                    fast_paths._original_states(DOMAIN, current, **options)
            # Rasa's own states walk it once per call; ours once for all the options.
            assert walks.count(len(current.events)) == 1 + len(OPTIONS)


def random_conversation(seed: int, length: int = 60) -> list:
    """Events drawn at random, loops, rejections, undos and restarts among them."""
    rng = random.Random(seed)
    makers = [
        lambda: user("はい", "affirm"), lambda: user("開示して", "request_disclosure"),
        lambda: ActionExecuted("action_listen"), lambda: ActionExecuted("request_form"),
        lambda: ActionExecuted("status_form"), lambda: ActionExecuted("action_answer_notice"),
        lambda: ActiveLoop("request_form"), lambda: ActiveLoop("status_form"),
        lambda: ActiveLoop(None), lambda: ActionExecutionRejected("request_form"),
        lambda: SlotSet("requested_slot", "customer_name"), lambda: BotUttered("はい。"),
        lambda: DefinePrevUserUtteredFeaturization(False), ActionReverted,
        UserUtteranceReverted, Restarted, SessionStarted, ConversationPaused,
    ]
    weights = [6, 3, 6, 5, 2, 3, 2, 1, 2, 1, 2, 3, 1, 1, 1, 0.3, 0.3, 0.3]
    return [rng.choices(makers, weights)[0]() for _ in range(length)]


@pytest.mark.parametrize("seed", range(40))
def test_applied_events_are_rasas_after_every_event(seed) -> None:
    events = random_conversation(seed)
    if seed == 0:
        events = list(itertools.chain.from_iterable(turns()))
    tracker = DialogueStateTracker("applied", DOMAIN.slots)
    for event in events:
        tracker.update(event, DOMAIN)
        ours, rasas = tracker.applied_events(), fast_paths._original_applied_events(tracker)
        assert [id(e) for e in ours] == [id(e) for e in rasas]


def test_applied_events_installed() -> None:
    assert DialogueStateTracker.applied_events is fast_paths.applied_events
