"""Inside a form, a new wish or a complaint is recognised, to be offered (add it / continue).

Asked for their name, a customer writes 「外部の業者に俺の情報流すのやめろ」: that is ⑤ (stop the
provision to third parties), not a name.
"""

from __future__ import annotations

import yaml

from madoguchi.infra.settings import project_root
from madoguchi.requests.form import answered, new_wish
from madoguchi.requests.types import REQUEST_TYPE_IDS

SURE = 0.8
STOP_PROVISION = "外部の業者に俺の情報流すのやめろ"
NLU_READING = [("request_third_party_stop", 0.651), ("notice_2", 0.127)]


def test_the_issues_sentence_asked_for_a_name_is_a_new_wish() -> None:
    assert new_wish(STOP_PROVISION, NLU_READING, ["disclosure"], "customer_name", sure=SURE) == (
        "third_party_stop"
    )


def test_nor_is_it_taken_as_the_name() -> None:
    # The form passes the wish as an interruption: a slot that takes any words is not answered.
    assert answered(STOP_PROVISION, "customer_name", ["customer_name"], interrupting=True) == {}


def test_a_wish_already_being_taken_is_not_offered_again() -> None:
    taken = ["third_party_stop"]
    assert new_wish(STOP_PROVISION, NLU_READING, taken, "customer_name", sure=SURE) is None


def test_an_unclear_message_is_read_by_its_words() -> None:
    ranking = [("nlu_fallback", 0.3), ("request_third_party_stop", 0.25)]
    assert new_wish(STOP_PROVISION, ranking, ["disclosure"], "phone", sure=SURE) == (
        "third_party_stop"
    )


def test_a_complaint_is_offered_when_the_nlu_is_sure() -> None:
    text = "勝手に情報を売りやがって、ふざけるな"
    assert new_wish(text, [("complaint", 0.9)], ["disclosure"], "phone", sure=SURE) == "complaint"
    assert new_wish(text, [("complaint", 0.5)], ["disclosure"], "phone", sure=SURE) is None


def test_an_answer_is_not_a_wish() -> None:
    for text, slot in [("山田花子です", "customer_name"), ("平日の午前中", "preferred_time"),
                       ("090-1234-5678", "phone")]:
        ranking = [("nlu_fallback", 0.3), ("deny", 0.29)]
        assert new_wish(text, ranking, ["disclosure"], slot, sure=SURE) is None


def test_the_nlu_alone_must_be_sure() -> None:
    # A short answer the NLU happens to read as a request, with no cue in its words.
    ranking = [("request_disclosure", 0.6)]
    assert new_wish("いつでも", ranking, ["correction"], "preferred_time", sure=SURE) is None


def test_the_complaints_own_story_is_never_cut_short() -> None:
    text = "勝手に外部に情報を流されました。もうやめてほしい"
    ranking = [("complaint", 0.95)]
    assert new_wish(text, ranking, ["complaint"], "complaint_details", sure=SURE) is None


def test_buttons_are_not_wishes() -> None:
    ranking = [("request_third_party_stop", 1.0)]
    assert new_wish("/request_third_party_stop", ranking, [], "phone", sure=SURE) is None


def test_every_request_type_has_an_offer_button() -> None:
    titles = yaml.safe_load(
        (project_root() / "data" / "dialogue" / "buttons.yml").read_text("utf-8")
    )
    assert set(titles["request_offer"]) == set(REQUEST_TYPE_IDS)
    assert titles["request_offer"]["marketing_optout"] == "停止の手続きをする"
    assert titles["request_offer_decline"] == "大丈夫です"


CORRECTING = [("request_correction", 0.91), ("notice_7", 0.02)]


def test_a_phone_number_given_again_fixes_the_forms_answer_not_a_new_correction() -> None:
    """Asked for the address, 「電話番号を間違えました、080-…です」 corrects what the form was
    told (the new number replaces the first), whether the channel has concealed it or not."""
    for text in ("電話番号を間違えました、［電話番号#de6b3927］です。住所は［住所#2dd14c2f］",
                 "電話番号を間違えました、080-1111-2222です。"):
        assert new_wish(text, CORRECTING, ["disclosure"], "postal_address", sure=SURE) is None


def test_a_correction_of_registered_data_is_still_offered() -> None:
    """Without a value the form takes from any answer, a wish to correct is request ③; and a
    phone number that answers the question asked is just the answer."""
    for text, requested in (("登録されている住所が間違っているので直してください", "customer_name"),
                            ("電話番号を間違えて登録しています。080-1111-2222です", "phone")):
        assert new_wish(text, CORRECTING, ["disclosure"], requested, sure=SURE) == "correction"
