"""A message between a notice answer and a request: the notice answers, the request is offered.

「DMは止められますか」 is a question about §5 and a wish to stop; the NLU put notice_5 first
(0.456) and request_marketing_optout second (0.17). Every request type has notice neighbours:
§4 / 4.1 / 4.2 for ①–⑤, §3 for ⑤, §5 for marketing, §7 for a complaint.
"""

from __future__ import annotations

import pytest

from madoguchi.infra.settings import load_settings
from madoguchi.notice import load_notice
from madoguchi.notice.choice import Split
from madoguchi.requests.neighbours import load_neighbours, neighbour_intents
from madoguchi.requests.types import REQUEST_TYPE_IDS, load_types

DEFAULTS = load_settings({})


@pytest.fixture(scope="module")
def split() -> Split:
    return Split(neighbour_intents(), DEFAULTS.split_margin, DEFAULTS.split_floor)


DM_RANKING = [("notice_5", 0.456), ("request_marketing_optout", 0.17), ("cancel", 0.098)]


def test_the_dm_question_answers_section_5_and_offers_the_opt_out(split: Split) -> None:
    assert split.request_beside("5", DM_RANKING) == "request_marketing_optout"


def test_a_request_far_below_the_answer_is_not_offered(split: Split) -> None:
    ranking = [("notice_5", 0.863), ("request_marketing_optout", 0.085)]
    assert split.request_beside("5", ranking) is None


def test_the_customers_words_offer_the_request_whatever_the_nlu_says(split: Split) -> None:
    ranking = [("notice_5", 0.863), ("request_marketing_optout", 0.085)]
    assert split.request_beside("5", ranking, ["request_marketing_optout"]) == (
        "request_marketing_optout"
    )


def test_a_request_that_does_not_neighbour_the_section_is_not_offered(split: Split) -> None:
    ranking = [("notice_6", 0.45), ("request_marketing_optout", 0.4)]
    assert split.request_beside("6", ranking) is None
    assert split.request_beside("6", ranking, ["request_marketing_optout"]) is None


def test_below_the_floor_nothing_is_offered() -> None:
    strict = Split(neighbour_intents(), margin=1.0, floor=0.2)
    assert strict.request_beside("5", [("notice_5", 0.3), ("request_marketing_optout", 0.15)]) \
        is None


def test_the_fallback_does_not_count_as_the_best_reading(split: Split) -> None:
    ranking = [("nlu_fallback", 0.3), ("notice_5", 0.25), ("request_marketing_optout", 0.2)]
    assert split.request_beside("5", ranking) == "request_marketing_optout"


def test_from_the_request_side_the_close_neighbouring_section_is_found(split: Split) -> None:
    ranking = [("request_disclosure", 0.421), ("notice_4_1", 0.299), ("notice_4_2", 0.174)]
    assert split.section_beside("request_disclosure", ranking, load_notice()) == "4.1"
    far = [("request_disclosure", 0.9), ("notice_4_1", 0.05)]
    assert split.section_beside("request_disclosure", far, load_notice()) is None
    unrelated = [("request_disclosure", 0.5), ("notice_6", 0.4)]
    assert split.section_beside("request_disclosure", unrelated, load_notice()) is None


@pytest.mark.parametrize(
    ("type_id", "sections"),
    [
        ("purpose_notice", {"4", "4.1", "4.2"}),
        ("disclosure", {"4", "4.1", "4.2"}),
        ("correction", {"4", "4.1", "4.2"}),
        ("suspension", {"4", "4.1", "4.2"}),
        ("third_party_stop", {"3", "4", "4.1", "4.2"}),
        ("marketing_optout", {"5"}),
        ("complaint", {"7"}),
    ],
)
def test_every_request_type_has_its_notice_neighbours(
    split: Split, type_id: str, sections: set[str]
) -> None:
    assert set(load_neighbours()[type_id]) == sections
    intent = load_types()[type_id].intent
    for section_id in sections:
        ranking = [(load_notice().get(section_id).intent, 0.4), (intent, 0.3)]
        assert split.request_beside(section_id, ranking) == intent


def test_the_neighbours_cover_every_request_type_with_sections_of_the_notice() -> None:
    neighbours = load_neighbours()
    assert set(neighbours) == set(REQUEST_TYPE_IDS)
    ids = {s.id for s in load_notice().sections}
    assert all(set(sections) <= ids for sections in neighbours.values())


def test_the_margins_are_settings() -> None:
    custom = load_settings({"MADOGUCHI_SPLIT_MARGIN": "0.1", "MADOGUCHI_SPLIT_FLOOR": "0.05"})
    assert (custom.split_margin, custom.split_floor) == (0.1, 0.05)
    assert (DEFAULTS.split_margin, DEFAULTS.split_floor) == (0.3, 0.1)
