"""Personal data in chat messages: find it, mask it, and never store two kinds of number.

Modules, by concern:
- kinds.py       the kinds, their labels, `PiiSpan`
- vocabulary.py  dashes, postal marks and prefectures (shared with the form's validators)
- checksums.py   Luhn and the individual number's check digit
- patterns.py    spaCy `Matcher` patterns; context.py: labels before, addresses after a number
- people.py      names and addresses, found by their context (a self-introduction, a label,
                 a prefecture or city followed by block and house numbers)
- finder.py      `find_pii`: candidates checked in code, overlaps resolved
- masker.py      `mask`: partial for operators, by label for what is stored
- gate.py        `contains_forbidden` / `mask_forbidden`: the one gate for card and individual
                 numbers, with a check-digit scan when the finder cannot run

Kinds (labels):

PHONE
    Japanese numbers: landlines (10 digits, 0 + area code, e.g. 03-1234-5678, 045-123-4567,
    0466-12-3456), mobile and IP phones 070/080/090/050/060/020 (11 digits), 0120/0570/0990/0180
    (10 digits) and 0800 (11 digits) numbers; with hyphens (any dash an IME produces), spaces,
    parentheses (03(1234)5678, (03)1234-5678) or none; the +81 form drops the leading 0.
    Not a phone when the nearest label names another number (注文番号, 商品コード …), or
    会員番号 on a member-number-shaped number.
POSTAL_CODE
    〒123-4567, 〒1234567, 〒 123 4567 (the 〒 belongs to the span); a bare 123-4567 or 1234567
    only after a label (郵便番号, 〒, 住所, ZIP) or when an address (a prefecture or a
    city/ward/town/village) follows it.
EMAIL
    local@domain.tld in ASCII or full-width letters; the domain needs a dot and a 2+ letter TLD.
MEMBER_NUMBER
    Our member number is printed on the card and in e-mails as "M" followed by 8 digits
    (M12345678; full-width and lower case accepted). A bare number of 8-10 digits (or two
    hyphenated groups of 4-5 digits) counts only when its nearest label is 会員番号 / 会員ID /
    会員No / お客様番号 / メンバー番号.
CREDIT_CARD
    13-19 digits, plain or grouped 4-4-4-4 / 4-6-5 / 4-6-4 / 4-4-4-4-3 (last group shorter
    allowed) with spaces or hyphens, passing the Luhn check. Never stored: a labelled
    "注文番号" does not exempt a Luhn-valid card-shaped number.
MY_NUMBER
    The individual number (個人番号): 12 digits, plain or 4-4-4, whose last digit is the check
    digit of the official algorithm (総務省令). Never stored, label or not. A 4-4-4
    window inside a longer run of 4-digit groups (a 16-digit number that failed Luhn) is not one.

NAME
    A person's name where the customer says it is theirs (「佐藤花子と申します」「名前は山田です」
    「氏名：山田太郎」, a sentence that is only 「山田です。」); the name starts with a word UniDic
    tags 人名 and holds only proper nouns. Conservative: 「個人情報と申します」 or a company
    (株式会社山田, 山田商事) is no name.
ADDRESS
    A prefecture or a municipality followed by the town and the block and house numbers
    (丁目・番地・番・号, digits or kanji numerals, building and room). No numbers, no address
    (「東京都の条例」).

Overlaps: the longer span wins, then the more sensitive kind. A valid card or individual number
that loses to a longer span (say an e-mail local part) still forces that span to be fully
replaced by its label, and is still reported by `contains_forbidden`.

Importing this package does not load spaCy: the finder and the masker are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .checksums import luhn_valid, my_number_check_digit, my_number_valid
from .gate import contains_forbidden, mask_forbidden, scrub_forbidden
from .kinds import (
    ADDRESS,
    CREDIT_CARD,
    EMAIL,
    FORBIDDEN,
    LABELS,
    MEMBER_NUMBER,
    MY_NUMBER,
    NAME,
    PHONE,
    POSTAL_CODE,
    PiiSpan,
)

if TYPE_CHECKING:
    from .finder import find_pii
    from .masker import mask

_LAZY = {"find_pii": "finder", "mask": "masker"}


def __getattr__(name: str) -> Any:
    """`find_pii` and `mask` from the modules that load spaCy, on first use."""
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ADDRESS",
    "CREDIT_CARD",
    "EMAIL",
    "FORBIDDEN",
    "LABELS",
    "MEMBER_NUMBER",
    "MY_NUMBER",
    "NAME",
    "PHONE",
    "POSTAL_CODE",
    "PiiSpan",
    "contains_forbidden",
    "find_pii",
    "luhn_valid",
    "mask",
    "mask_forbidden",
    "my_number_check_digit",
    "my_number_valid",
    "scrub_forbidden",
]
