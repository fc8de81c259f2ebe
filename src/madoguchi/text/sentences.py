"""Where Japanese sentences end, for the notice's lines and for customers' messages alike.

A sentence end inside brackets or quotes does not count: 「商品等」といいます。） in the notice, and
「もう送らないで」と言ったのに… in a message, where the quoted wish is part of the sentence that
reports it.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

OPENING = "（(「『【［["
CLOSING = "）)」』】］]"
# The notice ends its sentences with 。 only; customers also with ！？, line breaks and ….
NOTICE_ENDS = "。"
MESSAGE_ENDS = "。．！？!?\n"
# Words that open a wish added to the one before it (「DMを止めてください。あと、データも消して」).
# They start a clause where a sentence starts with them; the unambiguous ones also after 、
# inside a sentence (「DMを止めて、ついでに住所も消してください」). あと and また only with a
# comma or space after them (「あとで」, 「またDMが届きました」 add nothing); それと not as
# それとも.
_ADDITION_WORDS = ("ついでに", "それと(?!も)", "あわせて", "併せて", "合わせて", "加えて",
                   "それから", "もう一つ", "もうひとつ", "さらに", "(?:あと|また)(?=[、,，\\s])")
_MID_SENTENCE_ADDITIONS = ("ついでに", "それと(?!も)", "あわせて", "併せて", "加えて")
_ADDITION_START = re.compile("|".join(_ADDITION_WORDS))
_ADDITION_INSIDE = re.compile(
    "(?<=[、,，])\\s*(?=(?:" + "|".join(_MID_SENTENCE_ADDITIONS) + "))")


def sentence_spans(text: str, ends: str = NOTICE_ENDS) -> list[tuple[int, int]]:
    """(start, end) of each sentence, white space at either side left out; end is exclusive."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    # Only brackets and sentence ends matter: a long message is visited at those alone.
    for match in _marks(ends).finditer(text):
        i, ch = match.start(), match.group()
        if ch in OPENING:
            depth += 1
        elif ch in CLOSING:
            depth = max(0, depth - 1)
        elif ch in ends and depth == 0:
            spans.append((start, i + 1))
            start = i + 1
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        piece = text[s:e]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            out.append((s + lead, s + len(piece.rstrip())))
    return out


@lru_cache(maxsize=8)
def _marks(ends: str) -> re.Pattern[str]:
    return re.compile("[" + re.escape(OPENING + CLOSING + ends) + "]")


def split_sentences(text: str, ends: str = NOTICE_ENDS) -> list[str]:
    """The sentences of text, stripped; a 。 inside brackets does not end one."""
    return [text[s:e] for s, e in sentence_spans(text, ends)]


def message_clauses(text: str, min_chars: int = 4) -> list[tuple[int, int]]:
    """Spans of a customer's message that each say one thing: its sentences, cut again before
    a wish added inside one (「…止めて、ついでに…」), with fragments shorter than min_chars
    (「はい。」, 「あと、」, a lone emoji line) joined to the next one."""
    merged: list[tuple[int, int]] = []
    pending: int | None = None
    for s, e in _with_additions_cut(text, sentence_spans(text, MESSAGE_ENDS)):
        start = s if pending is None else pending
        if not _has_content_chars(text[s:e], min_chars):
            pending = start
            continue
        merged.append((start, e))
        pending = None
    if pending is not None:
        if merged:
            merged[-1] = (merged[-1][0], len(text.rstrip()))
        else:
            merged.append((pending, len(text.rstrip())))
    return merged


def is_addition(clause: str) -> bool:
    """Whether a clause adds a wish to what came before (it opens with あと、, それと, ついでに)."""
    return _ADDITION_START.match(clause.lstrip()) is not None


def _with_additions_cut(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        cuts = [m.end() + s for m in _ADDITION_INSIDE.finditer(text[s:e])]
        bounds = [s, *cuts, e]
        out.extend((a, b) for a, b in itertools.pairwise(bounds) if b > a)
    return out


def _has_content_chars(piece: str, wanted: int) -> bool:
    """Whether piece has at least `wanted` letters or digits; stops counting there."""
    if wanted <= 0:
        return True
    for ch in piece:
        if ch.isalnum():
            wanted -= 1
            if wanted == 0:
                return True
    return False


def reading_start(text: str, limit: int) -> int:
    """Where to start reading a message so that at most `limit` characters are read.

    A customer's wish is near the end of a long message, and the work of reading one must stay
    bounded: the start of the first sentence that lies wholly within the last `limit`
    characters, or the cut itself when one sentence is longer than that."""
    if limit <= 0 or len(text) <= limit:
        return 0
    cut = len(text) - limit
    for start, _ in sentence_spans(text, MESSAGE_ENDS):
        if start >= cut:
            return start
    return cut
