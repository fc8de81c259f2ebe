"""Normalisation of what customers type, keeping a map back to the original offsets.

Features must see one form of a word however it was typed (full-width ａｂｃ, half-width ｶﾀｶﾅ,
〜/～/ー variants), while entities and masking must point into the customer's own text. So the
normaliser works group by group (one original character, or a half-width kana with its sound
mark) and records for every normalised character the span of the original it came from.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Half-width voiced / semi-voiced sound marks combine with the preceding half-width kana.
_HALFWIDTH_SOUND_MARKS = {"\uff9e", "\uff9f"}

# Dash-like characters customers use as the katakana long vowel mark or as a hyphen.
_DASHES = set("-‐‑‒–—―−ー－ｰ")
# Wave-dash variants (typed for a long vowel or a range: 〜/～/~).
_WAVES = {"〜", "～", "~"}

_DIGITS = set("0123456789")
_LINE_BREAKS = {"\n", "\r", "\u2028", "\u2029", "\x85"}


@dataclass(frozen=True)
class Normalized:
    """Normalised text and, per normalised character, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span [start, end)."""
        if start >= end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} and ch not in _LINE_BREAKS


def _is_katakana_or_prolonged(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def _normalize_group(group: str) -> str:
    if group in _LINE_BREAKS or group == "\t":
        return " "
    if len(group) == 1 and _is_control(group):
        # Zero-width joiners, BOMs, NUL and other control characters carry no meaning for us
        # and some (NUL) would cut the text short in C libraries.
        return " " if unicodedata.category(group) == "Cc" else ""
    return unicodedata.normalize("NFKC", group)


def normalize(text: str) -> Normalized:
    """NFKC per group, dash and wave variants unified, controls removed, offsets kept."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        if j < n and text[j] in _HALFWIDTH_SOUND_MARKS:
            j += 1
        piece = _normalize_group(text[i:j])
        for ch in piece:
            out.append(ch)
            starts.append(i)
            ends.append(j)
        i = j

    chars = out
    for k, ch in enumerate(chars):
        if ch in _DASHES:
            prev = chars[k - 1] if k else ""
            nxt = chars[k + 1] if k + 1 < len(chars) else ""
            if prev in _DIGITS and nxt in _DIGITS:
                chars[k] = "-"  # 090ー1234ー5678 typed through an IME is a phone number
            elif _is_katakana_or_prolonged(prev):
                chars[k] = "ー"
        elif ch in _WAVES:
            chars[k] = "〜"
    return Normalized(text, "".join(chars), tuple(starts), tuple(ends))


def normalize_text(text: str) -> str:
    """Just the normalised text, for features and matching where offsets do not matter."""
    return normalize(text).text
