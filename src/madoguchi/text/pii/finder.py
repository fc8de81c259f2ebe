"""Finding personal data: the Matcher's candidates, checked in code, overlaps resolved.

Patterns (patterns.py) only propose candidates on word boundaries; the checks here decide
what patterns cannot: digit counts, number plans, check digits (checksums.py), labels nearby
(context.py). Offsets always point into the customer's original text.

Overlaps: the longer span wins, then the more sensitive kind. A valid card or individual number
that loses to a longer span (say an e-mail local part) marks that span `hides_forbidden`, and is
still reported among the forbidden kinds.

Names and addresses (people.py) are found on characters, by their context, and join after the
numbers are resolved: one that holds whole numbers of the contact kinds takes their place (an
address's digits are the address's); one that would cut into a number, or hold a card or
individual number, ends where that number starts (the number keeps its own kind and label).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from madoguchi.text.spacy_ja import make_nlp

from .checksums import luhn_valid, my_number_valid
from .context import OTHER, address_after, label_before
from .kinds import (
    CREDIT_CARD,
    EMAIL,
    FORBIDDEN,
    MEMBER_NUMBER,
    MY_NUMBER,
    PHONE,
    POSTAL_CODE,
    RANK,
    PiiSpan,
)
from .loose import KANJI_DIGITS, loose_spans
from .patterns import (
    DOMAIN_RE,
    DOMAIN_TOKEN_RE,
    EMAIL_PATTERN,
    LANDLINE_RE,
    LOCAL_RE,
    LOCAL_TOKEN_RE,
    MAX_EMAIL_TOKENS,
    MOBILE_LIKE_RE,
    PATTERNS,
    SPECIAL_10_RE,
)
from .people import people_spans
from .vocabulary import DASH_NORMS, POSTAL_MARKS

# --------------------------------------------------------------------------- token helpers


def _is_digits(token: Token) -> bool:
    norm = token.norm_
    return norm.isascii() and norm.isdigit()


def _digit_groups(tokens: Iterable[Token]) -> list[str]:
    return [t.norm_ for t in tokens if _is_digits(t)]


def _glued_before(doc: Doc, i: int) -> Token | None:
    """The token right before doc[i] with no white space in between."""
    if i > 0 and not doc[i - 1].whitespace_:
        return doc[i - 1]
    return None


def _glued_after(doc: Doc, end: int) -> Token | None:
    if end < len(doc) and not doc[end - 1].whitespace_:
        return doc[end]
    return None


_JOINERS = frozenset([*DASH_NORMS, ".", ",", "/", ":"])


def _runs_on(doc: Doc, start: int, end: int) -> bool:
    """Whether the digits continue outside [start, end) (03-1234-5678-9, 2024/03-…, 1.5)."""
    before = _glued_before(doc, start)
    if before is not None:
        if _is_digits(before):
            return True
        if before.norm_ in _JOINERS:
            further = _glued_before(doc, before.i)
            if further is not None and _is_digits(further):
                return True
    after = _glued_after(doc, end)
    if after is not None:
        if _is_digits(after):
            return True
        if after.norm_ in _JOINERS:
            further = _glued_after(doc, after.i + 1)
            if further is not None and _is_digits(further):
                return True
    return False


def _more_groups_of_four(doc: Doc, start: int, end: int) -> bool:
    """Whether a space-grouped 4-4-4 sits inside a longer run of 4-digit groups."""
    if start > 0 and doc[start - 1].whitespace_ == " " and _is_digits(doc[start - 1]):
        if len(doc[start - 1].norm_) == 4:
            return True
    if end < len(doc) and doc[end - 1].whitespace_ == " " and _is_digits(doc[end]):
        return len(doc[end].norm_) == 4
    return False


# --------------------------------------------------------------------------- checks per kind

# A check sees the original text and the matched token span [start, end) and says whether it
# is that kind of PII.
Check = Callable[[str, Doc, int, int], bool]


def _valid_phone_digits(groups: list[str]) -> bool:
    digits = "".join(groups)
    if len(digits) == 11:
        ok = bool(MOBILE_LIKE_RE.fullmatch(digits))
    elif len(digits) == 10:
        ok = bool(SPECIAL_10_RE.fullmatch(digits) or LANDLINE_RE.fullmatch(digits))
    else:
        ok = False
    if not ok or len(groups) == 1:
        return ok
    # Grouped: area code 2-5 digits (with its 0), the subscriber part ends in a 4-digit group
    # (3 for 0120-123-456 style numbers).
    last_min = 3 if SPECIAL_10_RE.fullmatch(digits) else 4
    return 2 <= len(groups[0]) <= 5 and len(groups[-1]) >= last_min


def _phone(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    groups = _digit_groups(span)
    if span[0].norm_ == "+":
        if groups[0] == "81":
            groups = groups[1:]
        else:
            groups[0] = groups[0][2:]
        if not groups or groups[0].startswith("0"):
            return False
        groups[0] = "0" + groups[0]
    if not _valid_phone_digits(groups) or _runs_on(doc, start, end):
        return False
    label, weak = label_before(text, span.start_char)
    if weak:
        return True
    # An order number is no phone; a labelled member number is a member number. Other labels
    # (住所 …) cannot make a 10-11 digit number anything but a phone.
    return label != OTHER and not (label == MEMBER_NUMBER and _member_shaped(span))


def _postal(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    if _runs_on(doc, start, end):
        return False
    if span[0].norm_ in POSTAL_MARKS:
        return True
    label, weak = label_before(text, span.start_char)
    if label == POSTAL_CODE:
        return True
    if label is not None and not weak:
        return False  # 注文番号123-4567, 電話は123-4567
    return address_after(text, span.end_char)


def _member_shaped(span: Span) -> bool:
    """8-10 digits, alone or as two hyphenated groups: what a labelled member number is."""
    groups = [len(g) for g in _digit_groups(span)]
    if len(span) == 1:
        return groups == [groups[0]] and 8 <= groups[0] <= 10
    return len(span) == 3 and len(groups) == 2 and all(4 <= n <= 5 for n in groups)


def _member(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    label, weak = label_before(text, span.start_char)
    if span[0].norm_ in ("M", "m"):
        before = _glued_before(doc, start)
        if before is not None and before.norm_.isascii() and before.norm_.isalnum():
            return False
        return not (label == OTHER and not weak) and not _runs_on(doc, start + 1, end)
    return label == MEMBER_NUMBER and not _runs_on(doc, start, end)


def _card(text: str, doc: Doc, start: int, end: int) -> bool:
    digits = "".join(_digit_groups(doc[start:end]))
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _my_number(text: str, doc: Doc, start: int, end: int) -> bool:
    digits = "".join(_digit_groups(doc[start:end]))
    if not my_number_valid(digits):
        return False
    before = _glued_before(doc, start)
    if before is not None and before.norm_ == "+" and digits.startswith("81"):
        return False  # +819012345678 is a phone number
    if end - start == 1:
        return True
    return not _runs_on(doc, start, end) and not _more_groups_of_four(doc, start, end)


_CHECKS: dict[str, Check] = {
    PHONE: _phone,
    POSTAL_CODE: _postal,
    MEMBER_NUMBER: _member,
    CREDIT_CARD: _card,
    MY_NUMBER: _my_number,
}


def _email_span(doc: Doc, at: int) -> tuple[int, int] | None:
    """The address around the "@" at doc[at]: the glued address characters on both sides,
    trimmed to a valid local part (no leading dot) and domain (ends in a TLD)."""
    start = at
    while (
        start > 0
        and at - start < MAX_EMAIL_TOKENS
        and not doc[start - 1].whitespace_
        and LOCAL_TOKEN_RE.fullmatch(doc[start - 1].norm_)
    ):
        start -= 1
    end = at + 1
    while (
        end < len(doc)
        and end - at < MAX_EMAIL_TOKENS
        and not doc[end - 1].whitespace_
        and DOMAIN_TOKEN_RE.fullmatch(doc[end].norm_)
    ):
        end += 1
    start = next((s for s in range(start, at) if LOCAL_RE.fullmatch(_norm_text(doc, s, at))), None)
    end = next(
        (e for e in range(end, at + 1, -1) if DOMAIN_RE.fullmatch(_norm_text(doc, at + 1, e))),
        None,
    )
    if start is None or end is None:
        return None
    return start, end


def _norm_text(doc: Doc, start: int, end: int) -> str:
    return "".join(t.norm_ for t in doc[start:end])


# --------------------------------------------------------------------------- matcher

_build_lock = threading.Lock()
_matcher: Matcher | None = None


def _get_matcher() -> Matcher:
    global _matcher
    if _matcher is None:
        with _build_lock:
            if _matcher is None:
                matcher = Matcher(make_nlp().vocab, validate=True)
                for label, patterns in PATTERNS.items():
                    matcher.add(label, patterns)
                matcher.add(EMAIL, [EMAIL_PATTERN])
                _matcher = matcher
    return _matcher


# Texts without an ASCII digit, a kanji numeral or "@" after NFKC hold none of our kinds: skip
# spaCy entirely.
_MAYBE_PII_RE = re.compile("[0-9@" + "".join(KANJI_DIGITS) + "]")


@dataclass(frozen=True)
class Found:
    span: PiiSpan
    hides_forbidden: bool  # a valid card / individual number lost to this longer span


def _candidates(text: str, doc: Doc) -> set[tuple[str, int, int]]:
    strings = doc.vocab.strings
    found: set[tuple[str, int, int]] = set()
    for match_id, start, end in _get_matcher()(doc):
        label = strings[match_id]
        if label == EMAIL:
            span = _email_span(doc, start + 1)
            if span is not None:
                found.add((EMAIL, *span))
        elif _CHECKS[label](text, doc, start, end):
            found.add((label, start, end))
    # What the patterns cannot see (loose.py): found on characters, owned by whole tokens.
    for label, s, e in loose_spans(text):
        span = doc.char_span(s, e, alignment_mode="expand")
        if span is not None:
            found.add((label, span.start, span.end))
    return found


@lru_cache(maxsize=64)
def find(text: str) -> tuple[tuple[Found, ...], frozenset[str]]:
    """Spans and the forbidden kinds seen. Cached: callers typically ask
    `contains_forbidden(text)` and then `mask(text)` for the same message."""
    if not text:
        return (), frozenset()
    numbers, forbidden = _find_numbers(text)
    return _with_people(text, numbers, people_spans(text)), forbidden


def _with_people(text: str, numbers: tuple[Found, ...],
                 people: list[tuple[str, int, int]]) -> tuple[Found, ...]:
    """The numbers' spans with the names and addresses joined (see the module's docstring)."""
    if not people:
        return numbers
    kept = list(numbers)
    for kind, start, end in people:
        inside = [f for f in kept if start < f.span.end and f.span.start < end]
        cut = [f for f in inside if f.span.start < start or f.span.end > end
               or f.span.label in FORBIDDEN or f.hides_forbidden]
        if cut:
            end = min(f.span.start for f in cut)
            while end > start and text[end - 1].isspace():
                end -= 1
            inside = [f for f in inside if f.span.end <= end]
            if end - start < 2:  # a number before or at its start: the number alone
                continue
        kept = [f for f in kept if f not in inside]
        kept.append(Found(PiiSpan(kind, start, end, text[start:end]), False))
    return tuple(sorted(kept, key=lambda f: f.span.start))


def _find_numbers(text: str) -> tuple[tuple[Found, ...], frozenset[str]]:
    """The numbers' and e-mail addresses' spans, and the forbidden kinds seen."""
    if not _MAYBE_PII_RE.search(unicodedata.normalize("NFKC", text)):
        return (), frozenset()
    doc = make_nlp().make_doc(text)
    # Longest first, then the more sensitive kind; a token belongs to at most one span.
    ordered = sorted(_candidates(text, doc), key=lambda c: (c[1] - c[2], RANK[c[0]], c[1]))
    owner: dict[int, int] = {}  # token index -> index into taken
    taken: list[tuple[str, int, int]] = []
    hides: set[int] = set()
    forbidden_seen: set[str] = set()
    for label, start, end in ordered:
        clash = next((owner[i] for i in range(start, end) if i in owner), None)
        if label in FORBIDDEN:
            forbidden_seen.add(label)
        if clash is not None:
            if label in FORBIDDEN:
                hides.add(clash)
            continue
        for i in range(start, end):
            owner[i] = len(taken)
        taken.append((label, start, end))

    found = []
    for k, (label, start, end) in enumerate(taken):
        span = doc[start:end]
        s, e = span.start_char, span.end_char
        found.append(Found(PiiSpan(label, s, e, text[s:e]), k in hides))
    found.sort(key=lambda f: f.span.start)
    return tuple(found), frozenset(forbidden_seen)


def find_pii(text: str) -> list[PiiSpan]:
    """Personal data in `text`: non-overlapping spans, sorted, offsets into `text`."""
    return [f.span for f in find(text)[0]]


def forbidden_kinds(text: str) -> frozenset[str]:
    """{"CREDIT_CARD", "MY_NUMBER"} ∩ what the finder sees in `text`."""
    return find(text)[1]
