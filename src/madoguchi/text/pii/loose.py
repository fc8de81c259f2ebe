"""What the token patterns miss: numbers written loosely, and addresses in other scripts.

The spaCy patterns (patterns.py) see numbers as the tokenizer cuts them, in the groupings
cards and individual numbers are printed in. Customers also type them
- separated by ".", ",", "_", "・", new lines or single spaces between every digit;
- in other groupings (8-8, 6-6, 3-3-3-3 …);
- in kanji numerals, digit by digit (四一一一…, 〇 for zero);
and write phone numbers as 090.1234.5678 and e-mail addresses with non-ASCII letters
(日本語@例え.jp, user@bücher.de). The scans here work on characters, with offsets into the
customer's own text; the finder adds what they find to its candidates, and the gate's
check-digit fallback is the first scan alone (pure Python, no spaCy).

A run of digits joined only by separators is judged whole when it has 12-19 digits; a longer
run (two numbers typed one after the other) is judged by each window of its groups, so a card
typed right after a phone number is still found. Runs of fewer than 12 digits are never
forbidden numbers.
"""

from __future__ import annotations

import re
import unicodedata

from .checksums import luhn_valid, my_number_valid
from .kinds import CREDIT_CARD, EMAIL, MY_NUMBER, PHONE
from .patterns import LANDLINE_RE, MOBILE_LIKE_RE, SPECIAL_10_RE
from .vocabulary import DASHES

# Kanji numerals read digit by digit (positional 十/百/千 make no card number).
KANJI_DIGITS = {"〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5",
                "六": "6", "七": "7", "八": "8", "九": "9"}
# What customers put between the digits of one number.
_SEPARATORS = " \t\r\n.,_・･．，＿、\u3000" + "".join(sorted(DASHES))
_MAX_GAP = 3  # ", " or " - " between two groups
_MIN_DIGITS, _MAX_DIGITS = 12, 19


def fold_digits(text: str) -> str:
    """The text with every digit as ASCII (full-width, kanji numerals), one character for
    one: offsets into the result are offsets into `text`."""
    out = []
    for ch in text:
        if ch in KANJI_DIGITS:
            out.append(KANJI_DIGITS[ch])
            continue
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 and folded in "0123456789" else
                   (ch if not ch.isdigit() else "x"))
    return "".join(out)


def digit_count(text: str) -> int:
    """Digits in any form the scans read (ASCII, full-width, kanji numerals)."""
    return sum(ch.isdigit() for ch in fold_digits(text))


_SEP_CLASS = "[" + re.escape(_SEPARATORS) + "]"
_RUN_RE = re.compile(rf"[0-9](?:{_SEP_CLASS}{{0,{_MAX_GAP}}}[0-9])*")
_GROUP_RE = re.compile(r"[0-9]+")


def _kind(digits: str) -> str | None:
    if len(digits) == 12 and my_number_valid(digits):
        return MY_NUMBER
    if 13 <= len(digits) <= _MAX_DIGITS and luhn_valid(digits):
        return CREDIT_CARD
    return None


def _is_phone_plus(folded: str, start: int, digits: str) -> bool:
    """+81 90 1234 5678 is a phone number, whatever its check digit says."""
    before = folded[:start].rstrip()
    return before.endswith("+") and digits.startswith("81")


def forbidden_runs(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of card and individual numbers written in any of the loose forms."""
    folded = fold_digits(text)
    found: list[tuple[str, int, int]] = []
    for run in _RUN_RE.finditer(folded):
        groups = list(_GROUP_RE.finditer(run.group()))
        digits = "".join(g.group() for g in groups)
        if len(digits) < _MIN_DIGITS:
            continue
        if len(digits) <= _MAX_DIGITS:
            kind = _kind(digits)
            if kind and not _is_phone_plus(folded, run.start(), digits):
                found.append((kind, run.start(), run.end()))
            continue
        # Longer: numbers typed one after the other; each window of whole groups.
        taken_until = -1
        for i in range(len(groups)):
            if groups[i].start() < taken_until:
                continue
            total = ""
            for j in range(i, len(groups)):
                total += groups[j].group()
                if len(total) > _MAX_DIGITS:
                    break
                kind = _kind(total) if len(total) >= _MIN_DIGITS else None
                if kind:
                    start, end = run.start() + groups[i].start(), run.start() + groups[j].end()
                    found.append((kind, start, end))
                    taken_until = groups[j].end()
                    break
    return found


def contains_loose_forbidden(text: str) -> set[str]:
    return {kind for kind, _, _ in forbidden_runs(text)}


# 090.1234.5678, 03.1234.5678: dots between the groups of a phone number.
_DOTTED_PHONE_RE = re.compile(
    r"(?<![0-9.])(0[0-9]{1,4})\.([0-9]{1,4})\.([0-9]{3,4})(?![0-9]|\.[0-9])")


def dotted_phones(text: str) -> list[tuple[str, int, int]]:
    folded = fold_digits(text)
    found = []
    for m in _DOTTED_PHONE_RE.finditer(folded):
        digits = "".join(m.groups())
        ok = (MOBILE_LIKE_RE.fullmatch(digits) if len(digits) == 11 else
              SPECIAL_10_RE.fullmatch(digits) or LANDLINE_RE.fullmatch(digits)
              if len(digits) == 10 else None)
        if ok:
            found.append((PHONE, m.start(), m.end()))
    return found


# An address with a non-ASCII letter on either side of "@" (ASCII ones are the patterns' job).
# The local part stops at white space, brackets, Japanese punctuation and a particle that
# follows a label (メールは日本語@… keeps 「メールは」 out).
_LOCAL = r"[^\s@<>()\[\]{}:;\"'、。，．,（）「」『』【】＜＞：；]+"
_DOMAIN = r"(?:[^\W_](?:[\w\-]*[^\W_])?\.)+(?:[A-Za-z]{2,}|xn--[A-Za-z0-9\-]+)(?![A-Za-z0-9])"
_UNICODE_EMAIL_RE = re.compile(rf"({_LOCAL})[@＠]({_DOMAIN})")
_LABEL_PREFIX_RE = re.compile(
    r"^.*?(?:メールアドレス|アドレス|メアド|メール|e-?mail|mail|連絡先)(?:は|が|を|:|：)?", re.I)


def unicode_emails(text: str) -> list[tuple[str, int, int]]:
    found = []
    for m in _UNICODE_EMAIL_RE.finditer(text):
        local, domain = m.group(1), m.group(2)
        if (local + domain).isascii():
            continue
        start = m.start(1)
        label = _LABEL_PREFIX_RE.match(local)
        if label and label.end() < len(local):
            start += label.end()
        found.append((EMAIL, start, m.end()))
    return found


# A ticket's reference (PRV-20261204-0012, however typed: full-width, spaces, any hyphen) is
# ours, not the customer's number: its 12 digits can pass an individual number's check digit,
# and masking it would stop the customer asking where their request stands.
_DASHES = "\\s_" + "".join(re.escape(ch) for ch in sorted(DASHES))
REFERENCE = re.compile(rf"[PpＰｐ][RrＲｒ][VvＶｖ][{_DASHES}]*\d{{8}}[{_DASHES}]*\d{{1,6}}(?!\d)")


def loose_spans(text: str) -> list[tuple[str, int, int]]:
    """Every span the loose scans find: (kind, start, end), offsets into `text`."""
    return [*forbidden_runs(text), *dotted_phones(text), *unicode_emails(text)]


def split_forbidden(previous: str, current: str) -> tuple[int, int] | None:
    """A card or individual number typed over two messages: (where it starts in `previous`,
    where it ends in `current`), or None.

    Only the digits at the end of `previous` and at the start of `current` count, and only
    when neither message alone holds the number (each alone is masked already).
    """
    tail = re.search(rf"[0-9](?:{_SEP_CLASS}{{0,{_MAX_GAP}}}[0-9])*{_SEP_CLASS}*$",
                     fold_digits(previous))
    if tail is not None and any(m.end() > tail.start() for m in REFERENCE.finditer(previous)):
        return None  # the digits end a ticket's reference, not a number being typed
    head = _RUN_RE.match(fold_digits(current).lstrip(_SEPARATORS))
    if tail is None or head is None:
        return None
    lead = len(current) - len(current.lstrip(_SEPARATORS))
    joined = previous[tail.start():].rstrip(_SEPARATORS) + " " + current[lead:lead + head.end()]
    cut = len(previous[tail.start():].rstrip(_SEPARATORS))
    for _, start, end in forbidden_runs(joined):
        if start < cut < end:
            return tail.start() + start, lead + (end - cut - 1)
    return None
