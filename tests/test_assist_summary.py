"""The ticket summary: who, what, the facts given and how the customer sounds; no contact data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from madoguchi.assist.summary import (
    NAME_LABEL,
    SummaryDataError,
    find_cues,
    load_cues,
    parse_cues,
    summarize,
)
from madoguchi.infra.webhook import handoff_payload

ROOT = Path(__file__).resolve().parents[1]


def kinds(turns: list[str]) -> set[str]:
    return {c.kind for c in find_cues(turns)}


@pytest.mark.parametrize(
    "message",
    ["ふざけるな、何度言えばわかるんだ", "もう許せない。消費者センターに訴えます",
     "何度も同じことを言わせないでください！！", "勝手に情報を使われて本当に不愉快です"],
)
def test_an_angry_message_gets_the_angry_cue(message: str) -> None:
    summary = summarize([message])
    assert "angry" in kinds([message])
    assert "お怒り" in summary.headline and "お怒り" in summary.as_text()


@pytest.mark.parametrize("message", ["至急対応してください", "今日中に返事をください",
                                     "急いでいるので早くお願いします", "すぐ止めて"])
def test_a_hurried_message_gets_the_hurry_cue(message: str) -> None:
    assert "hurry" in kinds([message])


@pytest.mark.parametrize(
    "message",
    ["開示の手続きを教えてください", "急ぎませんので、ご都合のよいときにご連絡ください",
     "別に怒っていませんが、確認したいです"],
)
def test_calm_messages_get_no_cue(message: str) -> None:
    assert find_cues([message]) == []


def test_a_card_number_never_appears_in_the_summary() -> None:
    card = "4111 1111 1111 1111"
    summary = summarize([f"カード番号は{card}です。開示してください。至急！"],
                        {"request_types": ["disclosure"]})
    text = summary.as_text() + json.dumps(summary.as_dict(), ensure_ascii=False)
    assert "4111" not in text and "1111" not in text
    assert "カード番号" in text  # the operator is told one was sent, not what it was


def test_contact_data_is_named_never_shown() -> None:
    ticket = {"request_types": ["correction"], "customer_name": "山田花子",
              "customer_phone": "090-1234-5678", "customer_email": "hanako@example.com"}
    turns = ["山田花子です。引っ越したので住所を変えたいです",
             "新しい住所は東京都江東区東陽7-2-18です。電話は090-1234-5678、"
             "メールはhanako@example.comです"]
    summary = summarize(turns, ticket)
    text = summary.as_text()
    for secret in ("山田", "花子", "090", "5678", "hanako", "江東区", "東陽"):
        assert secret not in text, secret
    assert summary.headline.startswith(NAME_LABEL)
    assert "電話番号" in text and "メールアドレス" in text and "住所" in text
    assert "訂正したい項目: 住所" in text
    assert "［訂正後の内容］" in text


def test_who_and_which_requests_come_from_the_ticket_or_the_words() -> None:
    summary = summarize(["母の代わりに連絡しています。母の個人情報を開示してほしいです"])
    assert summary.is_agent and summary.request_types == ["disclosure"]
    assert "代理人・母" in summary.headline and "開示" in summary.headline
    both = summarize(["メールを止めて"], {"request_types": ["marketing_optout", "correction"]})
    assert "ご案内の停止" in both.headline and "訂正" in both.headline
    flagged = summarize(["よろしくお願いします"], {"request_types": ["suspension"],
                                                   "is_agent": True})
    assert flagged.is_agent and "代理人" in flagged.headline


def test_what_exactly_is_asked_is_among_the_facts() -> None:
    dm = summarize(["カタログとメールを止めてください。電話の案内は構いません"],
                   {"request_types": ["marketing_optout"]})
    assert any("カタログ" in f and "電子メール" in f and "電話" not in f for f in dm.facts)
    tp = summarize(["GoogleとLINEに情報を渡さないで"], {"request_types": ["third_party_stop"]})
    assert any("Google" in f and "LINE" in f for f in tp.facts)
    erase = summarize(["退会して、個人情報を全部消してください"], {"request_types": ["suspension"]})
    assert "範囲: 保有しているすべての個人データ" in erase.facts
    assert "WEB会員の退会: 希望する" in erase.facts
    keep = summarize(["購入履歴だけ消してください。退会はしません"],
                     {"request_types": ["suspension"]})
    assert "WEB会員の退会: 希望しない" in keep.facts
    assert any("購入履歴" in f for f in keep.facts)
    complaint = summarize(["注文番号 A1234567 の件で、10月3日に他人の納品書が届きました"],
                          {"request_types": ["complaint"]})
    assert any("10月3日" in f for f in complaint.facts)
    assert any("A1234567" in f for f in complaint.facts)
    assert any(f.startswith("お申し出の内容") for f in complaint.facts)


def test_as_text_is_a_few_lines_headed_by_the_headline() -> None:
    summary = summarize(["至急！GoogleとLINEへの提供を止めて"],
                        {"request_types": ["third_party_stop"]})
    lines = summary.as_text().splitlines()
    assert lines[0] == summary.headline and "\n" not in summary.headline
    assert 2 <= len(lines) <= 8


def test_the_summary_can_travel_in_the_handoff_payload_without_contact_data() -> None:
    ticket = {"reference": "PRV-20261125-0001", "request_types": ["disclosure"],
              "customer_name": "鈴木一郎", "customer_phone": "03-1234-5678"}
    payload = {**handoff_payload(ticket),
               "summary": summarize(["鈴木一郎と申します。開示をお願いします。03-1234-5678"],
                                    ticket).as_text()}
    body = json.dumps(payload, ensure_ascii=False)
    assert "鈴木" not in body and "1234" not in body


def test_no_customer_message_gives_an_empty_but_valid_summary() -> None:
    summary = summarize([])
    assert summary.headline.startswith("お客様") and summary.cues == []


def test_the_cue_lexicon_is_data_and_a_broken_file_says_what_is_wrong(tmp_path: Path) -> None:
    lexicon = load_cues(ROOT / "data" / "desk" / "summary_cues.yml")
    assert {r.kind for r in lexicon.rules} == {"angry", "hurry"}
    with pytest.raises(SummaryDataError, match="patterns"):
        parse_cues({"cues": {"angry": {"label": "x", "words": ["a"], "patterns": ["("]}}})
    with pytest.raises(SummaryDataError, match="label"):
        parse_cues({"cues": {"angry": {"words": ["a"]}}})
    custom = parse_cues({"cues": {"polite": {"label": "丁寧", "words": ["恐れ入ります"]}}})
    assert [c.kind for c in find_cues(["恐れ入りますが"], custom)] == ["polite"]
