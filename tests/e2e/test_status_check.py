"""「PRV-20261204-0012 の状況を教えて」 through the real Rasa server, action server and database
(issue 16, item 7): the bot asks for the contact on the ticket, compares without showing it,
answers the state and the next step, reads an unknown reference and a wrong contact alike,
limits and audits the attempts."""

from __future__ import annotations

from sqlalchemy import select

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.review.models import ReviewAudit
from madoguchi.tickets import TicketDraft, TicketService
from tests.e2e.conftest import Servers, new_sender, texts

PHONE = "080-2468-1357"
EMAIL = "status.check@example.jp"
ASKS_CONTACT = "お電話番号またはメールアドレスを入力してください"
NOT_FOUND = "ご請求を確認できませんでした"


def service(servers: Servers) -> TicketService:
    return TicketService(session_factory(make_engine(servers.database_url)))


def new_ticket(servers: Servers) -> str:
    return service(servers).create(TicketDraft(
        request_types=["disclosure"], customer_name="状況 確子", customer_phone=PHONE,
        customer_email=EMAIL, conversation_id=new_sender())).reference


def loose(reference: str) -> str:
    """The reference as a customer might type it: full-width, lower case, spaces, number short."""
    _, day, number = reference.split("-")
    full = str.maketrans("0123456789", "０１２３４５６７８９")
    return f"ｐｒｖ {day.translate(full)} {int(number)}"


def test_the_state_and_the_next_step_for_the_right_contact(servers: Servers) -> None:
    reference, sender = new_ticket(servers), new_sender()
    asked = texts(servers.say(sender, f"{loose(reference)} の進み具合を知りたい"))
    assert ASKS_CONTACT in asked
    assert servers.slot(sender, "status_reference") == reference

    answer = texts(servers.say(sender, "０８０ー２４６８ー１３５７"))
    assert reference in answer
    assert "担当者が受付順に内容を確認し" in answer  # `new`: data/requests/status.yml
    assert "2468" not in answer and "状況 確子" not in answer and "開示" not in answer
    # The contact typed is forgotten: the next check asks again.
    assert servers.slot(sender, "status_contact") is None


def test_the_state_follows_the_ticket(servers: Servers) -> None:
    reference = new_ticket(servers)
    tickets = service(servers)
    tickets.claim(reference, "hanako")
    tickets.transition(reference, "waiting_customer", "hanako")
    sender = new_sender()
    servers.say(sender, f"受付番号{reference}の状況を教えて")
    answer = texts(servers.say(sender, EMAIL.upper()))
    assert "ご返送またはご返信をお待ちしております" in answer


def checks_of(servers: Servers, sender: str) -> list[dict]:
    with session_factory(make_engine(servers.database_url))() as session:
        return [r.details for r in session.execute(select(ReviewAudit).where(
            ReviewAudit.sender_id == sender, ReviewAudit.action == "status_check"
        ).order_by(ReviewAudit.id)).scalars()]


def test_the_reference_is_asked_when_the_message_has_none(servers: Servers) -> None:
    reference, sender = new_ticket(servers), new_sender()
    asked = texts(servers.say(sender, "以前お願いした請求の進み具合を知りたいです"))
    assert "受付番号を教えてください" in asked
    wrong_form = texts(servers.say(sender, "PRV-2026-12"))
    assert "受付番号の形式を確認できませんでした" in wrong_form
    assert ASKS_CONTACT in texts(servers.say(sender, reference))
    assert reference in texts(servers.say(sender, PHONE))
    # The refused reference is an audited attempt too (what was typed is not kept).
    assert checks_of(servers, sender) == [
        {"channel": "chat", "reference": None, "outcome": "bad_reference"},
        {"channel": "chat", "reference": reference, "outcome": "answered"},
    ]


def test_an_unknown_reference_and_a_wrong_contact_read_alike(servers: Servers) -> None:
    reference = new_ticket(servers)
    first, second = new_sender(), new_sender()
    servers.say(first, f"{reference} の状況を教えてください")
    wrong = texts(servers.say(first, "090-0000-1111"))
    servers.say(second, "PRV-20261204-9871 の進み具合を知りたい")
    unknown = texts(servers.say(second, PHONE))
    assert NOT_FOUND in wrong
    assert wrong == unknown


def test_the_issues_own_words_start_the_check(servers: Servers, sender: str) -> None:
    reply = texts(servers.say(sender, "PRV-20261204-0001 の進み具合を知りたい"))
    assert ASKS_CONTACT in reply
    assert "個人情報のお取り扱いに関するご質問とご請求を承っております" not in reply


def test_attempts_are_limited_per_conversation_and_audited(servers: Servers) -> None:
    reference, sender = new_ticket(servers), new_sender()
    answers = []
    for attempt in range(6):  # the default limit is 5 an hour per conversation
        servers.say(sender, f"{reference} の状況を確認したい")
        answers.append(texts(servers.say(sender, PHONE if attempt == 5 else "090-0000-2222")))
    assert all(NOT_FOUND in a for a in answers[:5])
    assert "しばらくの間" in answers[5] and reference not in answers[5]

    entries = [e for e in service(servers).get(reference).audit if e.action == "status_checked"]
    assert [e.changes["status_check"]["new"] for e in entries] == \
        ["contact_mismatch"] * 5 + ["limited"]
    with session_factory(make_engine(servers.database_url))() as session:
        rows = list(session.execute(select(ReviewAudit).where(
            ReviewAudit.sender_id == sender, ReviewAudit.action == "status_check")).scalars())
    assert len(rows) == 6
    assert "0000" not in repr([r.details for r in rows]) and "2222" not in repr(
        [e.changes for e in entries])


def test_the_customer_may_stop_the_check(servers: Servers, sender: str) -> None:
    servers.say(sender, "受付番号の状況を確認したいです")
    stopped = texts(servers.say(sender, "/cancel"))
    assert "状況の確認を取りやめました" in stopped
    assert servers.tracker(sender).get("active_loop", {}).get("name") in (None, "")
