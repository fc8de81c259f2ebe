"""Japanese word segmentation on fugashi (MeCab) with unidic-lite.

One segmentation serves Rasa (the NLU tokenizer), spaCy (the PII patterns) and the notice
retrieval, so that a word is the same word everywhere. MeCab runs on the normalised text, which
segments ｶﾀｶﾅ and ＡＢＣ like their ordinary forms; every token is mapped back to the customer's
own characters.

MeCab is asked for the four fields we use, one line per word, in one call: a message of the
channel's maximum length has some 3,000 words, and a Python object per word and per feature
tuple (fugashi's nodes) cost several times MeCab's own work. The node path stays as the fallback
for a dictionary whose layout we do not know.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import fugashi

from madoguchi.text.normalize import normalize

# MeCab's own part of speech for a run of white space (U+3000 included).
_WHITESPACE_POS = "空白"
# Punctuation and symbols: they are not pronounced, so they have no reading.
_SYMBOL_POS = "補助記号"
# Ends MeCab's output, so that fugashi's rstrip of it never eats a word's empty last field.
_EOS = "EOS"


@dataclass(frozen=True)
class Word:
    """A token: surface and offsets in the original text; normalised, dictionary and spoken form."""

    text: str
    start: int
    end: int
    norm: str
    lemma: str
    pos: str
    reading: str = ""


# A Word's fields in its order, as a plain tuple (text, start, end, norm, lemma, pos, reading):
# what the Rasa tokenizer builds its tokens from, without a Word object in between.
Segment = tuple[str, int, int, str, str, str, str]


class _Tagger(NamedTuple):
    tagger: fugashi.Tagger
    # Whether MeCab prints "pos1 \t orthBase \t kana \t surface" lines (see _line_format).
    lines: bool


_local = threading.local()


def _line_format(fields: tuple[str, ...]) -> str | None:
    """MeCab options for one line per word, or None when the dictionary lacks a field we read.

    Unknown words have no dictionary form or reading (fugashi gives None): they print "*",
    which the node path treats alike."""
    try:
        pos1, base, kana = (fields.index(f) for f in ("pos1", "orthBase", "kana"))
    except ValueError:
        return None
    return (
        f'-O "" --node-format="%f[{pos1}]\\t%f[{base}]\\t%f[{kana}]\\t%m\\n"'
        f' --unk-format="%f[{pos1}]\\t*\\t*\\t%m\\n" --eos-format="{_EOS}"'
    )


def _tagger() -> _Tagger:
    # A MeCab tagger is not safe to share between threads; one per thread is cheap.
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        plain = fugashi.Tagger()
        options = _line_format(plain.parseToNodeList("日本")[0].feature._fields)
        tagger = _Tagger(fugashi.Tagger(options), True) if options else _Tagger(plain, False)
        _local.tagger = tagger
    return tagger


def katakana(text: str) -> str:
    """Hiragana turned into katakana; everything else unchanged."""
    return text.translate(_HIRAGANA_TO_KATAKANA)


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}

# (part of speech, dictionary form or None, reading or None, surface) of each word MeCab found.
_Analysis = tuple[str, str | None, str | None, str]


def _node_analyses(tagger: fugashi.Tagger, text: str) -> list[_Analysis]:
    """The straightforward path: fugashi's node objects and their feature tuples."""
    out: list[_Analysis] = []
    for node in tagger.parseToNodeList(text):
        feature = node.feature
        out.append((feature.pos1 or "", getattr(feature, "orthBase", None),
                    getattr(feature, "kana", None), node.surface))
    return out


def _line_analyses(tagger: fugashi.Tagger, text: str) -> Iterable[_Analysis] | None:
    """The same from MeCab's text output; None if it is not the shape asked for."""
    out = tagger.parse(text)
    body = len(out) - len(_EOS)
    if not out.endswith(_EOS) or (body and out[body - 1] != "\n"):
        return None
    # Four fields a line (no field holds a tab or a line break: the normalised text has none),
    # read as one flat list, four at a time.
    if out.count("\t") != 3 * out.count("\n"):
        return None
    fields = iter(out[:body].replace("\n", "\t").split("\t"))
    # Not strict: the split leaves one empty field after the last line's tab.
    return zip(fields, fields, fields, fields, strict=False)  # type: ignore[return-value]


def _analyses(text: str, *, nodes: bool = False) -> Iterable[_Analysis]:
    tagger = _tagger()
    if tagger.lines and not nodes:
        analyses = _line_analyses(tagger.tagger, text)
        if analyses is not None:
            return analyses
    return _node_analyses(tagger.tagger, text)


def segments(text: str, *, nodes: bool = False) -> list[Segment]:
    """tokenize()'s words as plain tuples (cheaper for a long message's thousands of words).

    nodes=True takes fugashi's node path, the reference the line path is tested against."""
    normalized = normalize(text)
    ntext = normalized.text
    starts, ends = normalized.starts, normalized.ends
    find = ntext.find
    words: list[Segment] = []
    append = words.append
    pos = 0
    last_end = -1
    for pos1, base, kana, surface in _analyses(ntext, nodes=nodes):
        start = find(surface, pos)
        if start < 0:  # MeCab never reorders input; this guards against a future surprise
            continue
        end = start + len(surface)
        pos = end
        if pos1 == _WHITESPACE_POS or not surface.strip():
            continue
        # orthBase is the dictionary form in the writing used (消し → 消す, ほしい → ほしい);
        # unknown words (numbers, rare katakana, emoji) have none and keep their normalised form.
        lemma = base if base and base != "*" else surface
        # The word as it sounds, in katakana as written (消し → ケシ): 削除 and さくじょ,
        # 失礼します and ｼﾂﾚｲｼﾏｽ then share it. Unknown words (kana spellings MeCab does not
        # know, names, numbers) are read as they are spelled; punctuation is not read.
        if pos1 == _SYMBOL_POS:
            sound = ""
        elif kana and kana != "*":
            sound = kana
        else:
            sound = surface.translate(_HIRAGANA_TO_KATAKANA)
        o_start = starts[start]
        o_end = ends[end - 1]
        if o_start < last_end:
            # One original character can expand to several (㍿ → 株式会社, ½ → 1⁄2) that MeCab
            # splits; words must not share characters, so the pieces become one word again.
            _, p_start, p_end, p_norm, p_lemma, p_pos, p_sound = words[-1]
            last_end = max(o_end, p_end)
            words[-1] = (text[p_start:last_end], p_start, last_end, p_norm + surface,
                         p_lemma + lemma, p_pos, p_sound + sound)
            continue
        append((text[o_start:o_end], o_start, o_end, surface, lemma, pos1, sound))
        last_end = o_end
    return words


def tokenize(text: str) -> list[Word]:
    """Segment text into words with exact offsets into text; white space is never a word."""
    return [Word(*row) for row in segments(text)]


def reading(text: str) -> str:
    """How the text sounds, in katakana, punctuation left out: one string whatever the script."""
    return "".join(row[6] for row in segments(text))


@lru_cache(maxsize=4096)
def lemmas(text: str) -> tuple[str, ...]:
    """Lower-cased dictionary forms, for retrieval and keyword checks."""
    return tuple(row[4].lower() for row in segments(text))
