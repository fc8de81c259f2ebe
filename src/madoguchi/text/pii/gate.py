"""The one gate for the numbers that must never be stored: card numbers and individual numbers.

Whatever is stored or shown (the chat log, a ticket, a form answer, a note) passes here. The
spaCy finder decides (finder.py, with labels nearby and number plans); when it cannot be loaded
or fails, a scan by check digits alone still refuses the numbers: a broken library must not let
a card number through.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .kinds import FORBIDDEN
from .loose import KANJI_DIGITS, REFERENCE, contains_loose_forbidden, digit_count, forbidden_runs

log = logging.getLogger(__name__)

# Both numbers have at least 12 digits (individual number 12, cards 13-19): fewer digits in the
# whole text cannot hold one, and most texts (names, e-mail, 「はい」) skip the finder.
_MIN_FORBIDDEN_DIGITS = 12
_ANY_DIGIT = re.compile("[0-9０-９" + "".join(KANJI_DIGITS) + "]")


@dataclass(frozen=True)
class Finder:
    """What the gate asks the spaCy finder: the forbidden kinds in a text, and the text with
    them (and any span hiding one) replaced by labels."""

    kinds: Callable[[str], frozenset[str]]
    relabel: Callable[[str], str]


@lru_cache(maxsize=1)
def load_finder() -> Finder | None:
    """The spaCy finder, imported on first use (it loads spaCy), or None if it cannot load."""
    try:
        from .finder import forbidden_kinds
        from .masker import label_forbidden
    except ImportError:
        log.warning("the PII finder cannot be loaded; checking by check digits alone")
        return None
    return Finder(kinds=forbidden_kinds, relabel=label_forbidden)


def _number_runs(text: str) -> list[tuple[str, int, int]]:
    """(kind, start, end) of digit runs that pass a card's or an individual number's check,
    in every form loose.py reads (separators, groupings, kanji numerals)."""
    return forbidden_runs(text)


def _label_runs(text: str) -> str:
    # The kind's own name in brackets: whoever reads it can tell the finder was not there.
    for kind, start, end in sorted(_number_runs(text), key=lambda s: -s[1]):
        text = text[:start] + f"[{kind}]" + text[end:]
    return text


_HOLD = "\ue000"


def _held_references(text: str) -> tuple[str, list[str]]:
    """Text with each reference replaced by a placeholder without digits, and the references."""
    found = [m.group(0) for m in REFERENCE.finditer(text)]
    return (REFERENCE.sub(_HOLD, text), found) if found else (text, [])


def _restore_references(text: str, found: list[str]) -> str:
    for reference in found:
        text = text.replace(_HOLD, reference, 1)
    return text


@dataclass(frozen=True)
class Gate:
    """The checks with a given finder; None checks by check digits alone."""

    finder: Finder | None

    def contains(self, text: str) -> set[str]:
        """{"CREDIT_CARD", "MY_NUMBER"} ∩ what `text` contains: these must never be stored,
        and the caller should tell the customer not to send them."""
        text, _ = _held_references(text or "")
        if not text or digit_count(text) < _MIN_FORBIDDEN_DIGITS:
            return set()
        if self.finder is not None:
            try:
                # The loose scan also runs inside the finder; here it stands for it when the
                # finder's span resolution lets a loose run lose to a longer span.
                return (set(self.finder.kinds(text)) & FORBIDDEN) | contains_loose_forbidden(
                    text)
            except Exception:  # the finder failing must not let a card number through
                log.exception("the PII finder failed; checking by check digits alone")
        return {kind for kind, _, _ in _number_runs(text)}

    def mask(self, text: str) -> tuple[str, set[str]]:
        """Text with only card and individual numbers replaced by their labels, and their kinds.

        For what is stored as the customer typed it (the chat log, a ticket's free text): the
        phone number or address a customer gives for the ticket stays, the numbers that must
        never be stored do not.
        """
        kinds = self.contains(text)
        if not kinds:
            return text, kinds
        text, references = _held_references(text)
        result = None
        if self.finder is not None:
            try:
                result = self.finder.relabel(text)
            except Exception:
                log.exception("the PII finder failed; masking by check digits alone")
        if result is None:
            result = _label_runs(text)
        if self.contains(result):  # the checks disagree with their own spans: lose the digits
            result = _ANY_DIGIT.sub("*", result)
        return _restore_references(result, references), kinds


def contains_forbidden(text: str) -> set[str]:
    """{"CREDIT_CARD", "MY_NUMBER"} ∩ what `text` contains: these must never be stored, and
    the caller should tell the customer not to send them."""
    return Gate(load_finder()).contains(text)


def mask_forbidden(text: str) -> tuple[str, set[str]]:
    """Text with only card and individual numbers replaced by their labels, and their kinds."""
    return Gate(load_finder()).mask(text)


def scrub_forbidden(text: str) -> str:
    """Just the text of `mask_forbidden`."""
    return mask_forbidden(text)[0]
