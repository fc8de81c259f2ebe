"""What a supervisor sees of a conversation: personal data replaced by labels.

Three layers, because the finder finds a name or an address only where its context says so:
1. the customer's answer to a form question for a contact datum (the `requested_slot` then)
   is hidden whole (「山田太郎です」 → ［氏名］);
2. the values of those slots, once known, are hidden wherever they appear again (the summary
   the assistant reads back);
3. `madoguchi.text.pii` hides phone numbers, e-mail addresses, postal codes, member numbers,
   card and individual numbers anywhere (label style: nothing of the number is left), and
   names and addresses where the customer gives them (「佐藤花子と申します」, an address with
   its house number).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from madoguchi.text.pii.contact import PLACEHOLDER_RE, strip_tokens

# Slots that hold personal data, with the label shown instead of their value.
PERSONAL_SLOTS: dict[str, str] = {
    "customer_name": "［氏名］",
    "phone": "［電話番号］",
    "postal_address": "［住所］",
    "email": "［メールアドレス］",
    "member_number": "［会員番号］",
    "correction_value": "［訂正後の内容］",
    "status_contact": "［状況確認の連絡先］",
}
MASKED = "［非表示］"

# What a slot's value must look like to be personal data worth hiding wherever it appears
# again: a learnt value is replaced in every text of the conversation, the bot's included, so
# a value that is no datum (「なし」 for the member number) would rewrite ordinary words
# (「問題なしです」). Slots not named here take any value that is not a non-answer.
_DIGITS = re.compile(r"\d")
_SHAPES: dict[str, Callable[[str], bool]] = {
    "member_number": lambda v: len(_DIGITS.findall(v)) >= 4,
    "phone": lambda v: len(_DIGITS.findall(v)) >= 6,
    "email": lambda v: "@" in v,
}
# The answers that give no datum («none», «I don't know») are the form's words for them, in
# data/requests/cues.yml (answers.member_none, answers.unknown): one list for both uses.
_NON_ANSWER_LISTS = ("member_none", "unknown")
_TRAILING = re.compile(r"(?:です|でした)?[。.!！?？]*$")


def _key(value: str) -> str:
    """A value as compared with the non-answers: NFKC, no white space, no closing です。."""
    folded = "".join(unicodedata.normalize("NFKC", value).split())
    return _TRAILING.sub("", folded)


@lru_cache(maxsize=1)
def non_answers() -> frozenset[str]:
    """The words that answer a contact question with no datum (なし, 不明, わからない …)."""
    from madoguchi.requests.types import CUES_FILE, data_dir, read_yaml

    answers = read_yaml(data_dir() / CUES_FILE).get("answers") or {}
    return frozenset(_key(str(w)) for name in _NON_ANSWER_LISTS for w in answers.get(name) or ())


def is_personal_value(slot: str, value: str) -> bool:
    """Whether `value` of a personal slot can be personal data (and not 「なし」 or 「不明」)."""
    folded = unicodedata.normalize("NFKC", value)
    if _key(folded) in non_answers():
        return False
    shape = _SHAPES.get(slot)
    return shape is None or shape(folded)


def mask_pii(text: str) -> str:
    """Every kind the finder knows, replaced by its label (imported late: spaCy loads slowly)."""
    if not text:
        return text
    from madoguchi.text.pii import mask

    return mask(text, style="label")


class ConversationMasker:
    """Masks one conversation's texts in order, learning its contact data as the slots fill."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}  # raw value -> label

    def learn(self, slot: str, value: Any) -> None:
        """Hide this slot's value wherever it appears again, if it can be personal data."""
        label = PERSONAL_SLOTS.get(slot)
        if not label or not isinstance(value, str) or PLACEHOLDER_RE.fullmatch(value.strip()):
            return
        if not is_personal_value(slot, value):
            return
        for variant in (value.strip(), "".join(value.split())):
            if len(variant) >= 2:
                self.known[variant] = label

    def text(self, text: str) -> str:
        for value in sorted(self.known, key=len, reverse=True):
            if value in text:
                text = text.replace(value, self.known[value])
        # A placeholder's id opens nothing without the pending store, but the review needs
        # only the label.
        return mask_pii(strip_tokens(text))

    def customer_text(self, text: str, asked_slot: str | None) -> str:
        if asked_slot in PERSONAL_SLOTS and not text.startswith("/"):
            return PERSONAL_SLOTS[asked_slot]
        return self.text(text)

    def slot_value(self, slot: str, value: Any) -> Any:
        if slot in PERSONAL_SLOTS and value not in (None, "", [], {}):
            return PERSONAL_SLOTS[slot]
        return self.value(value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def entities(self, entities: list[dict[str, Any]], masked_text: bool) -> list[dict[str, Any]]:
        """Entity name, extractor and the value masked (a whole-masked message shows none)."""
        out = []
        for entity in entities:
            value = entity.get("value")
            out.append({
                "entity": entity.get("entity"),
                "value": MASKED if masked_text else self.value(value),
                "confidence": entity.get("confidence_entity"),
                "extractor": entity.get("extractor"),
            })
        return out
