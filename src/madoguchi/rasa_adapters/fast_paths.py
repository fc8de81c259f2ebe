"""Rasa's work made once instead of every turn; importing this module applies it.

1. Rasa 3.6 checks every action-server reply with `jsonschema.validate(reply, schema)`, which
validates the schema itself against its meta-schema and builds a new validator each time: about
20 ms per action call for the events schema, more than the action's own work. Here the schema is
checked and its validator built once; the reply is still checked against the same schema, and a
reply that does not fit raises the same `ValidationError` (jsonschema's best match, with Rasa's
sentence appended), so nothing changes but the time.

2. Before each prediction, MemoizationPolicy and RulePolicy turn the whole conversation into
dialogue states (`Domain.states_for_tracker_history`): the tracker is replayed event by event
from its start, several times per prediction, two or more predictions per turn, so a turn costs
more the longer the conversation (issue 14). Here the replay is kept per conversation: the next
call whose events begin with the same events (compared by type, timestamp and what a state reads
in them) continues from where the last one stopped; any other tracker (a rewound one, another
conversation under the same id) is replayed from its start as Rasa does, and replaces what was
kept. Callers receive their own copies of the states (they delete keys and states in place).
The policies ask three times per prediction, with different options, about the same tracker:
its applied events, which walk the whole conversation, are taken once until it has a new event.

3. Rasa sends every action-server call the whole conversation (every event, as JSON) and the
domain: 30 KB at the first turn, 180 KB by the fiftieth, serialised, sent, parsed and collected
again for each call (issue 14's profile). The notice answers (CURRENT_TURN_ACTIONS) read only the
latest message, the slots and the active loop, never an earlier event nor the domain
(tests/test_turn_action_calls.py runs them on a tracker whose history cannot be read): a call to
one of them carries the current turn's events (from the customer's latest message on) and no
domain; everything else in the tracker's state is what Rasa sends. The forms' validations
(CURRENT_TURN_VALIDATIONS) read the current turn too, and get the domain. Every other action
gets exactly Rasa's call; with `enable_selective_domain` in endpoints.yml, Rasa sends the
domain to no action but the validations (actions/common.py's ChatAction takes none).

4. `DialogueStateTracker.applied_events` walks the whole conversation several times a turn (the
session check, each prediction, …) and asks up to five `isinstance` questions of every event,
each slow on Rasa's abstract event classes. Here each event type is classified once, and the
walk is Rasa's, in Rasa's order, with Rasa's own helpers for the undos.

5. Rasa copies the tracker before running each action (`DialogueStateTracker.copy`) by replaying
every event of the conversation into a new tracker. A tracker's state is made by its events only
(Rasa changes it nowhere else), so the copy here takes the state as it stands: the same event
objects in a new list, copies of the slots, the latest action and the active loop (which Rasa
changes in place), and what Rasa's copy resets (the model and assistant ids, the sender source).
A tracker with attributes Rasa's does not have, or without a domain's slots, is replayed.

6. RulePolicy formats the whole conversation's dialogue states for a debug log line before
every search of its rules, whether or not debug lines are written. When Rasa's logging drops
them (structlog configured, RulePolicy's logger not at DEBUG), the line gets a short placeholder
instead; with `--debug` it is Rasa's text.

7. `Event.resolve_by_type` walks every subclass of Event (asking each whether it is abstract) to
find the class of one serialised event, about 40 µs, for every event Rasa reads from the action
server and the tracker store. The class it finds for a type name is kept; a name it does not find
(an unknown type, the old `topic`) is asked again each time, as before. A class defined after its
type name was first resolved would not be seen (Rasa defines its events at import).

8. MemoizationPolicy and RulePolicy are given copies of every dialogue state of the conversation
at each prediction, and each writes them all as JSON to look them up (MemoizationPolicy, whose
`max_history` is unset here, in its memory of stories, which holds none in this project;
RulePolicy among its rules when none matches): the policies' share of a turn grew with the
conversation. Here, while one of the two makes its prediction states, the replay copies only the
last states it can read: MemoizationPolicy's `max_history`, or one state when it remembers no
story; RulePolicy's longest rule plus one. Their answers stay Rasa's: a rule is matched state by
state from the latest back, never further than its length, and the JSON of more states than any
rule or memory has is none of them, as the JSON of all of them is not
(tests/test_policy_states.py compares every prediction of long conversations). Training, a rule
tracker, another policy, or a memory of stories without a bound gets every state.

Imported by madoguchi.rasa_adapters.tracker_store, which every profile's endpoints name.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import itertools
import json
import logging
import operator
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import rasa
import structlog
from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import Policy
from rasa.core.policies.rule_policy import (
    RULES,
    RULES_FOR_LOOP_UNHAPPY_PATH,
    RULES_NOT_IN_STORIES,
    RulePolicy,
)
from rasa.shared.constants import DEFAULT_SENDER_ID, DOCS_BASE_URL
from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import AnySlotDict, DialogueStateTracker, EventVerbosity

_SUFFIX = (". Failed to validate Action server response from API, make sure your response "
           "from the Action endpoint is valid. For more information about the format visit "
           f"{DOCS_BASE_URL}/custom-actions")


@cache
def reply_validator() -> Any:
    """The validator `jsonschema.validate` would build for Rasa's reply schema, built once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result` with the validator built once."""
    error = best_match(reply_validator().iter_errors(result))
    if error is not None:
        error.message += _SUFFIX
        raise error
    return True


# Replays kept, least recently used dropped: about three per conversation (one per set of
# options the policies ask with), each holding the conversation's events.
KEPT_REPLAYS = 1000
# Rasa's own, even if this module is executed again.
_original_states = getattr(Domain.states_for_tracker_history, "rasa_original",
                           Domain.states_for_tracker_history)


def _mark(event: Event) -> tuple[Any, ...]:
    """What identifies an event for the states: its type and time, and what a state reads."""
    if isinstance(event, UserUttered):
        # Not `use_text_for_featurization`: the prediction after a message sets it on the
        # message already replayed (DefinePrevUserUtteredFeaturization, before the next
        # action), and the states read it only from there on.
        return (UserUttered, event.timestamp, event.text, event.intent_name,
                tuple((e.get("entity"), e.get("role"), e.get("group")) for e in event.entities))
    if isinstance(event, ActionExecuted):
        return (ActionExecuted, event.timestamp, event.action_name, event.action_text,
                event.hide_rule_turn)
    if isinstance(event, SlotSet):
        return (SlotSet, event.timestamp, event.key, repr(event.value))
    if isinstance(event, ActiveLoop):
        return (ActiveLoop, event.timestamp, event.name)
    return (type(event), event.timestamp)


@dataclass
class _Replay:
    """Rasa's loop in `states_for_tracker_history`, stopped after `marks`' events."""

    marks: list[tuple[Any, ...]]
    tracker: DialogueStateTracker
    states: list[dict[str, Any]] = field(default_factory=list)
    last_ml_action: Any = None
    turn_was_hidden: bool = False

    def step(self, domain: Domain, hide_rule_turn: bool, ignore_rule_only_turns: bool,
             omit_unset_slots: bool, rule_only_data: dict[str, Any] | None) -> None:
        """One prior tracker of Rasa's loop, as its body handles it."""
        tr = self.tracker
        if ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action = domain._get_prev_action_sub_state(tr)
            if not tr.followup_action and not tr.latest_action_name == tr.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tr, omit_unset_slots=omit_unset_slots)
        if ignore_rule_only_turns:
            domain._remove_rule_only_features(state, rule_only_data)
            if self.states:
                domain._substitute_rule_only_user_input(state, self.states[-1])
            if self.last_ml_action:
                state[PREVIOUS_ACTION] = self.last_ml_action
        self.states.append(domain._clean_state(state))


_replays: OrderedDict[tuple[Any, ...], _Replay] = OrderedDict()
_replays_lock = threading.Lock()


def _own(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies down to the sub-states: callers delete keys of both in place."""
    return [{kind: dict(sub) if isinstance(sub, dict) else sub for kind, sub in state.items()}
            for state in states]


# The latest tracker's applied events: (tracker, event count, last event, applied events, the
# conversation's loop names). Rasa asks for a tracker's applied events several times a turn (the
# session check, the policies' three state requests per prediction, …), each a walk over the
# whole conversation: they are taken once for as long as the tracker has no new event, and
# continued over the new events when it has only appended some. The marks of the latest applied
# events: (applied events, marks).
_applied_kept: list[tuple[Any, ...] | None] = [None]
_marks_kept: list[tuple[list[Event], list[tuple[Any, ...]]] | None] = [None]


def _same_objects(events: list[Event], before: list[Event]) -> int:
    """How many leading events of `events` are the very objects of `before`."""
    return sum(1 for _ in itertools.takewhile(bool, map(operator.is_, events, before)))


def _loop_names(events: Any) -> frozenset[str]:
    """The names of the loops the conversation activated (Rasa's `loop_names`)."""
    return frozenset(event.name for event in events
                     if (_kinds.get(type(event)) or _kind(type(event))) == _LOOP and event.name)


def _applied_after(events: Any, kept: tuple[Any, ...]) -> list[Event] | None:
    """The applied events of the kept tracker after it appended events, as Rasa's walk would
    end, or None when the walk must be taken again: a reset, an undo, a loop's own execution
    or a loop not seen before, whose name changes how earlier events are read."""
    _, count, last, applied, loops = kept
    if count == 0 or len(events) <= count or events[count - 1] is not last:
        return None  # not only appended (a capped history dropped its oldest events)
    grown = list(applied)
    for i in range(count, len(events)):
        event = events[i]
        kind = _kinds.get(type(event)) or _kind(type(event))
        if kind == _OTHER or (kind == _LOOP and (not event.name or event.name in loops)) \
                or (kind == _ACTION and event.action_name not in loops):
            grown.append(event)
        else:
            return None
    return grown


def _kept_applied(tracker: DialogueStateTracker) -> list[Event] | None:
    """The kept applied events if they are this tracker's as it stands (never to be changed).

    A tracker only ever grows (`update` appends; a capped history drops its oldest event and
    changes the last one), so the same object with as many events and the same last one has
    the same applied events. The tracker is held, so its id cannot be reused meanwhile.
    """
    events = tracker.events
    with _replays_lock:
        kept = _applied_kept[0]
    if kept is not None and kept[0] is tracker and kept[1] == len(events) \
            and kept[2] is (events[-1] if events else None):
        return kept[3]
    return None


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """`DialogueStateTracker.applied_events`: the events without those reverted (a list of the
    caller's own)."""
    kept_applied = _kept_applied(self)
    if kept_applied is not None:
        return list(kept_applied)
    events = self.events
    with _replays_lock:
        kept = _applied_kept[0]
    applied = _applied_after(events, kept) if kept is not None and kept[0] is self else None
    if applied is None:
        applied, loops = _walk_applied(self), _loop_names(events)
    else:
        loops = kept[4]
    with _replays_lock:
        _applied_kept[0] = (self, len(events), events[-1] if events else None, applied, loops)
    return list(applied)


def _applied_and_marks(tracker: DialogueStateTracker) -> tuple[list[Event], list[tuple[Any, ...]]]:
    """The tracker's applied events and their marks, marking only events not marked before.

    The marks of the leading events that are the very objects marked last time (the next
    prediction of the turn, the tracker grown) are taken again: Rasa never changes what a mark
    reads in an event once it is in the tracker.
    """
    applied = _kept_applied(tracker)
    if applied is None:
        tracker.applied_events()  # keeps them, through whatever wraps Rasa's method
        applied = _kept_applied(tracker)
    if applied is None:  # Rasa's own method, not this module's: nothing is kept
        applied = tracker.applied_events()
    with _replays_lock:
        before = _marks_kept[0]
    if before is not None and before[0] is applied:
        return applied, before[1]
    same = 0 if before is None else _same_objects(applied, before[0])
    marks = [*before[1][:same], *(_mark(event) for event in applied[same:])] if same \
        else [_mark(event) for event in applied]
    with _replays_lock:
        _marks_kept[0] = (applied, marks)
    return applied, marks


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """`Domain.states_for_tracker_history`, continuing the conversation's kept replay."""
    if tracker.is_rule_tracker or not tracker.sender_id:
        return _original_states(self, tracker, omit_unset_slots, ignore_rule_only_turns,
                                rule_only_data)
    key = (tracker.sender_id, id(self), omit_unset_slots, ignore_rule_only_turns,
           repr(rule_only_data))
    applied, marks = _applied_and_marks(tracker)
    with _replays_lock:
        replay = _replays.pop(key, None)
    if replay is None or len(replay.marks) > len(marks) \
            or marks[:len(replay.marks)] != replay.marks:
        replay = _Replay([], tracker.init_copy())
    options = (ignore_rule_only_turns, omit_unset_slots, rule_only_data)
    for event in applied[len(replay.marks):]:
        if isinstance(event, ActionExecuted):
            replay.step(self, event.hide_rule_turn, *options)
        replay.tracker.update(event)
    replay.marks = marks
    # The last state (after every event) is not kept: the next event may change it. A policy
    # that reads only the last states gets copies of those alone (8.).
    wanted = _states_wanted.get()
    earlier = replay.states if wanted is None else replay.states[-wanted:]
    last = _Replay(marks, replay.tracker, list(earlier), replay.last_ml_action,
                   replay.turn_was_hidden)
    last.step(self, False, *options)
    states = _own(last.states if wanted is None else last.states[-wanted:])
    with _replays_lock:
        _replays[key] = replay
        while len(_replays) > KEPT_REPLAYS:
            _replays.popitem(last=False)
    return states


states_for_tracker_history.rasa_original = _original_states  # type: ignore[attr-defined]


# What `applied_events` does with an event, by its type, in the order Rasa asks.
_RESET, _ACTION_REVERTED, _USER_REVERTED, _ACTION, _LOOP, _OTHER = range(6)
_kinds: dict[type, int] = {}
_original_applied_events = getattr(DialogueStateTracker.applied_events, "rasa_original",
                                   DialogueStateTracker.applied_events)


def _kind(event_type: type) -> int:
    """Rasa's `isinstance` questions in `applied_events`, asked once per event type."""
    if issubclass(event_type, (Restarted, SessionStarted)):
        kind = _RESET
    elif issubclass(event_type, ActionReverted):
        kind = _ACTION_REVERTED
    elif issubclass(event_type, UserUtteranceReverted):
        kind = _USER_REVERTED
    elif issubclass(event_type, ActionExecuted):
        kind = _ACTION
    elif issubclass(event_type, ActiveLoop):
        kind = _LOOP
    else:
        kind = _OTHER
    _kinds[event_type] = kind
    return kind


def _walk_applied(self: DialogueStateTracker) -> list[Event]:
    """Rasa's walk in `DialogueStateTracker.applied_events`, each event type classified once."""
    marked = [(_kinds.get(type(event)), event) for event in self.events]
    marked = [(_kind(type(event)) if kind is None else kind, event) for kind, event in marked]
    loop_names = [event.name for kind, event in marked if kind == _LOOP and event.name]
    applied: list[Event] = []
    for kind, event in marked:
        if kind == _RESET:
            applied = []
        elif kind == _ACTION_REVERTED:
            self._undo_till_previous(ActionExecuted, applied)
        elif kind == _USER_REVERTED:
            self._undo_till_previous(UserUttered, applied)
            self._undo_till_previous(ActionExecuted, applied)
        elif kind == _ACTION and loop_names and event.action_name in loop_names \
                and not self._first_loop_execution_or_unhappy_path(event.action_name, applied):
            self._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)
    return applied


applied_events.rasa_original = _original_applied_events  # type: ignore[attr-defined]


# Custom actions that read the latest message, the slots and the active loop of the tracker, and
# neither its earlier events nor the domain (actions/notice.py).
CURRENT_TURN_ACTIONS = frozenset({"action_answer_notice", "action_notice_gap",
                                  "action_out_of_scope"})
# The forms' validations (rasa_sdk FormValidationAction): the latest message, the slots, the
# active loop and the slot candidates Rasa appends after the latest message (rasa_sdk's
# `slots_to_validate`), never an earlier event; they get the domain (its forms and slots), as
# Rasa sends it to every `validate_` action.
CURRENT_TURN_VALIDATIONS = frozenset({"validate_request_form", "validate_status_form",
                                      "validate_csat_form"})
# Rasa's own, even if this module is executed again (or the bench's profiler wrapped it).
_original_call_format = getattr(RemoteAction._action_call_format, "rasa_original",
                                RemoteAction._action_call_format)


def current_turn(events: Any) -> list[Event]:
    """The events from the customer's latest message on (all of them if there is none)."""
    events = list(events)
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            return events[i:]
    return events


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker,
                       domain: Domain) -> dict[str, Any]:
    """`RemoteAction._action_call_format`; for CURRENT_TURN_ACTIONS, the current turn's events
    and no domain; for CURRENT_TURN_VALIDATIONS, the current turn's events and the domain."""
    name = self.name()
    if name not in CURRENT_TURN_ACTIONS and name not in CURRENT_TURN_VALIDATIONS:
        return _original_call_format(self, tracker, domain)
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [event.as_dict() for event in current_turn(tracker.events)]
    call = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
            "version": rasa.__version__}
    if name in CURRENT_TURN_VALIDATIONS:
        call["domain"] = domain.as_dict()
    return call


action_call_format.rasa_original = _original_call_format  # type: ignore[attr-defined]


_original_copy = getattr(DialogueStateTracker.copy, "rasa_original", DialogueStateTracker.copy)
# What a tracker made by Rasa holds; a tracker with anything else is copied Rasa's way.
_TRACKER_ATTRIBUTES = frozenset(vars(DialogueStateTracker("_", [])))


def _own_or_shared(latest: Event | None, events: list[Event]) -> Event | None:
    """An event of the conversation is shared, as Rasa's replay shares it; the empty message a
    reset put there is the copy's own, as the replay would make a new one."""
    if latest is None or any(latest is event for event in reversed(events)):
        return latest
    return copy.copy(latest)


def tracker_copy(self: DialogueStateTracker) -> DialogueStateTracker:
    """`DialogueStateTracker.copy`: the state Rasa's replay would reach, taken as it stands."""
    if type(self) is not DialogueStateTracker or isinstance(self.slots, AnySlotDict) \
            or vars(self).keys() != _TRACKER_ATTRIBUTES:
        return _original_copy(self)
    twin = object.__new__(DialogueStateTracker)
    state = dict(vars(self))
    events = list(self.events)
    state.update(
        events=self._create_events(events),
        sender_id=self.sender_id or DEFAULT_SENDER_ID,
        slots={name: copy.copy(slot) for name, slot in self.slots.items()},
        sender_source=None,
        latest_action=None if self.latest_action is None else dict(self.latest_action),
        active_loop=None if self.active_loop is None else dataclasses.replace(self.active_loop),
        latest_message=_own_or_shared(self.latest_message, events),
        latest_bot_utterance=_own_or_shared(self.latest_bot_utterance, events),
        model_id=None,
        assistant_id=None,
    )
    vars(twin).update(state)
    return twin


tracker_copy.rasa_original = _original_copy  # type: ignore[attr-defined]

_original_format_states = getattr(Policy.format_tracker_states, "rasa_original",
                                  Policy.format_tracker_states)
_RULE_POLICY_LOG = logging.getLogger("rasa.core.policies.rule_policy")
UNFORMATTED_STATES = " (not formatted: debug logging is off)"


def format_tracker_states(states: list[dict[str, Any]]) -> str:
    """`Policy.format_tracker_states`, only for a debug line that will be written."""
    if structlog.is_configured() and not _RULE_POLICY_LOG.isEnabledFor(logging.DEBUG):
        return UNFORMATTED_STATES
    return _original_format_states(states)


format_tracker_states.rasa_original = _original_format_states  # type: ignore[attr-defined]


_original_resolve = getattr(Event.resolve_by_type, "rasa_original", Event.resolve_by_type)
_event_classes: dict[str, type[Event]] = {}


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """`Event.resolve_by_type`: the class Rasa's walk finds for a type name, found once."""
    found = _event_classes.get(type_name)
    if found is None:
        found = _original_resolve(type_name, default)
        if found is not None and found is not default and found.type_name == type_name:
            _event_classes[type_name] = found
    return found


resolve_event_type.rasa_original = _original_resolve  # type: ignore[attr-defined]


# How many of the latest dialogue states the policy making its prediction states can read; None:
# all of them (8.).
_states_wanted: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "madoguchi_states_wanted", default=None)
_original_prediction_states = getattr(Policy._prediction_states, "rasa_original",
                                      Policy._prediction_states)
# A RulePolicy's longest rule, in states (its rules never change once trained); forgotten with
# the policy when a new model replaces it.
_longest_rules: weakref.WeakKeyDictionary[RulePolicy, int] = weakref.WeakKeyDictionary()


def _longest_rule(policy: RulePolicy) -> int:
    kept = _longest_rules.get(policy)
    if kept is not None:
        return kept
    keys = [*policy.lookup.get(RULES, {}), *policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}),
            *policy.lookup.get(RULES_NOT_IN_STORIES, [])]
    longest = 0
    for key in keys:
        try:
            states = json.loads(key)
        except (TypeError, ValueError):  # a prediction source's name, not a rule's states
            continue
        if isinstance(states, list):
            longest = max(longest, len(states))
    _longest_rules[policy] = longest
    return longest


def states_wanted(policy: Policy, tracker: DialogueStateTracker) -> int | None:
    """How many of the latest states `policy` reads of this tracker; None: all of them."""
    if type(tracker) is not DialogueStateTracker or tracker.is_rule_tracker:
        return None  # training and rule trackers: Rasa's way
    if type(policy) is RulePolicy:
        return _longest_rule(policy) + 1
    if type(policy) is MemoizationPolicy:
        history = policy.featurizer.max_history if policy.featurizer else None
        if history and history > 0:
            return history
        return 1 if not policy.lookup else None
    return None


def prediction_states(self: Policy, tracker: DialogueStateTracker, domain: Domain,
                      use_text_for_last_user_input: bool = False,
                      rule_only_data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`Policy._prediction_states`, the replay copying only the states the policy reads."""
    token = _states_wanted.set(states_wanted(self, tracker))
    try:
        return _original_prediction_states(self, tracker, domain, use_text_for_last_user_input,
                                           rule_only_data)
    finally:
        _states_wanted.reset(token)


prediction_states.rasa_original = _original_prediction_states  # type: ignore[attr-defined]


def install() -> None:
    """Put the fast paths in Rasa's place (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
    DialogueStateTracker.copy = tracker_copy  # type: ignore[method-assign]
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(resolve_event_type)  # type: ignore[method-assign]
    Policy._prediction_states = prediction_states  # type: ignore[method-assign]


install()

__all__ = ["CURRENT_TURN_ACTIONS", "CURRENT_TURN_VALIDATIONS", "UNFORMATTED_STATES",
           "ValidationError", "action_call_format", "applied_events", "current_turn",
           "format_tracker_states", "install", "prediction_states", "reply_validator",
           "resolve_event_type", "states_for_tracker_history", "states_wanted",
           "tracker_copy", "validate_action_result"]
