"""The request form's slots are declared once, in data/requests/types.yml (`form_slots`).

Adding a slot touches exactly three places: its entry in types.yml (with its summary label),
its slot and responses in domain.yml, and its validator `validate_<slot>` in
src/madoguchi/requests/fields.py. These tests name those places and fail when they disagree or
when another module starts listing the form's slots again.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from madoguchi.requests.fields import VALIDATORS, accepts_any_words
from madoguchi.requests.form import answered, volunteered_slots
from madoguchi.requests.types import CONTACT_SLOTS, SLOT_NAMES, form_slots, load_catalogue

ROOT = Path(__file__).resolve().parents[1]
FORM_LAYER = [*sorted((ROOT / "actions").glob("*.py")),
              *sorted((ROOT / "src/madoguchi/requests").glob("*.py"))]
# Where the ticket's fields are laid out (TicketPrefill, the summary): a new slot reaches the
# ticket only where the prefill puts it. Owned by the ticket's side, not by the form.
TICKET_LAYOUT = {ROOT / "src/madoguchi/requests/prefill.py"}


def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


# --- the three places -------------------------------------------------------------------------


@pytest.mark.parametrize("slot", list(form_slots()))
def test_every_form_slot_has_a_domain_slot_its_responses_a_label_and_a_validator(slot):
    doc = domain()
    assert doc["slots"][slot]["mappings"] == [{"type": "custom"}], "domain.yml: slots"
    assert f"utter_ask_{slot}" in doc["responses"], "domain.yml: responses"
    assert f"utter_invalid_{slot}" in doc["responses"], "domain.yml: responses"
    assert slot in load_catalogue().summary_labels, "types.yml: summary_labels"
    assert VALIDATORS[slot].__name__ == f"validate_{slot}", "fields.py: its validator"


def test_the_domain_asks_for_no_slot_that_types_yml_does_not_declare():
    doc = domain()
    # Other forms (the status check, CSAT) ask their own slots.
    elsewhere = {slot for name, form in doc["forms"].items() if name != "request_form"
                 for slot in form["required_slots"]}
    asked = {name for name in doc["slots"] if f"utter_ask_{name}" in doc["responses"]}
    assert asked - elsewhere == set(form_slots())
    assert set(doc["forms"]["request_form"]["required_slots"]) <= set(form_slots())


def test_every_validator_belongs_to_a_declared_slot():
    assert set(VALIDATORS) == set(form_slots())


def test_slot_names_and_contact_slots_are_read_from_types_yml():
    assert SLOT_NAMES == tuple(form_slots())
    assert CONTACT_SLOTS == {s.name for s in form_slots().values() if s.contact}
    assert volunteered_slots() == {"PHONE": "phone", "EMAIL": "email"}


def _slot_lists(path: Path) -> list[int]:
    """Lines of collection literals naming two or more form slots."""
    names = set(form_slots())
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            items = node.keys
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        else:
            continue
        named = {i.value for i in items if isinstance(i, ast.Constant) and i.value in names}
        if len(named) >= 2:
            lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", FORM_LAYER, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_of_the_form_lists_the_form_slots_again(path):
    if path in TICKET_LAYOUT:
        pytest.skip("the ticket's layout, not the form's")
    assert _slot_lists(path) == [], "read them from types.yml (madoguchi.requests.types)"


# --- what one message answers (requests/form.py) --------------------------------------------

NAME_AND_TIME = ["preferred_time", "customer_name", "phone", "email"]


def test_a_message_answers_the_slot_asked_and_nothing_before_a_question():
    assert answered("山田太郎です", "customer_name", NAME_AND_TIME, interrupting=False) == {
        "customer_name": "山田太郎です"
    }
    assert answered("山田太郎です", None, NAME_AND_TIME, interrupting=False) == {}
    assert answered('/affirm{"x": 1}', "customer_name", NAME_AND_TIME, interrupting=False) == {}


def test_contact_details_given_along_the_way_fill_their_slots_when_valid():
    text = "平日の午前中。電話は090-1234-5678、メールはtaro@example.com"
    assert answered(text, "preferred_time", NAME_AND_TIME, interrupting=False) == {
        "phone": "090-1234-5678",
        "email": "taro@example.com",
        "preferred_time": text,
    }
    # Only slots the request needs, and never the one asked twice.
    assert answered(text, "preferred_time", ["preferred_time"], interrupting=False) == {
        "preferred_time": text
    }


def test_an_interruption_answers_a_strict_slot_only_when_it_fits():
    assert accepts_any_words("customer_name") and not accepts_any_words("phone")
    asked = ["customer_name", "phone"]
    assert answered("担当者と話したい", "customer_name", asked, interrupting=True) == {}
    assert answered("担当者と話したい", "phone", asked, interrupting=True) == {}
    assert answered("090-1234-5678です", "phone", asked, interrupting=True) == {
        "phone": "090-1234-5678です"
    }


# --- the form action, through rasa_sdk's own dispatch --------------------------------------


# The form action reads contact values from pending_contact: a throwaway one (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("pending_contact")


def run_form(
    text: str, requested: str | None, slots: dict[str, Any] | None = None,
    intent: str = "inform", confidence: float = 0.9, candidates: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    from rasa_sdk import Tracker
    from rasa_sdk.events import ActionExecuted, SlotSet
    from rasa_sdk.executor import CollectingDispatcher

    from actions.requests import ValidateRequestForm

    values = {"request_types": ["disclosure"], "requested_slot": requested, **(slots or {})}
    message = {"text": text, "intent": {"name": intent, "confidence": confidence},
               "intent_ranking": [{"name": intent, "confidence": confidence}], "entities": []}
    # As Rasa sends it: the form's execution, then the slot candidates it asks to validate.
    events = [{"event": "user", "text": text, "parse_data": message},
              ActionExecuted("request_form"),
              *[SlotSet(k, v) for k, v in (candidates or {}).items()]]
    tracker = Tracker("c", {**values, **(candidates or {})}, message, events, False, None,
                      {"name": "request_form"}, "request_form")
    doc = domain()
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateRequestForm().run(dispatcher, tracker, doc))
    from actions.requests import pending_contact

    return ([{"name": e["name"], "value": pending_contact().reveal_all("c", e["value"])}
             for e in result],
            [m["response"] for m in dispatcher.messages])


def test_a_valid_answer_is_stored_as_its_validator_gives_it_and_the_next_slot_asked():
    events, said = run_form("山田太郎と申します", "customer_name")
    assert events == [{"name": "customer_name", "value": "山田太郎"},
                      {"name": "requested_slot", "value": "phone"}]
    assert said == []


def test_an_invalid_answer_is_asked_again_with_its_own_response():
    events, said = run_form("わかりません", "phone", {"customer_name": "山田太郎"})
    assert events == [{"name": "phone", "value": None},
                      {"name": "requested_slot", "value": "phone"}]
    assert said == ["utter_invalid_phone"]
    _, said = run_form("4111 1111 1111 1111", "phone", {"customer_name": "山田太郎"})
    assert said == ["utter_forbidden_number"]


def test_a_volunteered_phone_number_fills_its_slot_and_none_member_number_stays_answered():
    events, said = run_form("よくわからない。電話は090-1234-5678", "is_agent",
                            {"customer_name": "山田", "phone": "03-1234-5678"})
    assert events[:2] == [{"name": "phone", "value": "090-1234-5678"},  # a correction, too
                          {"name": "is_agent", "value": None}]
    assert said == ["utter_invalid_is_agent"]
    events, _ = run_form("なし", "member_number",
                         {"customer_name": "山田", "phone": "090-1234-5678",
                          "postal_address": "東京都千代田区1-1"})
    assert events[0] == {"name": "member_number", "value": "なし"}
    assert events[-1] == {"name": "requested_slot", "value": "preferred_time"}


def test_an_interruption_sets_no_slot_so_that_rasa_hands_the_turn_to_the_rules():
    events, said = run_form("担当者と話したい", "customer_name", intent="human_handoff")
    assert events == [{"name": "requested_slot", "value": "customer_name"}]
    assert said == []


def test_on_activation_the_slots_filled_before_are_kept_as_stored():
    events, said = run_form("開示してほしい", None, candidates={"customer_name": "山田"})
    assert events == [{"name": "customer_name", "value": "山田"},
                      {"name": "requested_slot", "value": "phone"}]
    assert said == []
