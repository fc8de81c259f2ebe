"""Masking what the finder found: partially for operators, by label for what is stored."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from madoguchi.text.normalize import normalize_text

from .finder import find
from .kinds import EMAIL, FORBIDDEN, LABELS, MEMBER_NUMBER, PHONE, POSTAL_CODE, PiiSpan
from .patterns import MOBILE_LIKE_RE, SPECIAL_10_RE

_STAR = "*"
# Masking repeats until nothing more is found, so that masking is idempotent: hiding one
# number can expose its neighbour (「4111…1111-090-1234-5678」: once the card is a label, the
# phone number no longer runs on from other digits).
_MAX_MASK_PASSES = 3


def _ascii_digit(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return len(folded) == 1 and folded.isascii() and folded.isdigit()


def _star_digits(text: str, keep: Callable[[int, int], bool]) -> str:
    """Replace digits with "*" unless keep(index among digits, digit count) says otherwise;
    everything else (〒, separators as the customer typed them, M) stays."""
    total = sum(1 for ch in text if _ascii_digit(ch))
    out = []
    i = 0
    for ch in text:
        if _ascii_digit(ch):
            out.append(ch if keep(i, total) else _STAR)
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def _phone_prefix_digits(text: str) -> int:
    """How many leading digits a partially masked phone number shows: the first group."""
    norm = normalize_text(text)
    groups = re.findall(r"[0-9]+", norm)
    if norm.startswith("+"):
        return 2 + (len(groups[1]) if len(groups) > 2 else 0)  # +81 and the next group
    if len(groups) > 1:
        return len(groups[0])
    digits = groups[0] if groups else ""
    if SPECIAL_10_RE.fullmatch(digits) or digits.startswith("0800"):
        return 4
    if MOBILE_LIKE_RE.fullmatch(digits):
        return 3
    return 2


def _mask_partial(span: PiiSpan) -> str:
    if span.label == PHONE:
        head = _phone_prefix_digits(span.text)
        return _star_digits(span.text, lambda i, n: i < head or i >= n - 4)
    if span.label == EMAIL:
        at = next(i for i, ch in enumerate(span.text) if unicodedata.normalize("NFKC", ch) == "@")
        return span.text[0] + _STAR * 3 + span.text[at:]
    if span.label == POSTAL_CODE:
        return _star_digits(span.text, lambda i, n: i >= n - 2)
    if span.label == MEMBER_NUMBER:
        return _star_digits(span.text, lambda i, n: i >= n - 4)
    return LABELS[span.label]


def _mask_once(text: str, style: str) -> str:
    found, _ = find(text)
    if not found:
        return text
    out: list[str] = []
    pos = 0
    for f in found:
        span = f.span
        out.append(text[pos : span.start])
        if style == "label" or span.label in FORBIDDEN or f.hides_forbidden:
            # A span hiding a card or individual number is replaced whole, like those are.
            out.append(LABELS[span.label])
        else:
            out.append(_mask_partial(span))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def mask(text: str, *, style: str = "partial") -> str:
    """Text with personal data hidden.

    style="partial" keeps enough for an operator to recognise the data (090-****-5678,
    t***@example.com, 〒***-**67, M****5678); style="label" replaces every span with its label
    (［電話番号］ …). Card and individual numbers are always replaced by their label.
    """
    if style not in ("partial", "label"):
        raise ValueError(f"unknown mask style {style!r}; use 'partial' or 'label'")
    result = _mask_once(text, style)
    for _ in range(_MAX_MASK_PASSES - 1):
        again = _mask_once(result, style)
        if again == result:
            break
        result = again
    return result


def label_forbidden(text: str) -> str:
    """Text with only card and individual numbers (and spans hiding one) replaced by labels."""
    result = text
    for _ in range(_MAX_MASK_PASSES if find(text)[1] else 0):
        found, _ = find(result)
        hits = [f for f in found if f.span.label in FORBIDDEN or f.hides_forbidden]
        if not hits:
            break
        out: list[str] = []
        pos = 0
        for f in hits:
            out.append(result[pos : f.span.start])
            out.append(LABELS[f.span.label])
            pos = f.span.end
        out.append(result[pos:])
        result = "".join(out)
    return result
