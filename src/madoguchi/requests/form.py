"""What one message gives the request form: the words each slot is to be validated with.

The Rasa side (actions/requests.py, rasa_sdk's FormValidationAction) extracts these words, then
checks each with its slot's validator (fields.py); this module stays free of Rasa so that the
reading can be tested alone. The form's slots and their properties come from types.yml.
"""

from __future__ import annotations

from collections.abc import Collection

from madoguchi.requests.fields import accepts_any_words, validate
from madoguchi.requests.types import form_slots
from madoguchi.text.pii import find_pii


def volunteered_slots() -> dict[str, str]:
    """PII kind -> the form slot it fills wherever it turns up (types.yml `volunteered`)."""
    return {s.volunteered: s.name for s in form_slots().values() if s.volunteered}


def answered(
    text: str, requested: str | None, required: Collection[str], *, interrupting: bool
) -> dict[str, str]:
    """Slot -> the words to validate it with: the answer to the `requested` slot, and the
    contact details volunteered for other `required` slots (found by the PII finder, and only
    when valid for their slot: a correction of an earlier answer too).

    Nothing when nothing has been asked yet, for a button, or for an interruption (a notice
    question, a wish for a person or to stop) that does not also answer the question: a slot
    that takes any words never counts as answered by one. The rules answer it, and the form
    asks again afterwards.
    """
    if not requested or requested not in form_slots() or text.startswith("/"):
        return {}
    if interrupting and (accepts_any_words(requested) or not validate(requested, text).ok):
        return {}
    words: dict[str, str] = {}
    volunteered = volunteered_slots()
    for span in find_pii(text):
        slot = volunteered.get(span.label)
        if slot and slot in required and slot != requested and validate(slot, span.text).ok:
            words[slot] = span.text
    words[requested] = text
    return words
