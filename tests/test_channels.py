"""What the customer channels let through to Rasa as a command, and what stays words."""

from __future__ import annotations

import pytest

from madoguchi.rasa_adapters.channels import storable_customer_text as clean_text


@pytest.mark.parametrize("command", [
    "/request_disclosure",                 # a request button
    '/deny{"fix_slot": "phone"}',          # the summary's "fix this field" button
    "/nlu_fallback",                       # "none of these"
])
def test_the_chat_buttons_commands_reach_rasa_as_commands(command: str) -> None:
    assert clean_text(command)[0] == command


@pytest.mark.parametrize(
    "typed", ["/restart{", "/商品の返品", "/unknown_intent", "/affirm{not json}",
              # Rasa's own commands: no button sends them (issue 15, item 5)
              "/restart", "/session_start", "/back", '/affirm{"request_type": "x"}']
)
def test_words_that_only_look_like_a_command_stay_words(typed: str) -> None:
    cleaned = clean_text(typed)[0]
    assert cleaned.startswith("／") and cleaned[1:] == typed[1:]
