"""The action server's reply is checked once-built but exactly as Rasa checks it."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

import madoguchi.rasa_adapters.fast_paths as fast_paths

VALID = {
    "events": [{"event": "slot", "name": "request_type", "value": "disclosure"},
               {"event": "active_loop", "name": None}],
    "responses": [{"text": "ご依頼を承りました。"}],
}
INVALID = [
    {"events": [{"event": "slot", "value": 1}]},  # a slot without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": "slot"},
    {"responses": ["ご依頼を承りました。"]},
    {"events": [{"event": "user", "text": 3}], "responses": []},
]


def _rasa_original(action: RemoteAction, reply: dict) -> bool:
    """Rasa's own check, as it stands in rasa.core.actions.action (jsonschema.validate)."""
    from jsonschema import validate

    try:
        validate(reply, action.action_response_format_spec())
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            "https://rasa.com/docs/rasa/custom-actions")
        raise e


def _action() -> RemoteAction:
    return RemoteAction("action_submit_request", None)


def test_the_fast_check_is_what_rasa_runs() -> None:
    assert RemoteAction._validate_action_result is fast_paths.validate_action_result


def test_a_valid_reply_passes() -> None:
    assert _action()._validate_action_result(VALID) is True


@pytest.mark.parametrize("reply", INVALID)
def test_an_invalid_reply_is_refused_with_the_same_error(reply: dict) -> None:
    with pytest.raises(ValidationError) as ours:
        _action()._validate_action_result(reply)
    with pytest.raises(ValidationError) as rasas:
        _rasa_original(_action(), reply)
    assert ours.value.message == rasas.value.message
    assert list(ours.value.absolute_path) == list(rasas.value.absolute_path)
    assert ours.value.validator == rasas.value.validator
    assert "Failed to validate Action server response" in ours.value.message


def test_the_validator_is_built_once() -> None:
    assert fast_paths.reply_validator() is fast_paths.reply_validator()
