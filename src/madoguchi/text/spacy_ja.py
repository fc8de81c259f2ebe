"""spaCy's blank Japanese pipeline on madoguchi's own fugashi segmentation.

`spacy.blank("ja")` normally tokenizes with SudachiPy. We register a tokenizer that builds the
Doc from `madoguchi.text.tokenize.tokenize` instead, so that spaCy `Matcher` / `EntityRuler`
patterns (PII) see exactly the words the NLU sees, and no Sudachi dictionary is needed.

The Doc keeps the customer's text byte for byte (`doc.text == text`): a single " " between two
words becomes the first word's trailing-space flag, any other gap (line breaks, U+3000, several
spaces, a zero-width or control character) becomes a token of its own tagged 空白, as spaCy's
JapaneseTokenizer does. `token.norm_` holds the normalised form (full-width digits and IME dashes
already folded, so patterns can match on NORM), `token.lemma_` the dictionary form.

A pipeline saved with `nlp.to_disk` can only be loaded where this module has been imported,
because the config names the registered function.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import srsly
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import DummyTokenizer, registry
from spacy.vocab import Vocab

from madoguchi.text.normalize import normalize_text
from madoguchi.text.tokenize import tokenize

TOKENIZER_NAME = "madoguchi.JapaneseTokenizer"

# The tag spaCy's JapaneseTokenizer gives to runs of white space; MeCab uses the same name.
GAP_TAG = "空白"

# UniDic's first part-of-speech level → Universal POS (the coarse part of spaCy's TAG_MAP).
_UPOS = {
    "名詞": "NOUN",
    "代名詞": "PRON",
    "形状詞": "ADJ",
    "連体詞": "DET",
    "副詞": "ADV",
    "接続詞": "CCONJ",
    "感動詞": "INTJ",
    "動詞": "VERB",
    "形容詞": "ADJ",
    "助動詞": "AUX",
    "助詞": "ADP",
    "接頭辞": "NOUN",
    "接尾辞": "NOUN",
    "記号": "SYM",
    "補助記号": "PUNCT",
    GAP_TAG: "SPACE",
}

_LINE_BREAK_CHARS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")


def _upos(tag: str, norm: str) -> str:
    if tag == "名詞" and norm.isascii() and norm.isdigit():
        return "NUM"
    return _UPOS.get(tag, "X")


def _gap_norm(gap: str) -> str:
    # A line break stays a line break so that patterns never join numbers across lines; other
    # white space folds to one " " (U+3000 typed with the IME is a plain space to us).
    if any(ch in _LINE_BREAK_CHARS for ch in gap):
        return "\n"
    if gap.isspace():
        return " "
    return normalize_text(gap) or gap


class FugashiTokenizer(DummyTokenizer):
    """Callable `text -> Doc` for spaCy; stateless apart from the shared vocab."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling (nlp.pipe with n_process > 1, copies) rebuilds the tokenizer from the vocab.
        return FugashiTokenizer, (self.vocab,)

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        tags: list[str] = []
        upos: list[str] = []
        lemmas: list[str] = []
        norms: list[str] = []

        def add_gap(gap: str) -> None:
            if gap == " " and words and not spaces[-1]:
                spaces[-1] = True
                return
            words.append(gap)
            spaces.append(False)
            tags.append(GAP_TAG)
            upos.append("SPACE" if gap.isspace() else "X")  # X: a zero-width or control char
            lemmas.append(gap)
            norms.append(_gap_norm(gap))

        pos = 0
        for word in tokenize(text):
            if word.start > pos:
                add_gap(text[pos : word.start])
            words.append(word.text)
            spaces.append(False)
            tags.append(word.pos or "")
            upos.append(_upos(word.pos, word.norm))
            lemmas.append(word.lemma)
            norms.append(word.norm)
            pos = word.end
        if pos < len(text):
            add_gap(text[pos:])

        doc = Doc(
            self.vocab,
            words=words,
            spaces=spaces,
            tags=tags,
            pos=upos,
            lemmas=lemmas,
        )
        for token, norm in zip(doc, norms, strict=True):
            if norm != token.norm_:
                token.norm_ = norm
        return doc

    # Nothing to save: the segmentation lives in fugashi and unidic-lite, not in the pipeline.
    # Like spaCy's JapaneseTokenizer we still write an (empty) config so the layout is standard.
    def to_bytes(self, **kwargs: Any) -> bytes:
        return util.to_bytes({"cfg": lambda: srsly.json_dumps({})}, [])

    def from_bytes(self, data: bytes, **kwargs: Any) -> FugashiTokenizer:
        util.from_bytes(data, {"cfg": lambda b: None}, [])
        return self

    def to_disk(self, path: str | Path, **kwargs: Any) -> None:
        path = util.ensure_path(path)
        util.to_disk(path, {"cfg": lambda p: srsly.write_json(p, {})}, [])

    def from_disk(self, path: str | Path, **kwargs: Any) -> FugashiTokenizer:
        return self


@registry.tokenizers(TOKENIZER_NAME)
def create_tokenizer(split_mode: str | None = None) -> Callable[[Language], FugashiTokenizer]:
    """Registered factory; `split_mode` is accepted (and ignored) for config compatibility
    with spaCy's default Japanese tokenizer block."""

    def fugashi_tokenizer_factory(nlp: Language) -> FugashiTokenizer:
        return FugashiTokenizer(nlp.vocab)

    return fugashi_tokenizer_factory


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cached_nlp() -> Language:
    return spacy.blank("ja", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})


def make_nlp() -> Language:
    """The shared blank Japanese pipeline (built once; building loads spaCy's language data)."""
    with _lock:
        return _cached_nlp()
