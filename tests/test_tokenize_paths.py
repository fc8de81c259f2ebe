"""Specification: MeCab's one-line-per-word output gives exactly the words of fugashi's nodes.

tokenize() reads MeCab's text output (one call, four fields a line) because a message of the
channel's maximum length has thousands of words; fugashi's node objects are the straightforward
path, and every word must come out the same either way: customers' real wording, the training
data, and arbitrary text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.text.tokenize import Word, segments, tokenize

ROOT = Path(__file__).resolve().parents[1]


def _messages() -> list[str]:
    texts = [row["text"] for row in yaml.safe_load(
        (ROOT / "eval/realworld/dev.yml").read_text(encoding="utf-8"))]
    for path in sorted((ROOT / "eval").glob("nlu_heldout_*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            texts += [line.strip()[2:] for line in str(block.get("examples", "")).splitlines()
                      if line.strip().startswith("- ")]
    return texts


MESSAGES = _messages()
EDGE_CASES = [
    "", "   ", "\u3000\n\t", "㍿の½杯", "ﾃﾞｰﾀを０９０ー１２３４ー５６７８へ",
    "👨\u200d👩\u200d👧家族👍🏽",
    "制御\x00\u200b\ufeff\ud800文字", "a,b\"c'd*e\\f", "か\u3099き\u309b\u30ff", "末尾の空白\u1680",
    "1行目\r\n2行目\u2028\u2029\x853行目", "*", "EOS", "\t*\t*\t",
]


def test_every_real_and_held_out_message_segments_the_same_both_ways():
    assert MESSAGES
    different = [t for t in MESSAGES if segments(t) != segments(t, nodes=True)]
    assert different == []


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_segment_the_same_both_ways(text):
    assert segments(text) == segments(text, nodes=True)


def test_a_message_of_the_channels_maximum_length_segments_the_same_both_ways():
    text = "".join(MESSAGES)[:5000]
    assert segments(text) == segments(text, nodes=True)
    assert tokenize(text) == [Word(*row) for row in segments(text, nodes=True)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_text_segments_the_same_both_ways(text):
    assert segments(text) == segments(text, nodes=True)


JAPANESE_LOOKING = "あいアイｱｲﾞﾟ漢字ー－-〜~１2aＡ 　\n。、！？「」（）㍿½😀\u200d,\"*\t"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=JAPANESE_LOOKING, max_size=60))
def test_japanese_looking_text_segments_the_same_both_ways(text):
    assert segments(text) == segments(text, nodes=True)
