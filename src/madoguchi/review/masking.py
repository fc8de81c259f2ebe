"""What a supervisor sees of a conversation: personal data replaced by labels.

Three layers, because the finder alone cannot know a name or an address:
1. the customer's answer to a form question for a contact datum (the `requested_slot` then)
   is hidden whole (「山田太郎です」 → ［氏名］);
2. the values of those slots, once known, are hidden wherever they appear again (the summary
   the assistant reads back);
3. `madoguchi.text.pii` hides phone numbers, e-mail addresses, postal codes, member numbers,
   card and individual numbers anywhere (label style: nothing of the number is left).
"""

from __future__ import annotations

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
        label = PERSONAL_SLOTS.get(slot)
        if not label or not isinstance(value, str) or PLACEHOLDER_RE.fullmatch(value.strip()):
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
