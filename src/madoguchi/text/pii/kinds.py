"""The kinds of personal data the finder reports, their labels, and the span it returns."""

from __future__ import annotations

from dataclasses import dataclass

PHONE = "PHONE"
POSTAL_CODE = "POSTAL_CODE"
EMAIL = "EMAIL"
MEMBER_NUMBER = "MEMBER_NUMBER"
CREDIT_CARD = "CREDIT_CARD"
MY_NUMBER = "MY_NUMBER"
# Found by their context (people.py), not their shape.
NAME = "NAME"
ADDRESS = "ADDRESS"

# Never stored, whatever the field.
FORBIDDEN = frozenset({CREDIT_CARD, MY_NUMBER})

LABELS = {
    PHONE: "［電話番号］",
    EMAIL: "［メールアドレス］",
    POSTAL_CODE: "［郵便番号］",
    MEMBER_NUMBER: "［会員番号］",
    CREDIT_CARD: "［カード番号］",
    MY_NUMBER: "［個人番号］",
    NAME: "［氏名］",
    ADDRESS: "［住所］",
}

# On equal length the more sensitive kind wins.
RANK = {MY_NUMBER: 0, CREDIT_CARD: 1, EMAIL: 2, MEMBER_NUMBER: 3, PHONE: 4, POSTAL_CODE: 5,
        ADDRESS: 6, NAME: 7}


@dataclass(frozen=True)
class PiiSpan:
    """A piece of personal data: kind, offsets into the original text, and that text."""

    label: str
    start: int
    end: int
    text: str
