"""A customer asks what the privacy notice says and gets its words with their source.

Driven through the real Rasa server (REST channel) and action server.
"""

from __future__ import annotations

import pytest

from madoguchi.notice.loader import load_notice
from tests.e2e.conftest import Servers, buttons, new_sender, texts

NOTICE = load_notice()

# One plain question per section and sub-item, as a customer might type it.
QUESTIONS = {
    "0": "この同意事項はいつ作られたものですか",
    "1": "運営している会社の名前と代表者を知りたいです",
    "2": "集めた個人情報はどういう目的に使うんですか",
    "2.1": "注文した商品の発送や支払いの処理に個人情報を使いますか",
    "2.2": "問い合わせした内容への回答にも情報を使うのですか",
    "2.3": "消費動向の分析にデータを使っていますか",
    "2.4": "ターゲティング広告のために私のメールアドレスを広告会社に渡しているんですか",
    "2.5": "不正ログインを防ぐためにIPアドレスを外部の会社に送っていますか",
    "2.6": "キャンペーンの抽選や景品の発送にも個人情報を使いますか",
    "2.7": "連絡や通知のために個人情報を使うことはありますか",
    "2.8": "アンケート調査に個人情報を使うことはありますか",
    "2.9": "旅行代理業務でも個人情報を扱うのですか",
    "3": "どんな場合に第三者へ個人情報を提供するのですか",
    "4": "開示や訂正を希望するときはどこに連絡すればいいですか",
    "4.1": "どんな種類の請求ができるのか一覧で知りたいです",
    "4.2": "開示請求の手続きではどんな書類を郵送するんですか",
    "5": "電話やメールでの案内を止めてもらう方法はありますか",
    "6": "個人情報を守るためにどんな安全管理をしていますか",
    "6.1": "個人情報保護方針は策定していますか",
    "6.2": "個人データの取扱規程はありますか",
    "6.3": "個人情報保護管理者は置いていますか、監査はしていますか",
    "6.4": "従業員への個人情報の教育はしていますか",
    "6.5": "社員の入退室管理や機器の持ち込み制限はしていますか",
    "6.6": "不正アクセスやウイルスへの対策は何をしていますか",
    "6.7": "個人データを外国で取り扱っていますか",
    "7": "個人情報についての苦情や相談はどこで受け付けていますか",
}


def test_every_section_has_a_question_here() -> None:
    assert set(QUESTIONS) == set(NOTICE.ids)


@pytest.mark.parametrize("section_id", list(QUESTIONS))
def test_a_question_is_answered_from_its_section_with_the_citation(
    servers: Servers, section_id: str
) -> None:
    sender = new_sender()
    reply = texts(servers.say(sender, QUESTIONS[section_id]))
    section = NOTICE.get(section_id)

    assert f"出典: {section.citation}" in reply
    assert servers.slot(sender, "notice_section") == section_id
    # The body quotes the notice: at least one line of the section (or a sub-item) appears.
    body = reply.split("出典:")[0]
    source = NOTICE.subtree_text(section_id)
    assert any(chunk in source for chunk in _chunks(body)), reply


def _chunks(body: str, size: int = 12) -> list[str]:
    flat = "".join(line.strip("- ") for line in body.splitlines())
    return [flat[i : i + size] for i in range(0, max(len(flat) - size, 1), size)]


def test_a_question_the_notice_does_not_answer_gets_what_it_says_and_a_person(
    servers: Servers, sender: str
) -> None:
    messages = servers.say(sender, "開示を請求したら回答まで何日かかりますか")
    reply = texts(messages)

    assert "合理的な期間" in reply
    assert "出典:" in reply
    assert any(b["payload"] == "/human_handoff" for b in buttons(messages))
    # No invented figure: the notice states no number of days.
    assert not any(f"{n}日" in reply for n in range(1, 61))


def test_the_fee_amount_is_not_invented(servers: Servers, sender: str) -> None:
    reply = texts(servers.say(sender, "開示請求の手数料はいくらですか"))

    assert "手数料が必要となる場合" in reply
    assert "円" not in reply


def test_out_of_scope_gets_the_customer_service_numbers_from_the_notice(
    servers: Servers, sender: str
) -> None:
    reply = texts(servers.say(sender, "先週注文したバッグがまだ届かないんですけど"))

    assert "個人情報" in reply
    assert "0120-000123" in reply and "0570-000111" in reply
    assert servers.tracker(sender)["latest_message"]["intent"]["name"] == "out_of_scope"


def test_a_follow_up_about_abroad_after_a_security_answer(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "個人情報の安全管理措置について教えてください")
    reply = texts(servers.say(sender, "それって海外でも扱ってますか"))

    assert servers.slot(sender, "notice_section") == "6.7"
    assert "外国" in reply


def test_a_follow_up_for_the_phone_number_after_the_complaint_window_answer(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "個人情報の苦情はどこに言えばいいですか")
    reply = texts(servers.say(sender, "電話番号は？"))

    assert "0120-000123" in reply
    assert servers.slot(sender, "notice_section") == "7"


NONSENSE = ["ほげほげふがふが", "ｱｲｳｴｵかきくけこ123", "ぬるぽ", "😀😀😀", "zxqv wpmt"]


def _falls_back(servers: Servers, text: str) -> bool:
    return servers.parse(text)["intent"]["name"] == "nlu_fallback"


def test_nonsense_is_not_read_confidently(servers: Servers) -> None:
    assert sum(_falls_back(servers, text) for text in NONSENSE) >= 2


def test_two_stage_fallback_first_suggests_then_offers_a_person(
    servers: Servers, sender: str
) -> None:
    unclear = [text for text in NONSENSE if _falls_back(servers, text)][:2]
    assert len(unclear) == 2

    first = servers.say(sender, unclear[0])
    assert "近いもの" in texts(first) or "別の言い方" in texts(first)

    second = servers.say(sender, unclear[1])
    assert "担当者" in texts(second)
    assert any(b["payload"] == "/human_handoff" for b in buttons(second))


def test_none_of_these_leads_to_the_offer_of_a_person(servers: Servers, sender: str) -> None:
    unclear = next(text for text in NONSENSE if _falls_back(servers, text))
    first = servers.say(sender, unclear)
    none_button = [b for b in buttons(first) if b["payload"] == "/nlu_fallback"]
    if not none_button:
        pytest.fail(f"the first fallback offered no 'none of these' button: {first}")

    second = servers.say(sender, none_button[0]["payload"])
    assert any(b["payload"] == "/human_handoff" for b in buttons(second))
