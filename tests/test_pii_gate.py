"""One gate for the numbers that must never be stored, and one home for the shared vocabulary.

The PII package (madoguchi.text.pii) holds the only card and individual-number checks; the form
(requests/fields.py) and the ticket's words (requests/prefill.py) go through it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from madoguchi.requests import fields
from madoguchi.requests.prefill import mask_words
from madoguchi.text import normalize
from madoguchi.text.pii import (
    CREDIT_CARD,
    MY_NUMBER,
    contains_forbidden,
    mask,
    mask_forbidden,
)
from madoguchi.text.pii.gate import Finder, Gate
from madoguchi.text.pii.vocabulary import DASH_NORMS, DASHES, PREFECTURES

ROOT = Path(__file__).resolve().parents[1]
CARD = "4111 1111 1111 1111"
MY_NO = "123456789018"
TEXTS = [
    "",
    "はい",
    f"カードは{CARD}です",
    f"番号 {MY_NO[:4]}-{MY_NO[4:8]}-{MY_NO[8:]}、電話090-1234-5678",
    "注文番号4111111111111111の件",
    "4111 1111 1111 1112",
    "123456789012",
    f"4111111111111111@example.com と {MY_NO}",
]


def sources() -> list[Path]:
    return [p for folder in ("src", "actions") for p in (ROOT / folder).rglob("*.py")]


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def holding(word: str) -> set[Path]:
    return {p.relative_to(ROOT) for p in sources() if any(word in s for s in string_constants(p))}


def test_the_prefecture_list_is_written_once():
    assert holding("神奈川") == {Path("src/madoguchi/text/pii/vocabulary.py")}
    assert len(PREFECTURES) == 47 and "神奈川" in PREFECTURES


def test_the_dash_set_is_written_once_where_the_normaliser_folds_it():
    # normalize.py is part of the NLU model's hash: the set lives there and is read from there.
    assert holding("‒") == {Path("src/madoguchi/text/normalize.py")}
    assert DASHES == frozenset(normalize._DASHES)
    assert DASH_NORMS == {"-", "ー", "‐", "‑", "‒", "–", "—", "―", "−"}


@pytest.mark.parametrize("text", TEXTS)
def test_the_form_checks_forbidden_numbers_with_the_gate(text):
    assert fields.contains_forbidden(text) == contains_forbidden(text)
    assert fields.scrub_forbidden(text) == mask_forbidden(text)[0]


def test_the_form_defines_no_check_digit_of_its_own():
    tree = ast.parse((ROOT / "src/madoguchi/requests/fields.py").read_text(encoding="utf-8"))
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert not {n for n in names if "luhn" in n or "my_number" in n}


def test_without_the_finder_the_gate_still_refuses_and_masks_by_check_digits():
    gate = Gate(None)
    assert gate.contains(f"カード{CARD}と{MY_NO}") == {CREDIT_CARD, MY_NUMBER}
    masked, kinds = gate.mask(f"カード{CARD}です")
    assert kinds == {CREDIT_CARD} and "1111" not in masked
    assert gate.contains("090-1234-5678") == set()


def test_a_failing_finder_falls_back_to_the_check_digits():
    def broken(text: str):
        raise RuntimeError("spaCy is gone")

    gate = Gate(Finder(kinds=broken, relabel=broken))
    assert gate.contains(f"カード{CARD}") == {CREDIT_CARD}
    assert "1111" not in gate.mask(f"カード{CARD}")[0]


@pytest.mark.parametrize("text", [*TEXTS, "電話は090-1234-5678、taro@example.com です"])
def test_the_customers_words_are_masked_once_by_label(text):
    # The ticket store's text filter is the forbidden-number gate at the boundary; the words
    # themselves get the one label masking, which hides those numbers too.
    assert mask_words(text) == mask(text, style="label")
    assert not contains_forbidden(mask_words(text))


def test_a_ticket_reference_is_ours_not_an_individual_number():
    """Its 12 digits can pass the individual number's check digit (2026 1204 9876 does); masked,
    the customer could not ask where their request stands."""
    from madoguchi.text.pii import contains_forbidden, mask_forbidden

    typings = (
        "PRV-20261204-9876 の状況を教えて",
        "ＰＲＶ－２０２６１２０４－９８７６",
        "prv 20261204 9876",
    )
    for typed in typings:
        assert contains_forbidden(typed) == set()
        assert mask_forbidden(typed)[0] == typed
    assert contains_forbidden("私のマイナンバーは 2026 1204 9876 です") == {"MY_NUMBER"}
    assert mask_forbidden("PRV-20261204-9876 と 2026 1204 9876")[0] == (
        "PRV-20261204-9876 と ［個人番号］")


def test_a_reference_then_a_phone_number_is_not_a_number_split_over_two_messages():
    """The status check asks for the reference, then the phone number: together their digits
    can pass a check digit, but the first message's digits end a reference."""
    from madoguchi.text.pii.loose import split_forbidden

    assert split_forbidden("PRV-20261205-0086", "080-2468-1357") is None
    assert split_forbidden("カード番号は 4111 1111", "1111 1111 です") is not None
