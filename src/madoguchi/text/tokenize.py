"""Japanese word segmentation on fugashi (MeCab) with unidic-lite.

One segmentation serves Rasa (the NLU tokenizer), spaCy (the PII patterns) and the notice
retrieval, so that a word is the same word everywhere. MeCab runs on the normalised text, which
segments ｶﾀｶﾅ and ＡＢＣ like their ordinary forms; every token is mapped back to the customer's
own characters.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import fugashi

from madoguchi.text.normalize import normalize

# MeCab's own part of speech for a run of white space (U+3000 included).
_WHITESPACE_POS = "空白"
# Punctuation and symbols: they are not pronounced, so they have no reading.
_SYMBOL_POS = "補助記号"


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


_local = threading.local()


def _tagger() -> fugashi.Tagger:
    # A MeCab tagger is not safe to share between threads; one per thread is cheap.
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        tagger = fugashi.Tagger()
        _local.tagger = tagger
    return tagger


def _lemma(node: fugashi.UnidicNode, norm: str) -> str:
    # orthBase is the dictionary form in the writing used (消し → 消す, ほしい → ほしい);
    # unknown words (numbers, rare katakana, emoji) have none and keep their normalised form.
    base = getattr(node.feature, "orthBase", None)
    return base if base and base != "*" else norm


def katakana(text: str) -> str:
    """Hiragana turned into katakana; everything else unchanged."""
    return text.translate(_HIRAGANA_TO_KATAKANA)


_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}


def _reading(node: fugashi.UnidicNode, norm: str) -> str:
    # The word as it sounds, in katakana as written (消し → ケシ): 削除 and さくじょ, 失礼します
    # and ｼﾂﾚｲｼﾏｽ then share it. Unknown words (kana spellings MeCab does not know, names,
    # numbers) are read as they are spelled.
    if node.feature.pos1 == _SYMBOL_POS:
        return ""
    kana = getattr(node.feature, "kana", None)
    return kana if kana and kana != "*" else katakana(norm)


def tokenize(text: str) -> list[Word]:
    """Segment text into words with exact offsets into text; white space is never a word."""
    normalized = normalize(text)
    words: list[Word] = []
    pos = 0
    for node in _tagger()(normalized.text):
        surface = node.surface
        start = normalized.text.find(surface, pos)
        if start < 0:  # MeCab never reorders input; this guards against a future surprise
            continue
        end = start + len(surface)
        pos = end
        if not surface.strip() or node.feature.pos1 == _WHITESPACE_POS:
            continue
        o_start, o_end = normalized.span(start, end)
        if words and o_start < words[-1].end:
            # One original character can expand to several (㍿ → 株式会社, ½ → 1⁄2) that MeCab
            # splits; words must not share characters, so the pieces become one word again.
            prev = words[-1]
            o_end = max(o_end, prev.end)
            words[-1] = Word(
                text=text[prev.start : o_end],
                start=prev.start,
                end=o_end,
                norm=prev.norm + surface,
                lemma=prev.lemma + _lemma(node, surface),
                pos=prev.pos,
                reading=prev.reading + _reading(node, surface),
            )
            continue
        words.append(
            Word(
                text=text[o_start:o_end],
                start=o_start,
                end=o_end,
                norm=surface,
                lemma=_lemma(node, surface),
                pos=node.feature.pos1 or "",
                reading=_reading(node, surface),
            )
        )
    return words


def reading(text: str) -> str:
    """How the text sounds, in katakana, punctuation left out: one string whatever the script."""
    return "".join(w.reading for w in tokenize(text))


@lru_cache(maxsize=4096)
def lemmas(text: str) -> tuple[str, ...]:
    """Lower-cased dictionary forms, for retrieval and keyword checks."""
    return tuple(w.lemma.lower() for w in tokenize(text))
