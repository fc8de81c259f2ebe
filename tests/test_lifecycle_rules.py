"""The law's steps as data (data/requests/lifecycle.yml): what the file must say, and what it
may not (a fee for ③–⑤, a grant that needs approval, a request type without grounds)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import yaml

from madoguchi.tickets.lifecycle import LifecycleDataError, data_file, load_rules, parse_rules


def raw() -> dict:
    return yaml.safe_load(data_file().read_text(encoding="utf-8"))


def test_every_decided_request_type_has_its_grounds_and_every_outcome_a_letter():
    rules = load_rules()
    assert rules.decision_types == (
        "purpose_notice", "disclosure", "correction", "suspension", "third_party_stop")
    for type_id in rules.decision_types:
        assert rules.grounds[type_id], type_id
        for ground in rules.grounds[type_id].values():
            assert "法第" in ground.label and ground.customer.endswith("ため"), ground
    assert set(rules.letters) >= {"granted", "partly_granted", "refused"}
    for outcome in ("granted", "partly_granted", "refused"):
        letter = rules.letter(outcome, {"customer_name": "山田 太郎", "reference": "PRV-1"})
        assert letter.startswith("山田 太郎 様") and "ございましたら" in letter


def test_fees_only_for_purpose_notice_and_disclosure_and_no_amount_made_up():
    rules = load_rules()
    assert rules.fee_allowed(["disclosure"]) and rules.fee_allowed(["purpose_notice"])
    assert not rules.fee_allowed(["correction", "suspension", "third_party_stop"])
    assert rules.fee_default(["disclosure"]) is None  # the notice names no amount


def test_art_39_horizon_is_two_weeks_and_not_for_purpose_notice():
    rules = load_rules()
    received = datetime(2026, 12, 4, 14, 59, tzinfo=timezone.utc)  # 23:59 JST on the 4th
    assert rules.horizon(received) == date(2026, 12, 18)
    assert not rules.has_horizon(["purpose_notice"]) and rules.has_horizon(["correction"])


def test_agents_and_identity_methods_as_the_notice_and_the_cabinet_order_name_them():
    rules = load_rules()
    assert {a.basis for a in rules.agent_kinds.values()} == {"statutory", "mandate"}
    assert any("委任状" in d for d in rules.agent_kinds["mandate"].documents)
    assert "4 (2)" in rules.identity_methods["postal_documents"].label
    assert {m.electronic for m in rules.delivery_methods.values()} == {True, False}
    assert set(rules.disclosure_kinds) == {"held_data", "provision_records"}


@pytest.mark.parametrize(("path", "value", "message"), [
    (("fees", "correction"), {"amount_yen": 500}, "Art. 38"),
    (("fees", "disclosure"), {"amount_yen": -1}, "amount_yen"),
    (("outcomes", "granted"), {"label": "x", "needs_approval": True}, "grant"),
    (("grounds", "suspension"), {}, "grounds"),
    (("legal_horizon", "days"), 0, "legal_horizon"),
])
def test_data_that_breaks_the_law_is_refused(path, value, message):
    data = raw()
    data[path[0]][path[1]] = value
    with pytest.raises(LifecycleDataError, match=message):
        parse_rules(data)


def test_data_to_be_deleted_within_six_months_is_covered_by_disclosure_in_one_text():
    """Issue 16 item 3: since April 2022 data deleted within six months is held personal data
    too. lifecycle.yml says it once for the desk and the chat; the chat says it when the
    customer's words ask about data that is about to be deleted, and only then."""
    from madoguchi.requests.life import coverage_note, disclosure_coverage

    coverage = disclosure_coverage()
    assert "6か月以内に消去" in coverage["desk"] and "2022年4月" in coverage["desk"]
    assert "6か月以内に消去するもの" in coverage["customer"]
    assert coverage["customer"].endswith("。") and "ます" in coverage["customer"]
    for text in ("もうすぐ消去予定のデータも開示してもらえますか",
                 "６ヶ月以内に削除されるデータも開示請求できますか",
                 "保存期間が終わる前に開示してほしい"):
        assert coverage_note(text) == coverage["customer"], text
    for text in ("開示してください", "登録情報を消去してください", "消去の手続きを教えて"):
        assert coverage_note(text) is None, text


def test_a_notice_answer_about_disclosing_data_soon_deleted_adds_the_coverage():
    """The notice's §4 answers the question; the coverage is said after it only when the
    question names the disclosure, was answered from its procedure, and asks about such data."""
    from madoguchi.requests.life import coverage_for_answer, disclosure_coverage

    said = disclosure_coverage()["customer"]
    question = "半年以内に消えるデータも開示請求の対象になりますか"
    assert coverage_for_answer(question, "4.1") == said
    assert coverage_for_answer(question, "2.1") is None  # not the procedure's section
    assert coverage_for_answer("半年以内に消えるデータも消去の対象になりますか", "4.1") is None
    assert coverage_for_answer("開示請求の手続きを教えてください", "4.2") is None
