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
    """As a prediction asks: each set of options in turn, about the same tracker; its applied
    events are walked at most once after each new event (appended or capped), whoever asks:
    our states or Rasa's own, which ask `applied_events` once per call."""
    walks = []
    walk = fast_paths._walk_applied
    monkeypatch.setattr(fast_paths, "_walk_applied", lambda t: walks.append(1) or walk(t))
    tracker = DialogueStateTracker("conversation-3", DOMAIN.slots)
    capped = DialogueStateTracker("conversation-4", DOMAIN.slots, max_event_history=6)
    for event in itertools.chain.from_iterable(turns()):
        for current in (tracker, capped):
            current.update(_shallow_copy(event), DOMAIN)
            walks.clear()
            for options in OPTIONS:
                assert current.past_states(DOMAIN, **options) == \
                    fast_paths._original_states(DOMAIN, current, **options)
            assert len(walks) <= 1


def test_a_grown_tracker_marks_only_its_new_events(monkeypatch) -> None:
    """The next prediction of a turn: the events marked before are not marked again, and the
    states are still Rasa's; a new tracker of copies (the next turn) is marked anew."""
    marked = []
    mark = fast_paths._mark
    monkeypatch.setattr(fast_paths, "_mark", lambda event: marked.append(event) or mark(event))
    tracker = DialogueStateTracker("conversation-5", DOMAIN.slots)
    for event in itertools.chain.from_iterable(turns()):
        tracker.update(_shallow_copy(event), DOMAIN)
        marked.clear()
        assert tracker.past_states(DOMAIN) == fast_paths._original_states(DOMAIN, tracker)
        assert len(marked) <= 1
    copies = DialogueStateTracker.from_events(
        "conversation-5", [_shallow_copy(e) for e in tracker.events], DOMAIN.slots)
    marked.clear()
    assert copies.past_states(DOMAIN) == fast_paths._original_states(DOMAIN, copies)
    assert len(marked) == len(copies.applied_events())


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


def seeded_conversation(seed: int) -> list:
    """Seed 0 is the written conversation of `turns`, every other a random one."""
    if seed == 0:
        return list(itertools.chain.from_iterable(turns()))
    return random_conversation(seed)


@pytest.mark.parametrize("seed", range(40))
def test_applied_events_are_rasas_after_every_event(seed) -> None:
    events = seeded_conversation(seed)
    tracker = DialogueStateTracker("applied", DOMAIN.slots)
    for event in events:
        tracker.update(event, DOMAIN)
        ours, rasas = tracker.applied_events(), fast_paths._original_applied_events(tracker)
        assert [id(e) for e in ours] == [id(e) for e in rasas]


@pytest.mark.parametrize("seed", range(40))
def test_the_kept_applied_events_follow_a_growing_tracker_as_rasas(seed, monkeypatch) -> None:
    """Continued over the appended events, or walked again where an undo, a reset or a loop
    changes what came before: after every event, Rasa's applied events and their marks."""
    walks = []
    walk = fast_paths._walk_applied
    monkeypatch.setattr(fast_paths, "_walk_applied", lambda t: walks.append(1) or walk(t))
    tracker = DialogueStateTracker("grown", DOMAIN.slots)
    events = seeded_conversation(seed)
    for event in events:
        tracker.update(event, DOMAIN)
        ours, marks = fast_paths._applied_and_marks(tracker)
        rasas = fast_paths._original_applied_events(tracker)
        assert [id(e) for e in ours] == [id(e) for e in rasas]
        assert marks == [fast_paths._mark(e) for e in rasas]
        mine = tracker.applied_events()  # the caller's own list, Rasa's events
        assert [id(e) for e in mine] == [id(e) for e in rasas]
        mine.clear()
    if seed == 0:  # a written conversation with a form: most events are only appended
        assert len(walks) < len(events) / 2


def test_applied_events_installed() -> None:
    assert DialogueStateTracker.applied_events is fast_paths.applied_events


def _same_state(twin: DialogueStateTracker, rasas: DialogueStateTracker,
                source: DialogueStateTracker) -> None:
    """The copy holds what Rasa's replayed copy holds, and nothing the source changes later."""
    assert vars(twin).keys() == vars(rasas).keys()
    assert [id(e) for e in twin.events] == [id(e) for e in rasas.events]
    assert twin.events.maxlen == rasas.events.maxlen
    assert {n: (type(s), vars(s)) for n, s in twin.slots.items()} == \
        {n: (type(s), vars(s)) for n, s in rasas.slots.items()}
    assert all(twin.slots[n] is not source.slots[n] for n in source.slots)
    for name in ("latest_message", "latest_bot_utterance"):
        ours, theirs = getattr(twin, name), getattr(rasas, name)
        if any(theirs is e for e in rasas.events):
            assert ours is theirs
        else:
            # The empty message a reset leaves: the copy's own (Rasa's is made at its reset).
            assert ours is not getattr(source, name)
            assert {**ours.as_dict(), "timestamp": 0} == {**theirs.as_dict(), "timestamp": 0}
    assert twin.latest_action == rasas.latest_action
    assert twin.latest_action is not source.latest_action
    assert twin.active_loop == rasas.active_loop
    assert twin.active_loop is None or twin.active_loop is not source.active_loop
    skip = {"events", "slots", "latest_message", "latest_bot_utterance"}
    assert {k: v for k, v in vars(twin).items() if k not in skip} == \
        {k: v for k, v in vars(rasas).items() if k not in skip}


@pytest.mark.parametrize("seed", range(40))
def test_a_copy_is_rasas_replayed_copy_after_every_event(seed) -> None:
    events = seeded_conversation(seed)
    tracker = DialogueStateTracker("copied", DOMAIN.slots)
    tracker.model_id, tracker.assistant_id, tracker.sender_source = "m", "a", "s"
    for event in events:
        tracker.update(event, DOMAIN)
        _same_state(tracker.copy(), fast_paths._original_copy(tracker), tracker)


def test_what_happens_to_a_copy_stays_in_the_copy() -> None:
    tracker = DialogueStateTracker("copied", DOMAIN.slots)
    for event in [ActionExecuted("action_listen"), user("開示して", "request_disclosure"),
                  ActionExecuted("request_form"), ActiveLoop("request_form"),
                  SlotSet("requested_slot", "customer_name")]:
        tracker.update(event, DOMAIN)
    before = fast_paths._original_copy(tracker)
    twin = tracker.copy()
    for event in [ActionExecutionRejected("request_form"), SlotSet("customer_name", "山田"),
                  ActiveLoop(None), Restarted()]:
        twin.update(event, DOMAIN)
    _same_state(fast_paths._original_copy(tracker), before, tracker)
    assert len(tracker.events) == 5 and tracker.active_loop.name == "request_form"


def test_a_tracker_rasa_would_not_make_is_copied_rasas_way(monkeypatch) -> None:
    replayed = []
    monkeypatch.setattr(fast_paths, "_original_copy",
                        lambda t: replayed.append(t) or DialogueStateTracker("x", None))
    unusual = DialogueStateTracker("copied", DOMAIN.slots)
    unusual.extra = 1
    anyslots = DialogueStateTracker("copied", None)
    for tracker in (unusual, anyslots):
        tracker.copy()
    assert replayed == [unusual, anyslots]


def test_copy_and_state_formatting_installed() -> None:
    from rasa.core.policies.policy import Policy

    assert DialogueStateTracker.copy is fast_paths.tracker_copy
    assert Policy.format_tracker_states is fast_paths.format_tracker_states


def test_states_are_formatted_only_for_a_debug_line_that_is_written(monkeypatch) -> None:
    import logging

    from rasa.core.policies.rule_policy import RulePolicy

    states = [{"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}}]
    rasas = fast_paths.format_tracker_states.rasa_original(states)
    assert "greet" in rasas
    monkeypatch.setattr(fast_paths.structlog, "is_configured", lambda: True)
    log = logging.getLogger("rasa.core.policies.rule_policy")
    level = log.level
    try:
        log.setLevel(logging.INFO)
        assert RulePolicy.format_tracker_states(states) == fast_paths.UNFORMATTED_STATES
        log.setLevel(logging.DEBUG)
        assert RulePolicy.format_tracker_states(states) == rasas
        monkeypatch.setattr(fast_paths.structlog, "is_configured", lambda: False)
        log.setLevel(logging.INFO)
        assert RulePolicy.format_tracker_states(states) == rasas
    finally:
        log.setLevel(level)


def test_an_event_type_resolves_to_rasas_class_once_found() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    assert Event.resolve_by_type is fast_paths.resolve_event_type
    names = {cls.type_name for cls in all_subclasses(Event)}
    for _ in range(2):  # found by the walk, then kept
        for name in names:
            assert Event.resolve_by_type(name) is fast_paths._original_resolve(name)
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    assert "no_such_event" not in fast_paths._event_classes
    assert Event.resolve_by_type("topic") is None
