"""Names and addresses typed in free text: found by what stands around them, not by shape.

A number has a shape; a name does not, and an address only partly. So both are found only
where their context leaves little doubt, because a false positive hides a customer's own words
from the NLU and from the review:

ADDRESS
    A prefecture (`vocabulary.PREFECTURES`, with or without 都道府県) or a municipality (…市,
    …区, …町, …村, …郡), then the town and the block and house numbers: 丁目・番地・番・号, digits
    (full-width too) or kanji numerals joined by dashes or の, and a building with its room
    (梅田ビル5階, 201号室). Without numbers there is no address (「東京都の条例」, 「大阪市に住んで
    います」), and an ordinal (第3号) is not a house number.
NAME
    A person's name (UniDic tags family and given names 人名) where the customer says it is
    theirs: 「佐藤花子と申します」「田中といいます」「名前は山田です」「氏名：山田太郎」, or a
    sentence that is nothing but 「山田です。」 (after a greeting or 私は at most). The name
    must start with a word tagged 人名 and hold only proper nouns: 「個人情報と申します」,
    「株式会社山田と申します」 and 「山田商事です」 are no names.

Offsets point into the customer's original text (`madoguchi.text.normalize` keeps the map).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterator

import fugashi

from madoguchi.text.normalize import Normalized, normalize

from .kinds import ADDRESS, NAME
from .vocabulary import PREFECTURES

# --------------------------------------------------------------------------- addresses

_KANJI = "\u4e00-\u9fff々〆"
_PLACE = f"[{_KANJI}ァ-ヴーヵヶ]"  # a town's characters (kanji numerals included)
_PREFECTURE = "(?:" + "|".join(PREFECTURES) + ")[都道府県]?"
_NUM = "(?:[0-9]{1,5}|[〇一二三四五六七八九十百千]{1,6})"
_UNIT = "(?:丁目|番地|番(?!目)|号)"
_JOIN = "(?:[-ー‐−–—の]|丁目|番地の?|番|条[東西南北]?)"  # 条: Sapporo's 北1条西2丁目
# After a unit word the next number needs no dash (一丁目2番3号).
_NUMBERS = f"{_NUM}{_UNIT}?(?:\\s?(?:{_JOIN}|(?<=[目地番号]))\\s?{_NUM}{_UNIT}?){{0,4}}"
_BUILDING = (f"(?:\\s?(?:{_PLACE}|[A-Za-z]){{1,20}}?\\s?[0-9]{{1,4}}(?:号室|階|F)?"
             f"|\\s?[0-9]{{1,4}}号室)?")
# A candidate: a run of place names (が and の inside: 自由が丘, 旗の台), as long as it goes
# (六本木 is a town, not 六 and a building), right before block and house numbers. Every
# quantifier is bounded and no run of place names repeats inside another: linear in the text.
_CANDIDATE = re.compile(
    f"(?P<place>(?:{_PLACE}|[がの]){{2,40}})(?<!第)(?P<numbers>{_NUMBERS}){_BUILDING}(?![0-9])"
)
# Where the address starts in the run: a prefecture, or a municipality (…市, …区, …町, …村,
# …郡), after a label glued to it (新住所港区…).
_LABEL = re.compile("^(?:[新旧現]?住所|所在地|送付先|届け先|お届け先)")
# Not followed by の or が: 「東京都の3番目の店」 names no address.
_PREFECTURE_RE = re.compile("(?:" + "|".join(PREFECTURES) + ")(?:[都道府県](?![がの])"
                            "|(?![都道府県がの]))")
_MUNICIPALITY_RE = re.compile(f"{_PLACE}{{1,5}}?[市区町村郡](?![がの])")
# さいたま市: a municipality in hiragana, after its prefecture.
_KANA_CITY_BEFORE = re.compile(f"{_PREFECTURE}[ぁ-ん]{{2,6}}$")
# Numbers that are a house number: a unit word or two numbers joined (1-2, 2番地の5).
_HOUSE_NUMBER = re.compile(f"{_UNIT}|[0-9〇一二三四五六七八九十百千]\\s?[-ー‐−–—の]")
_MAYBE_ADDRESS = re.compile(f"{_PREFECTURE}|[市区町村郡]")


def _address_start(text: str, m: re.Match[str]) -> int | None:
    """Where the address in the candidate `m` starts, or None when its run of place names
    holds neither a prefecture nor a municipality."""
    place, offset = m.group("place"), m.start("place")
    label = _LABEL.match(place)
    if label:
        place, offset = place[label.end():], offset + label.end()
    starts = [found.start() for found in (_PREFECTURE_RE.search(place),
                                          _MUNICIPALITY_RE.search(place)) if found]
    if not starts:
        return None
    start = offset + min(starts)
    before = _KANA_CITY_BEFORE.search(text, max(0, start - 12), start)
    return before.start() if before else start


def _address_spans(norm: Normalized) -> Iterator[tuple[int, int]]:
    text = norm.text
    if not _MAYBE_ADDRESS.search(text):
        return
    for m in _CANDIDATE.finditer(text):
        if not _HOUSE_NUMBER.search(m.group("numbers")):
            continue
        start = _address_start(text, m)
        if start is not None:
            yield norm.span(start, m.end())


# --------------------------------------------------------------------------- names

_NAME_CHAR = f"[{_KANJI}ぁ-んァ-ヴー]"
# Lazy: the shortest name before what follows (「山田太郎です」 gives 山田太郎).
_NAME_TEXT = f"{_NAME_CHAR}{{1,10}}?(?:[ \u3000]{_NAME_CHAR}{{1,10}}?)?"
# 「〇〇と申します」: the words before the phrase, back to the clause's start.
_SAYS_NAME = re.compile(
    f"(?P<before>{_NAME_CHAR}{{1,24}}(?:[ \u3000]{_NAME_CHAR}{{1,10}})?)\\s*"
    "(?:と申します|と申す者|と申し上げます|といいます|と言います|といいまして|でございます)"
)
# 「名前は山田です」「氏名：山田太郎」: the name right after a label.
_LABELLED = re.compile(
    f"(?:お?名前|氏名|フルネーム)\\s*(?:は|:|：)\\s*(?P<name>{_NAME_TEXT})\\s*"
    "(?=です|でございます|と申します|といいます|と言います|[、。,.!！?？\\n]|$)"
)
_GREETING = ("(?:こんにちは|こんばんは|おはようございます|はじめまして|初めまして|"
             "お世話になります|お世話になっております|いつもお世話になっております)[、,!！。\\s]*")
# A sentence that is only 「山田です。」 (after a greeting or 私は).
_INTRODUCTION = re.compile(
    f"(?:^|(?<=[。!！?？\\n]))\\s*(?:{_GREETING})?(?:(?:私|わたし|わたくし|僕|ぼく)は\\s*)?"
    f"(?P<name>{_NAME_TEXT})\\s*(?:です|でございます)\\s*(?=[。!！?？、,\\n]|$)"
)
_MAYBE_NAME = re.compile("申|いいます|言います|名前|氏名|フルネーム|です|でございます")
# Words after which a name may start: particles, pronouns, punctuation, verbs (私は, 〜の).
_BOUNDARY_POS = frozenset({"助詞", "代名詞", "補助記号", "空白", "接続詞", "感動詞", "動詞",
                           "形容詞", "記号"})

_local = threading.local()


def _tagger() -> fugashi.Tagger:
    # MeCab's tagger is not safe to share between threads; one per thread is cheap.
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        tagger = _local.tagger = fugashi.Tagger()
    return tagger


def _words(text: str) -> list[tuple[int, int, str, str, str]]:
    """(start, end, pos1, pos2, pos3) of each word of `text`."""
    out = []
    pos = 0
    for node in _tagger()(text):
        start = text.find(node.surface, pos)
        if start < 0:
            return []
        pos = start + len(node.surface)
        f = node.feature
        out.append((start, pos, f.pos1 or "", f.pos2 or "", f.pos3 or ""))
    return out


def _is_name(words: list[tuple[int, int, str, str, str]], *, strict: bool = False) -> bool:
    """A person's name: a first word tagged 人名, then proper nouns (a given name the
    dictionary splits may end in an auxiliary: 佐藤ゆい|な); `strict`: 人名 words only."""
    if not words or words[0][4] != "人名" or len(words) > 4:
        return False
    for _, _, pos1, pos2, pos3 in words[1:]:
        if pos1 == "名詞" and pos2 == "固有名詞" and (pos3 == "人名" or not strict):
            continue
        if pos1 == "助動詞" and not strict:
            continue
        return False
    return True


def _name_after_boundary(text: str) -> tuple[int, int] | None:
    """The name at the end of `text` (the words before 「と申します」), or None: the words
    after the last particle, pronoun or punctuation, when they are a name and the clause
    does not run on into them (株式会社山田 is a company)."""
    words = [w for w in _words(text) if w[2] != "空白" or w[0] < w[1]]
    cut = max((i + 1 for i, w in enumerate(words) if w[2] in _BOUNDARY_POS), default=0)
    name = words[cut:]
    if not _is_name(name):
        return None
    return name[0][0], name[-1][1]


def _name_spans(norm: Normalized) -> Iterator[tuple[int, int]]:
    text = norm.text
    if not _MAYBE_NAME.search(text):
        return
    for m in _SAYS_NAME.finditer(text):
        before = m.group("before")
        found = _name_after_boundary(before)
        if found is not None:
            yield norm.span(m.start() + found[0], m.start() + found[1])
    for pattern, strict in ((_LABELLED, False), (_INTRODUCTION, True)):
        for m in pattern.finditer(text):
            name = m.group("name")
            if name and _is_name(_words(name), strict=strict):
                start = m.start("name")
                yield norm.span(start, start + len(name.rstrip()))


def _normalized(text: str) -> Normalized:
    """`normalize(text)` with its line breaks kept (it folds them into spaces): a line break
    ends a sentence and a labelled name (「氏名: 山田 太郎\n住所…」)."""
    norm = normalize(text)
    chars = [("\n" if text[start] in "\n\r\u2028\u2029\x85" and ch == " " else ch)
             for ch, start in zip(norm.text, norm.starts, strict=True)]
    return dataclasses.replace(norm, text="".join(chars))


def people_spans(text: str) -> list[tuple[str, int, int]]:
    """(NAME or ADDRESS, start, end) in `text`, offsets into it; overlaps: the longer wins."""
    if not text:
        return []
    norm = _normalized(text)
    found = sorted({(ADDRESS, s, e) for s, e in _address_spans(norm)}
                   | {(NAME, s, e) for s, e in _name_spans(norm)},
                   key=lambda c: (c[1] - c[2], c[1]))
    taken: list[tuple[str, int, int]] = []
    for kind, start, end in found:
        if start < end and all(end <= s or start >= e for _, s, e in taken):
            taken.append((kind, start, end))
    return sorted(taken, key=lambda c: c[1])
