"""A wish said with a negation (「送らないでほしい」) is a request, and one message may hold two.

The issue's sentence: the address correction and the catalogue stop are both taken (one ticket
with both types), where the catalogue stop used to be dropped without a word.
"""

from __future__ import annotations

import pytest

from madoguchi.requests.classify import REASON_MULTIPLE, REASON_NO_CUE, classify

TWO_WISHES = "登録した住所を直したいのと、もうカタログは送らないでほしいです"


def test_the_address_correction_and_the_catalogue_stop_are_both_taken() -> None:
    # The NLU put the catalogue stop first; the words decide both, in the order written.
    ranking = [("request_marketing_optout", 0.807), ("request_correction", 0.171)]
    decision = classify(TWO_WISHES, ranking)
    assert decision.types == ["correction", "marketing_optout"]
    assert decision.ambiguous == []
    assert decision.reason == REASON_MULTIPLE


def test_the_words_alone_take_both_wishes_too() -> None:
    assert classify(TWO_WISHES, []).types == ["correction", "marketing_optout"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("もうメールを送らないようにお願いします", "marketing_optout"),
        ("もう電話してこないで", "marketing_optout"),
        ("頼んでもないカタログ毎月来るんだけど、どうしたら来なくなるの？", "marketing_optout"),
        ("私の情報を他社に渡さないで", "third_party_stop"),
        ("外部の業者に俺の情報流さないでほしい", "third_party_stop"),
        ("私のデータを使わないでください", "suspension"),
    ],
)
def test_a_negated_sending_or_using_verb_is_a_stop_read_by_its_object(
    text: str, expected: str
) -> None:
    assert classify(text, []).types == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "メール届かないんだけど",  # a fact, not a wish: no で/よう/する/なる after the negation
        "カタログがまだ届いていない",
    ],
)
def test_a_negation_without_a_wish_is_not_a_request(text: str) -> None:
    decision = classify(text, [])
    assert decision.types == [] and decision.reason == REASON_NO_CUE

