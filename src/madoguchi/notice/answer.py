"""A chat reply about the notice: the notice's own words, trimmed to the question, with the source.

Replies quote the notice rather than paraphrase it, so a reply is never more than the notice
says; where a customer asks something the notice leaves open (how many days, which company),
the reply says so from limits.yml instead of guessing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from madoguchi.notice.loader import load_notice
from madoguchi.notice.model import Limit, Notice, Section
from madoguchi.notice.retrieval import content_lemmas
from madoguchi.text.tokenize import lemmas

DEFAULT_MAX_CHARS = 260

# A heading (「2.個人情報の利用目的」, 「(1) ご請求内容」): a first line without a full stop, which
# the citation already names.
_HEADING = re.compile(r"^(\d+\.|\(\d+\))[^。]*$")
# The number label of a list item: 「(4)」 in 「- (4) お客様にとって…」.
_ITEM_LABEL = re.compile(r"^\(\d+\)")
# A lemma in more than about a third of the sections (log(N/df) < 1) tells nothing about which
# paragraph is meant.
_MIN_RELEVANCE = 1.0
# A paragraph counts as asked about when it scores at least this share of the best one.
_RELATIVE_RELEVANCE = 0.6


@dataclass(frozen=True)
class Answer:
    """The reply text (ending with its citation line) and the section it cites.

    For a question the notice leaves open, section_id is the limit's section (the closest
    statement) and limit_id names the limit, so the dialogue can offer a person.
    """

    text: str
    section_id: str
    citation: str
    limit_id: str | None = None


@dataclass
class _Piece:
    """A paragraph the reply may use; `alt` is a shorter wording of the same item, if any."""

    index: int
    text: str
    kind: str  # "item" (a numbered purpose), "note" (its ※), "block" (intro + sub-items), "para"
    words: frozenset[str]
    alt: str | None = None
    score: float = 0.0


def match_limit(question: str, limits: Sequence[Limit] | None = None) -> Limit | None:
    """The first limit whose cues the question meets (default: the project's limits.yml)."""
    if limits is None:
        limits = _default_limits()
    sequence = lemmas(question)
    if not sequence:
        return None
    for limit in limits:
        if any(_has_term(sequence, term) for term in limit.unless):
            continue
        for alternative in limit.cues:
            if all(any(_has_term(sequence, t) for t in group) for group in alternative):
                return limit
    return None


@lru_cache(maxsize=1)
def _default_limits() -> tuple[Limit, ...]:
    return load_notice().limits


def _has_term(sequence: Sequence[str], term: str) -> bool:
    """Whether the term's lemmas occur as a run in the question (何日 = 何 + 日)."""
    needle = lemmas(term)
    if not needle:
        return False
    width = len(needle)
    return any(tuple(sequence[i : i + width]) == needle for i in range(len(sequence) - width + 1))


def compose_answer(
    notice: Notice,
    section_id: str,
    question: str | None = None,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Answer:
    """The reply for a question about section_id, at most max_chars long with its citation."""
    section = notice.get(section_id)
    if question:
        limit = match_limit(question, notice.limits)
        if limit is not None:
            target = notice.get(limit.section)
            return _render(notice, target, limit.reply, max_chars, limit.id)

    budget = max_chars - len(_wrap(notice, "", section))
    pieces = _pieces(notice, section)
    words = set(content_lemmas(question, notice)) if question else set()
    weights = _weights(notice)
    for piece in pieces:
        piece.score = sum(weights.get(w, 0.0) for w in words & piece.words)
    chosen = _select(pieces, budget, bool(words))
    return _render(notice, section, _join(notice, chosen), max_chars)


def _wrap(notice: Notice, body: str, section: Section) -> str:
    return notice.template("reply").format(body=body, citation=section.citation)


def _render(
    notice: Notice, section: Section, body: str, max_chars: int, limit_id: str | None = None
) -> Answer:
    budget = max_chars - len(_wrap(notice, "", section))
    if len(body) > budget:
        body = _trim(notice, body, budget)
    return Answer(_wrap(notice, body, section), section.id, section.citation, limit_id)


def _pieces(notice: Notice, section: Section) -> list[_Piece]:
    """The section's paragraphs as a reply shows them: no heading, no list markers."""
    marker = notice.template("list_marker")
    omit = set(notice.template_list("omit_in_replies"))
    lines = list(section.lines)
    if lines and _HEADING.match(lines[0]):
        lines = lines[1:]
    pieces: list[_Piece] = []
    for line in lines:
        if line in omit:
            continue
        kind = "para"
        if marker and line.startswith(marker):
            line = line[len(marker) :].strip()
            if _ITEM_LABEL.match(line) and section.parent is not None:
                kind = "item"
        elif line.startswith(notice.template("note_marker")):
            kind = "note"
        alt = section.summary if kind == "item" else None
        pieces.append(_Piece(len(pieces), line, kind, _words(notice, line), alt))

    children = notice.children(section.id)
    if children and pieces:
        # A parent shows its first paragraph with the list of its sub-items as one block.
        listing = [_list_line(notice, child) for child in children]
        head = pieces[0]
        head.text = "\n".join([head.text, *listing])
        head.kind = "block"
        head.words = head.words | _words(notice, "\n".join(listing))
    return pieces


def _list_line(notice: Notice, child: Section) -> str:
    """A sub-item as one line of its parent's list: its own heading, or label + short title."""
    first = child.lines[0]
    if _HEADING.match(first):
        return first
    marker = notice.template("list_marker")
    first = first[len(marker) :].strip() if marker and first.startswith(marker) else first
    label = _ITEM_LABEL.match(first)
    short = child.short or child.title
    if not label:
        return short
    return notice.template("list_item").format(label=label.group(0), short=short)


@lru_cache(maxsize=4096)
def _words(notice: Notice, text: str) -> frozenset[str]:
    """The content words of a line of the notice, read once: every answer reads its section's
    lines again (three quarters of an answer's time went to reading them)."""
    return frozenset(content_lemmas(text, notice))


@lru_cache(maxsize=8)
def _weights(notice: Notice) -> dict[str, float]:
    """How much a shared word says about relevance: log(N/df) over the sections."""
    df = Counter(w for s in notice.sections for w in _words(notice, s.title + "\n" + s.text))
    n = len(notice.sections)
    return {w: weight for w, f in df.items() if (weight := math.log(n / f)) >= _MIN_RELEVANCE}


def _length(pieces: Sequence[_Piece], alt: set[int]) -> int:
    texts = [p.alt if p.index in alt and p.alt else p.text for p in pieces]
    return sum(len(t) for t in texts) + max(0, len(texts) - 1)


def _select(pieces: list[_Piece], budget: int, asked: bool) -> list[tuple[_Piece, bool]]:
    """Which paragraphs to show (and whether in their shorter wording), in the notice's order.

    Everything that fits is shown, except a ※ note the question shares no word with. When it
    is too long, the paragraphs the question touches most come first; a numbered purpose stays,
    in its shorter wording if that lets its relevant note in; with nothing touched, the section
    is shown from the top as far as it fits.
    """
    top = max((p.score for p in pieces), default=0.0)
    relevant = [p for p in pieces if p.score > 0 and p.score >= _RELATIVE_RELEVANCE * top]
    base = [p for p in pieces if not (asked and p.kind == "note" and p.score == 0)]
    if _length(base, set()) <= budget:
        return [(p, False) for p in base]

    if not relevant:
        chosen: list[_Piece] = []
        for p in base:
            if _length([*chosen, p], set()) > budget:
                break
            chosen.append(p)
        return [(p, False) for p in chosen or base[:1]]

    item = next((p for p in pieces if p.kind == "item"), None)
    chosen = [item] if item else []
    shortened: set[int] = set()
    for p in sorted(relevant, key=lambda p: (-p.score, p.index)):
        if p in chosen:
            continue
        if _length([*chosen, p], shortened) <= budget:
            chosen.append(p)
        elif item is not None and item.alt and item.index not in shortened:
            if _length([*chosen, p], shortened | {item.index}) <= budget:
                shortened.add(item.index)
                chosen.append(p)
    if not chosen:
        chosen = [max(relevant, key=lambda p: p.score)]
    # Fill the gaps between chosen paragraphs (② between ① and ③), and then the steps that lead
    # up to them (①② before ③), when that still fits.
    chosen.sort(key=lambda p: p.index)
    for lo in (chosen[0].index, -1):
        hi = chosen[-1].index
        extra = [p for p in base if lo < p.index < hi and p not in chosen]
        if extra and _length([*chosen, *extra], shortened) <= budget:
            chosen = sorted([*chosen, *extra], key=lambda p: p.index)
    return [(p, p.index in shortened) for p in chosen]


def _join(notice: Notice, chosen: Sequence[tuple[_Piece, bool]]) -> str:
    texts = [p.alt if short and p.alt else p.text for p, short in chosen]
    if texts:
        for connective in notice.template_list("leading_connectives"):
            if texts[0].startswith(connective):
                texts[0] = texts[0][len(connective) :]
                break
    return "\n".join(texts)


def _trim(notice: Notice, body: str, budget: int) -> str:
    """Cut at the last sentence or clause end that fits, and mark the cut."""
    ellipsis = notice.template("ellipsis")
    room = max(0, budget - len(ellipsis))
    head = body[:room]
    cut = max(head.rfind("。"), head.rfind("\n"))
    if cut >= room // 2:
        return head[: cut + 1].rstrip()
    cut = max(head.rfind("、"), head.rfind("，"))
    if cut >= room // 2:
        return head[:cut] + ellipsis
    return head + ellipsis
