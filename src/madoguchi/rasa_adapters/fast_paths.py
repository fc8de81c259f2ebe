"""Rasa's checks made once instead of every turn; importing this module applies them.

Rasa 3.6 checks every action-server reply with `jsonschema.validate(reply, schema)`, which
validates the schema itself against its meta-schema and builds a new validator each time: about
20 ms per action call for the events schema, more than the action's own work. Here the schema is
checked and its validator built once; the reply is still checked against the same schema, and a
reply that does not fit raises the same `ValidationError` (jsonschema's best match, with Rasa's
sentence appended), so nothing changes but the time.

Imported by madoguchi.rasa_adapters.tracker_store, which every profile's endpoints name.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

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


def install() -> None:
    """Put the fast check in Rasa's place (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


install()

__all__ = ["ValidationError", "install", "reply_validator", "validate_action_result"]
