"""A call to a notice answer carries the current turn and no domain (fast_paths, issue 14), and
that changes nothing the customer sees.

Rasa sends every custom action the whole conversation and the domain. The notice answers
(fast_paths.CURRENT_TURN_ACTIONS) read neither: run on a tracker whose history cannot be read and
with no domain, they answer every kind of message as with both, and through the action server's
executor the call Rasa would send and ours get the same reply. Every other action gets Rasa's
call unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher

from madoguchi.infra.settings import project_root
from madoguchi.rasa_adapters import fast_paths

DOMAIN = Domain.load(str(project_root() / "domain.yml"))


def user(text: str, ranking: list[tuple[str, float]]) -> UserUttered:
    intent = {"name": ranking[0][0], "confidence": ranking[0][1]}
    return UserUttered(text, intent, [], parse_data={
        "text": text, "intent": intent, "entities": [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]})


def history(in_form: bool) -> list[Any]:
    """Two misunderstood messages, a notice answer, and (maybe) a request's form under way."""
    events: list[Any] = [ActionExecuted("action_session_start"), SessionStarted(),
                         ActionExecuted("action_listen")]
    for text in ("あのー", "えっと"):
        events += [user(text, [("nlu_fallback", 0.3), ("greet", 0.2)]),
                   ActionExecuted("action_fallback"), BotUttered("もう一度お願いします。"),
                   ActionExecuted("action_listen")]
    events += [user("利用目的を教えて", [("notice_2", 0.9)]),
               ActionExecuted("action_answer_notice"), SlotSet("notice_section", "2"),
               BotUttered("2.個人情報の利用目的 …"), ActionExecuted("action_listen")]
    if in_form:
        events += [user("開示したい", [("request_disclosure", 0.9)]),
                   ActionExecuted("action_start_request"), SlotSet("request_type", "disclosure"),
                   SlotSet("request_stage", "collecting"), ActionExecuted("request_form"),
                   ActiveLoop("request_form"), SlotSet("requested_slot", "customer_name"),
                   ActionExecuted("action_listen")]
    return events


# (action, the customer's message and NLU's ranking, a request's form under way)
CASES = [
    ("action_answer_notice", "DMは止められますか",
     [("notice_5", 0.456), ("request_marketing_optout", 0.17), ("cancel", 0.098)], False),
    ("action_answer_notice", "DMは止められますか",
     [("notice_5", 0.456), ("request_marketing_optout", 0.17), ("cancel", 0.098)], True),
    ("action_answer_notice", "個人情報は何に使われますか", [("notice_2", 0.8)], False),
    ("action_answer_notice", "/notice_6", [("notice_6", 1.0)], False),
    ("action_answer_notice", "第三者に提供されることはありますか",
     [("greet", 0.4), ("notice_3", 0.3)], False),
    ("action_answer_notice", "ふがふが", [("greet", 0.4)], False),
    ("action_notice_gap", "開示請求の手数料はいくらですか", [("notice_gap", 0.9)], False),
    ("action_notice_gap", "クッキーは使っていますか", [("notice_gap", 0.9)], True),
    ("action_out_of_scope", "明日の天気はどうですか", [("out_of_scope", 0.9)], False),
]


def conversation(text: str, ranking: list[tuple[str, float]],
                 in_form: bool) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "calls", [*history(in_form), user(text, ranking)], DOMAIN.slots)


def remote(name: str) -> RemoteAction:
    return RemoteAction(name, EndpointConfig("http://127.0.0.1:5055/webhook"))


def calls(name: str, tracker: DialogueStateTracker) -> tuple[dict, dict]:
    """(our call, Rasa's call) for `name` on `tracker`."""
    action = remote(name)
    return (action._action_call_format(tracker, DOMAIN),
            fast_paths._original_call_format(action, tracker, DOMAIN))


class HistoryUnreadable(Tracker):
    """rasa_sdk's tracker whose earlier events cannot be read."""

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> HistoryUnreadable:
        # Tracker.from_dict always builds a Tracker, whatever class it is called on.
        return cls(state["sender_id"], state.get("slots", {}), state.get("latest_message", {}),
                   state.get("events", []), state.get("paused", False),
                   state.get("followup_action"), state.get("active_loop", {}),
                   state.get("latest_action_name"))

    @property
    def events(self) -> list[dict[str, Any]]:
        raise AssertionError("the action read the conversation's history")

    @events.setter
    def events(self, value: list[dict[str, Any]]) -> None:
        self._events = value


@pytest.fixture(scope="module")
def executor() -> ActionExecutor:
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


def test_installed() -> None:
    assert RemoteAction._action_call_format is fast_paths.action_call_format


@pytest.mark.parametrize(("name", "text", "ranking", "in_form"), CASES)
def test_a_notice_answer_gets_the_current_turn_and_no_domain(name, text, ranking,
                                                             in_form) -> None:
    tracker = conversation(text, ranking, in_form)
    ours, rasas = calls(name, tracker)
    assert "domain" in rasas and "domain" not in ours
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-1:]
    assert ours["tracker"]["events"][0]["text"] == text
    assert {k: v for k, v in ours["tracker"].items() if k != "events"} == \
        {k: v for k, v in rasas["tracker"].items() if k != "events"}
    assert {k: v for k, v in ours.items() if k != "tracker"} == \
        {k: v for k, v in rasas.items() if k not in ("tracker", "domain")}


def test_the_current_turn_is_everything_from_the_latest_message_on() -> None:
    tracker = conversation("DMは止められますか", [("notice_5", 0.9)], False)
    tracker.update(ActionExecuted("action_answer_notice"))
    tracker.update(SlotSet("notice_section", "5"))
    ours, rasas = calls("action_answer_notice", tracker)
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-3:]
    started = DialogueStateTracker.from_events("calls", history(False)[:3], DOMAIN.slots)
    ours, rasas = calls("action_out_of_scope", started)
    assert ours["tracker"]["events"] == rasas["tracker"]["events"]


@pytest.mark.parametrize("name", ["action_fallback", "action_start_request",
                                  "action_create_ticket", "action_handoff"])
def test_every_other_action_gets_rasas_call(name) -> None:
    tracker = conversation("山田花子です", [("affirm", 0.6)], True)
    ours, rasas = calls(name, tracker)
    assert ours == rasas


@pytest.mark.parametrize(("name", "text", "ranking", "in_form"), CASES)
def test_the_action_server_replies_the_same_to_both_calls(executor, name, text, ranking,
                                                          in_form) -> None:
    ours, rasas = calls(name, conversation(text, ranking, in_form))
    assert asyncio.run(executor.run(ours)) == asyncio.run(executor.run(rasas))


@pytest.mark.parametrize(("name", "text", "ranking", "in_form"), CASES)
def test_the_notice_answers_read_neither_history_nor_domain(executor, name, text, ranking,
                                                            in_form) -> None:
    _, rasas = calls(name, conversation(text, ranking, in_form))
    state = rasas["tracker"]
    replies = []
    for tracker, domain in ((Tracker.from_dict(state), rasas["domain"]),
                            (HistoryUnreadable.from_dict(state), {})):
        dispatcher = CollectingDispatcher()
        events = asyncio.run(executor.actions[name](dispatcher, tracker, domain))
        replies.append((dispatcher.messages, events))
    assert replies[0] == replies[1]
    assert replies[0][0]  # the customer is answered


def test_an_action_that_reads_the_history_is_caught() -> None:
    """The check above can fail: the fallback counts the customer's misunderstood messages."""
    _, rasas = calls("action_fallback", conversation("ふがふが", [("greet", 0.1)], False))
    from actions.notice import ActionFallback

    with pytest.raises(AssertionError, match="history"):
        asyncio.run(ActionFallback().run(CollectingDispatcher(),
                                         HistoryUnreadable.from_dict(rasas["tracker"]), {}))


# --- the forms' validations: the current turn, and the domain -----------------------------------

def form_turn(form: str, text: str, ranking: list[tuple[str, float]],
              slots: dict[str, Any], candidates: dict[str, Any]) -> DialogueStateTracker:
    """A conversation with a history, then `form` asking: the customer's answer, and the slot
    candidates Rasa appends for the validation to check."""
    events = [*history(False), ActionExecuted(form), ActiveLoop(form),
              *(SlotSet(k, v) for k, v in slots.items()), ActionExecuted("action_listen"),
              user(text, ranking), *(SlotSet(k, v) for k, v in candidates.items())]
    return DialogueStateTracker.from_events("calls", events, DOMAIN.slots)


# (validation, the customer's answer and NLU's ranking, slots before, candidates)
VALIDATION_CASES = [
    ("validate_request_form", "山田花子と申します", [("inform", 0.9)],
     {"request_types": ["disclosure"], "requested_slot": "customer_name"}, {}),
    ("validate_request_form", "わかりません", [("inform", 0.6)],
     {"request_types": ["disclosure"], "requested_slot": "phone",
      "customer_name": "山田花子"}, {}),
    ("validate_request_form", "DMも止めてほしいです",
     [("request_marketing_optout", 0.8), ("inform", 0.1)],
     {"request_types": ["disclosure"], "requested_slot": "phone",
      "customer_name": "山田花子"}, {}),
    ("validate_request_form", "利用目的を教えてください", [("notice_2", 0.9)],
     {"request_types": ["disclosure"], "requested_slot": "phone",
      "customer_name": "山田花子"}, {}),
    ("validate_status_form", "PRV-20261204-1234 です", [("request_status", 0.9)],
     {"requested_slot": "status_reference"}, {}),
    ("validate_status_form", "PRV-20261204-12", [("inform", 0.9)],
     {"requested_slot": "status_reference"}, {}),
    ("validate_csat_form", "特にありません", [("deny", 0.7)],
     {"requested_slot": "csat_comment"}, {"csat_comment": "特にありません"}),
]


class CurrentTurnOnly(list):
    """A tracker's events of which only the current turn may be read (from the end back)."""

    def __init__(self, events: list[Any], start: int) -> None:
        super().__init__(events)
        self.start = start

    def _check(self, index: int) -> None:
        if index < self.start:
            raise AssertionError("the validation read the conversation's history")

    def __iter__(self):
        self._check(0)  # reading from the start
        return super().__iter__()

    def __reversed__(self):
        for i in range(len(self) - 1, -1, -1):
            self._check(i)
            yield super().__getitem__(i)

    def __getitem__(self, key):
        indices = range(len(self))[key] if isinstance(key, slice) else [key % len(self)]
        for i in indices:
            self._check(i)
        return super().__getitem__(key)


class TurnOnlyTracker(HistoryUnreadable):
    @property
    def events(self) -> list[dict[str, Any]]:
        start = max(i for i, e in enumerate(self._events) if e.get("event") == "user")
        return CurrentTurnOnly(self._events, start)

    @events.setter
    def events(self, value: list[dict[str, Any]]) -> None:
        self._events = value


def revealed(store: Any, reply: Any) -> Any:
    """A reply with its contact placeholders (new ones at every concealment) read back."""
    if isinstance(reply, dict):
        return {k: revealed(store, v) for k, v in reply.items()}
    if isinstance(reply, (list, tuple)):
        return [revealed(store, v) for v in reply]
    return store.reveal_all("calls", reply) if isinstance(reply, str) else reply


@pytest.mark.parametrize(("name", "text", "ranking", "slots", "candidates"), VALIDATION_CASES)
def test_a_validation_gets_the_current_turn_and_the_domain(name, text, ranking, slots,
                                                           candidates) -> None:
    ours, rasas = calls(name, form_turn(name.removeprefix("validate_"), text, ranking, slots,
                                        candidates))
    turn = len(candidates) + 1
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-turn:]
    assert ours["tracker"]["events"][0]["text"] == text
    assert ours["domain"] == rasas["domain"]
    assert {k: v for k, v in ours["tracker"].items() if k != "events"} == \
        {k: v for k, v in rasas["tracker"].items() if k != "events"}


@pytest.mark.parametrize(("name", "text", "ranking", "slots", "candidates"), VALIDATION_CASES)
def test_the_action_server_validates_both_calls_alike(executor, pending_contact, name, text,
                                                      ranking, slots, candidates) -> None:
    ours, rasas = calls(name, form_turn(name.removeprefix("validate_"), text, ranking, slots,
                                        candidates))
    assert revealed(pending_contact, asyncio.run(executor.run(ours))) == \
        revealed(pending_contact, asyncio.run(executor.run(rasas)))


@pytest.mark.parametrize(("name", "text", "ranking", "slots", "candidates"), VALIDATION_CASES)
def test_the_validations_read_only_the_current_turn(executor, pending_contact, name, text,
                                                    ranking, slots, candidates) -> None:
    _, rasas = calls(name, form_turn(name.removeprefix("validate_"), text, ranking, slots,
                                     candidates))
    replies = []
    for tracker_class in (Tracker, TurnOnlyTracker):
        dispatcher = CollectingDispatcher()
        tracker = tracker_class.from_dict(rasas["tracker"])
        events = asyncio.run(executor.actions[name](dispatcher, tracker, rasas["domain"]))
        replies.append(revealed(pending_contact, (dispatcher.messages, events)))
    assert replies[0] == replies[1]
    assert replies[0][1]  # the validation answered with events


def test_a_validation_that_reads_the_history_is_caught() -> None:
    """The check above can fail: counting the customer's messages reads the history."""
    _, rasas = calls("validate_status_form", form_turn(
        "status_form", "PRV-20261204-1234", [("inform", 0.9)],
        {"requested_slot": "status_reference"}, {}))
    tracker = TurnOnlyTracker.from_dict(rasas["tracker"])
    with pytest.raises(AssertionError, match="history"):
        [e for e in tracker.events if e.get("event") == "user"]


def test_no_action_but_the_validations_can_read_the_domain(executor) -> None:
    """With `enable_selective_domain`, Rasa sends the domain to `validate_` actions only: every
    other action is a ChatAction, whose `act` is given no domain."""
    import inspect

    from rasa_sdk.forms import FormValidationAction

    from actions.common import ChatAction

    for name, run in executor.actions.items():
        action = run.__self__
        if name.startswith("validate_"):
            assert isinstance(action, FormValidationAction)
        else:
            assert isinstance(action, ChatAction), name
            assert "domain" not in inspect.signature(type(action).act).parameters


def test_the_profiles_enable_the_selective_domain() -> None:
    import yaml

    from madoguchi.runtime.scale import endpoints_config

    embedded = yaml.safe_load((project_root() / "endpoints.yml").read_text(encoding="utf-8"))
    scale = endpoints_config("http://127.0.0.1:5055", "postgresql://db/m", "redis://r:6379/0",
                             "madoguchi")
    for endpoints in (embedded, scale):
        assert endpoints["action_endpoint"]["enable_selective_domain"] is True
