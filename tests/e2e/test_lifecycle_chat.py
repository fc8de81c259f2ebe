"""A request's legal particulars in the chat, through the real servers (issue 16): the records of
provision to third parties asked for as a disclosure, the delivery method answered and recorded,
§4 (2) said once and short with the full passage behind a button, the fee of ① and ② told
before confirming (never for ③–⑤), an agent's relation and documents, and the notice version
on every answer and ticket."""

from __future__ import annotations

from madoguchi.tickets.lifecycle import load_rules
from tests.e2e.conftest import Servers, buttons, new_sender, texts
from tests.e2e.test_requests import ANSWERS, OPENING, fill_form, tickets_of

SHORT_PROCEDURE = "お手続きは、当社からお送りする請求用紙に所定の事項をご記入のうえ"


def confirm_and_fill(servers: Servers, sender: str, answers: dict[str, str] = ANSWERS) -> str:
    """From the confirmation to the summary: the summary's text."""
    servers.say(sender, "はい")
    return texts(fill_form(servers, sender, answers))


def test_asking_whom_our_data_went_to_is_a_disclosure_of_provision_records(
    servers: Servers,
) -> None:
    sender = new_sender()
    reply = texts(servers.say(
        sender, "私の個人情報、どこの会社に渡したのか教えてほしい。記録があるはずですよね"))
    assert servers.slot(sender, "request_type") == "disclosure"
    assert servers.slot(sender, "disclosure_kind") == "provision_records"
    assert "第三者に提供した際の記録" in reply
    assert "ご不快な思い" not in reply  # not taken as a complaint
    confirm_and_fill(servers, sender)
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["disclosure_kind"] == "provision_records"
    assert ticket["priority"] == "normal"


def test_the_delivery_question_is_answered_and_the_wish_recorded(servers: Servers) -> None:
    sender = new_sender()
    reply = texts(servers.say(sender, "開示の結果はメールで送ってもらえますか？PDFでほしいです"))
    assert "電磁的記録" in reply and "書面" in reply  # Art. 33(1): the person chooses
    assert "電子メール" in reply
    assert servers.slot(sender, "delivery_method") == "email"
    assert servers.tracker(sender).get("active_loop", {}).get("name") in (None, "")

    servers.say(sender, OPENING["disclosure"])
    summary = confirm_and_fill(servers, sender)
    assert "開示結果のお受け取り方法：電磁的記録の提供（電子メール）" in summary
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["delivery_method"] == "email"


def test_the_procedure_is_said_once_short_with_the_full_passage_a_button_away(
    servers: Servers,
) -> None:
    sender = new_sender()
    first = servers.say(sender, OPENING["disclosure"])
    said = texts(first)
    assert SHORT_PROCEDURE in said and "代理人" in said and "手数料" in said
    assert "出典: 4." in said
    assert "/notice_4_2" in {b["payload"] for b in buttons(first)}
    full = texts(servers.say(sender, "/notice_4_2"))
    assert "請求用紙に所定の事項をご記入いただき" in full  # the notice's own words
    servers.say(sender, "/cancel")

    again = texts(servers.say(sender, OPENING["correction"]))
    assert SHORT_PROCEDURE not in again and "先ほどご案内したとおり" in again


def test_the_fee_is_told_before_confirming_for_disclosure_only(servers: Servers) -> None:
    fee_is_set = load_rules().fees["disclosure"] is not None
    sender = new_sender()
    servers.say(sender, OPENING["disclosure"])
    summary = confirm_and_fill(servers, sender)
    assert "手数料：開示のご請求には" in summary
    assert ("円をご負担いただきます" in summary) == fee_is_set
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["fee_told_at"] is not None

    sender = new_sender()
    servers.say(sender, OPENING["correction"])
    summary = confirm_and_fill(servers, sender)
    assert "以下の内容で受け付けます" in summary and "手数料：" not in summary
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["fee_told_at"] is None and ticket["fee_amount"] is None


def test_an_agent_says_the_relation_and_is_told_the_documents(servers: Servers) -> None:
    sender = new_sender()
    servers.say(sender, OPENING["purpose_notice"])
    asked = confirm_and_fill(servers, sender, {**ANSWERS, "is_agent": "代理人です"})
    assert "ご本人様とのご関係" in asked
    summary = texts(servers.say(sender, '/affirm{"agent_kind": "mandate"}'))
    assert "代理人のご関係：委任による代理人" in summary
    assert "ご本人が署名・押印した委任状" in summary  # data/requests/lifecycle.yml
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert (ticket["is_agent"], ticket["agent_kind"]) == (True, "mandate")


def test_every_answer_and_ticket_records_the_notice_version(servers: Servers) -> None:
    sender = new_sender()
    servers.say(sender, "個人情報の利用目的を教えてください")
    assert servers.slot(sender, "notice_version") == "v1"
    bots = [e for e in servers.tracker(sender)["events"] if e["event"] == "bot"]
    assert bots[-1]["metadata"]["notice_version"] == "v1"
    servers.say(sender, OPENING["correction"])
    confirm_and_fill(servers, sender)
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["notice_version"] == "v1"


COVERED = ("近いうちに消去する予定のデータ（6か月以内に消去するものを含みます）も、"
           "開示のご請求の対象となります")


def test_data_about_to_be_deleted_is_told_to_be_covered_by_disclosure(servers: Servers) -> None:
    """Since 2022 data deleted within six months is disclosed too (lifecycle.yml
    disclosure_coverage): said when the customer asks for it, whether as a request or as a
    question; not to every disclosure."""
    wish = new_sender()
    reply = texts(servers.say(wish, "もうすぐ消去される予定の私のデータも開示してほしいです"))
    assert servers.slot(wish, "request_types") == ["disclosure"]  # not an erasure too
    assert COVERED in reply
    kept = new_sender()
    kept_reply = servers.say(kept, "保存期間が終わる前に、私の個人データを開示してほしいです")
    assert COVERED in texts(kept_reply)

    question = new_sender()
    asked = texts(servers.say(question, "半年以内に消えるデータも開示請求の対象になりますか"))
    assert COVERED in asked

    plain = new_sender()
    assert COVERED not in texts(servers.say(plain, "私の個人データを開示してください"))
