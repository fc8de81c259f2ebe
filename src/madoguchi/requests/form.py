"""What one message gives the request form: the words each slot is to be validated with.

The Rasa side (actions/requests.py, rasa_sdk's FormValidationAction) extracts these words, then
checks each with its slot's validator (fields.py); this module stays free of Rasa so that the
reading can be tested alone. The form's slots and their properties come from types.yml.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from madoguchi.conversation.events import FALLBACK_INTENT
from madoguchi.requests.classify import (
    REASON_COMPLAINT,
    REASON_MULTIPLE,
    REASON_NLU,
    REASON_TEXT,
    classify,
)
from madoguchi.requests.fields import accepts_any_words, validate
from madoguchi.requests.types import form_slots
from madoguchi.text.pii import find_pii
from madoguchi.text.pii.contact import placeholders

# The request type that fixes registered data (③), told apart from fixing a form answer.
CORRECTION = "correction"
# Answers that describe a wish as a matter of course: the complaint's own story.
NO_NEW_WISH_SLOTS = frozenset({"complaint_details"})


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


def new_wish(
    text: str,
    ranking: Sequence[tuple[str, float]],
    taken: Collection[str],
    requested: str | None,
    *,
    sure: float,
) -> str | None:
    """A request or complaint the message makes that the form is not already taking, to offer
    adding it (「外部の業者に俺の情報流すのやめろ」 asked for a name: ⑤ stop the provision).

    The customer's words decide (the classifier's cues); the NLU alone only when it is `sure`
    (a short answer can look like anything to it). Never for a button, and never in the
    complaint's details, which tell a person what happened, wishes included.
    """
    if not text or text.startswith("/") or requested in NO_NEW_WISH_SLOTS:
        return None
    # An unclear message (Rasa's fallback on top) is read by its real intents and its words.
    decision = classify(text, [(n, c) for n, c in ranking if n != FALLBACK_INTENT])
    worded = decision.reason in {REASON_TEXT, REASON_MULTIPLE}
    nlu_sure = decision.reason in {REASON_NLU, REASON_COMPLAINT} and (
        (decision.confidence or 0.0) >= sure
    )
    if not (worded or nlu_sure):
        return None
    wish = next((t for t in decision.types if t not in taken), None)
    if wish == CORRECTION and corrects_an_answer(text, requested):
        return None  # 「電話番号を間違えました、080-…です」: the form's answer, not a request ③
    return wish


def corrects_an_answer(text: str, requested: str | None) -> bool:
    """Whether the message gives again contact data the form takes from any answer (a phone
    number, an e-mail address) while it asks something else: it fixes what the customer told
    the form, and the new value replaces the first (`answered`)."""
    volunteered = volunteered_slots()
    kinds = {kind for kind, _ in placeholders(text)} | {span.label for span in find_pii(text)}
    return any(volunteered.get(kind) not in (None, requested) for kind in kinds)
