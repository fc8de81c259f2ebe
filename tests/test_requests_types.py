"""data/requests/types.yml and cues.yml: complete, consistent, truthful to the notice."""

from __future__ import annotations

import copy

import pytest

from madoguchi.requests import types as rt
from madoguchi.requests.classify import PhraseMatcher, load_cues, phrase_lemmas
from madoguchi.requests.fields import VALIDATORS
from madoguchi.requests.types import (
    REQUEST_TYPE_IDS,
    SLOT_NAMES,
    RequestDataError,
    data_dir,
    get_type,
    load_catalogue,
    parse_catalogue,
    read_yaml,
    slots_for,
    type_for_intent,
)

FORM_TYPES = ["purpose_notice", "disclosure", "correction", "suspension", "third_party_stop"]
CONTRACT_INTENTS = {
    "purpose_notice": "request_purpose_notice",
    "disclosure": "request_disclosure",
    "correction": "request_correction",
    "suspension": "request_suspension",
    "third_party_stop": "request_third_party_stop",
    "marketing_optout": "request_marketing_optout",
    "complaint": "complaint",
}


def test_types_yml_holds_exactly_the_seven_contract_types_with_their_intents():
    types = load_catalogue().types
    assert list(types) == list(REQUEST_TYPE_IDS)
    assert {t.id: t.intent for t in types.values()} == CONTRACT_INTENTS


@pytest.mark.parametrize("type_id", REQUEST_TYPE_IDS)
def test_every_type_has_label_plain_words_slots_sections_and_next_steps(type_id):
    rtype = get_type(type_id)
    assert rtype.label and rtype.plain and rtype.next_steps
    assert rtype.slots and rtype.notice_sections
    assert set(rtype.slot_names) <= set(SLOT_NAMES)
    assert "customer_name" in rtype.slot_names and "phone" in rtype.slot_names
    assert "{" not in rtype.next_steps  # plain text, no unfilled template


def test_every_slot_a_type_uses_has_a_validator_and_every_validator_a_known_slot():
    used = {name for t in load_catalogue().types.values() for name in t.slot_names}
    assert used <= set(VALIDATORS)
    assert set(VALIDATORS) == set(SLOT_NAMES)


@pytest.mark.parametrize("type_id", FORM_TYPES)
def test_requests_under_section_4_cite_4_1_and_4_2_and_need_the_form_by_post(type_id):
    rtype = get_type(type_id)
    assert rtype.notice_sections == ("4.1", "4.2")
    assert rtype.needs_form_by_post is True
    assert rtype.priority == "normal"


@pytest.mark.parametrize("type_id", FORM_TYPES)
def test_next_steps_of_section_4_requests_tell_the_procedure_of_4_2_truthfully(type_id):
    text = get_type(type_id).next_steps
    for words in (
        "ご連絡",
        "請求用紙",
        "郵送",
        "運転免許証又は保険証等のコピー",
        "別途手数料が必要となる場合",
        "代理人",
        "問い合わせ窓口",
    ):
        assert words in text, words


def test_marketing_optout_cites_section_5_needs_no_form_and_stops_promptly():
    rtype = get_type("marketing_optout")
    assert rtype.notice_sections == ("5",)
    assert rtype.needs_form_by_post is False
    assert "速やかに" in rtype.next_steps
    assert "手数料" not in rtype.next_steps


def test_complaint_cites_section_7_is_high_priority_and_a_person_calls_back():
    rtype = get_type("complaint")
    assert rtype.notice_sections == ("7",)
    assert rtype.priority == "high"
    assert rtype.needs_form_by_post is False
    assert "担当者" in rtype.next_steps and "ご連絡" in rtype.next_steps
    assert rtype.slot_names[0] == "complaint_details"


def test_slots_follow_the_suggested_order_per_type():
    base = [
        "customer_name",
        "phone",
        "postal_address",
        "member_number",
        "preferred_time",
        "is_agent",
    ]
    assert list(get_type("purpose_notice").slot_names) == base
    assert list(get_type("disclosure").slot_names) == base
    assert list(get_type("correction").slot_names) == ["correction_item", "correction_value", *base]
    assert list(get_type("suspension").slot_names) == [
        "suspension_scope",
        "cancel_membership",
        *base,
    ]
    assert list(get_type("third_party_stop").slot_names) == ["third_party_recipients", *base]
    assert get_type("complaint").slot_names == (
        "complaint_details",
        "customer_name",
        "phone",
        "preferred_time",
    )


def test_member_number_is_optional_wherever_it_is_asked():
    for rtype in load_catalogue().types.values():
        for spec in rtype.slots:
            assert spec.optional == (spec.name == "member_number")


def test_marketing_asks_email_only_when_email_is_to_stop_and_address_only_for_post():
    rtype = get_type("marketing_optout")
    assert rtype.slots_to_ask({"marketing_channels": ["phone"]}) == [
        "marketing_channels",
        "customer_name",
        "phone",
        "member_number",
        "preferred_time",
    ]
    assert "email" in rtype.slots_to_ask({"marketing_channels": ["email", "phone"]})
    assert "postal_address" not in rtype.slots_to_ask({"marketing_channels": ["email"]})
    assert "postal_address" in rtype.slots_to_ask({"marketing_channels": ["catalogue"]})
    assert "email" not in rtype.slots_to_ask({})


def test_a_double_request_asks_what_each_needs_first_and_contact_details_once():
    slots = slots_for(["marketing_optout", "suspension"], {"marketing_channels": ["email"]})
    assert slots == [
        "marketing_channels",
        "suspension_scope",
        "cancel_membership",
        "customer_name",
        "phone",
        "email",
        "member_number",
        "preferred_time",
        "postal_address",
        "is_agent",
    ]
    assert len(slots) == len(set(slots))


def test_intents_map_to_types_and_other_intents_to_none():
    assert type_for_intent("request_correction") == "correction"
    assert type_for_intent("complaint") == "complaint"
    assert type_for_intent("human_handoff") is None
    assert type_for_intent(None) is None


def test_priority_of_a_ticket_with_a_complaint_is_high():
    assert rt.priority_of(["disclosure"]) == "normal"
    assert rt.priority_of(["marketing_optout", "complaint"]) == "high"


def test_summary_texts_name_every_slot_and_channel():
    catalogue = load_catalogue()
    assert set(SLOT_NAMES) | {"request_types"} <= set(catalogue.summary_labels)
    assert set(catalogue.channel_labels) == set(load_cues().all_channels)
    for key in (
        "answer_yes",
        "answer_no",
        "cancel_yes",
        "cancel_no",
        "none",
        "scope_all",
        "scope_specific",
    ):
        assert catalogue.summary_values.get(key), key


def test_a_slot_nobody_validates_is_refused_when_loading():
    raw = copy.deepcopy(read_yaml(data_dir() / rt.TYPES_FILE))
    raw["types"]["disclosure"]["slots"].append("shoe_size")
    with pytest.raises(RequestDataError, match="shoe_size"):
        parse_catalogue(raw)


def test_a_missing_type_or_next_steps_is_refused_when_loading():
    raw = copy.deepcopy(read_yaml(data_dir() / rt.TYPES_FILE))
    del raw["types"]["complaint"]
    with pytest.raises(RequestDataError):
        parse_catalogue(raw)
    raw = copy.deepcopy(read_yaml(data_dir() / rt.TYPES_FILE))
    raw["types"]["disclosure"]["next_steps"] = " "
    with pytest.raises(RequestDataError, match="next_steps"):
        parse_catalogue(raw)


@pytest.mark.parametrize("name", [rt.TYPES_FILE, rt.CUES_FILE])
def test_request_data_files_are_not_mistaken_for_rasa_training_data(name):
    doc = read_yaml(data_dir() / name)
    assert not {"nlu", "stories", "rules", "responses", "intents"} & set(doc)


def test_every_cue_word_segments_into_lemmas():
    doc = read_yaml(data_dir() / rt.CUES_FILE)

    def words(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, list):
            for item in node:
                yield from words(item)
        elif isinstance(node, dict):
            for value in node.values():
                yield from words(value)

    for section in ("delete", "stop", "request_words", "channels", "recipients", "answers"):
        for word in words(doc[section]):
            if word in REQUEST_TYPE_IDS:
                continue
            assert phrase_lemmas(word), word


def test_a_cue_listed_under_two_labels_is_refused():
    with pytest.raises(RequestDataError, match="both"):
        PhraseMatcher({"a": ["メール"], "b": ["メール"]})
