"""A customer's request becomes a ticket an operator can act on without asking again.

Scripted conversations through the real Rasa server, action server and database.
"""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from sqlalchemy import text

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.privacy.pending_contact import PendingContacts
from madoguchi.runtime.launcher import run_secrets
from madoguchi.tickets import TicketService as TicketRepository
from tests.e2e.conftest import Servers, api_auth, buttons, new_sender, texts, words_in

# What a customer answers when the form asks for each slot.
ANSWERS = {
    "customer_name": "山田花子です",
    "phone": "０９０ー１２３４ー５６７８",
    "postal_address": "〒135-0016 東京都江東区東陽1-2-3 サンプルマンション101",
    "email": "hanako.yamada@example.jp",
    "member_number": "なし",
    "preferred_time": "平日の午前中",
    "is_agent": "本人です",
    "correction_item": "住所",
    "correction_value": "〒150-0001 東京都渋谷区神宮前1-1-1",
    "suspension_scope": "すべてのデータ",
    "cancel_membership": "はい",
    "third_party_recipients": "広告配信事業者",
    "marketing_channels": "メールと電話",
    "complaint_details": (
        "退会したはずなのに先週もカタログが届き、情報が消されていないのではと不安です。"
    ),
}

OPENING = {
    "purpose_notice": "私のデータがどんな目的で使われているのか、個別に通知してほしいです",
    "disclosure": "御社が持っている私の個人情報を全部開示してください",
    "correction": "登録している住所が古いままなので訂正をお願いします",
    "suspension": "私の個人データを全て消去してほしい",
    "third_party_stop": "広告配信事業者に私のデータを提供するのをやめてください",
    "marketing_optout": "ダイレクトメールと営業の電話を止めてほしいです",
}


def clear_slot(servers: Servers, sender: str, name: str) -> object:
    """A contact slot's value: the tracker holds a placeholder, the clear value waits for the
    ticket in pending_contact (README: Where personal data may live)."""
    value = servers.slot(sender, name)
    assert isinstance(value, str) and value.startswith("［"), value
    return PendingContacts(session_factory(make_engine(servers.database_url))).reveal(
        sender, value)


def tickets_of(servers: Servers, sender: str) -> list[dict]:
    repo = TicketRepository(session_factory(make_engine(servers.database_url)))
    return [t.to_dict() for t in repo.find_by_conversation(sender)]


def fill_form(servers: Servers, sender: str, answers: dict[str, str] = ANSWERS,
              limit: int = 15) -> list[dict]:
    """Answer whatever the form asks until the summary appears; the last messages seen."""
    messages: list[dict] = []
    for _ in range(limit):
        asked = servers.slot(sender, "requested_slot")
        if asked is None:
            return messages
        messages = servers.say(sender, answers[asked])
    pytest.fail(f"the form never finished; still asking {servers.slot(sender, 'requested_slot')}")


def run_request(servers: Servers, sender: str, opening: str) -> str:
    """From the first words to a confirmed ticket; returns the reference."""
    first = servers.say(sender, opening)
    assert servers.slot(sender, "request_stage") == "confirming", texts(first)
    servers.say(sender, "はい")
    summary = fill_form(servers, sender)
    assert "以下の内容で受け付けます" in texts(summary)
    done = servers.say(sender, "/affirm")
    reference = servers.slot(sender, "ticket_reference")
    assert reference and reference in texts(done)
    return reference


@pytest.mark.parametrize("request_type", list(OPENING))
def test_each_request_type_ends_in_a_prefilled_ticket(
    servers: Servers, request_type: str
) -> None:
    sender = new_sender()
    reference = run_request(servers, sender, OPENING[request_type])

    [ticket] = tickets_of(servers, sender)
    assert ticket["reference"] == reference
    assert ticket["request_types"] == [request_type]
    assert ticket["status"] == "new"
    assert ticket["customer_name"] == "山田花子"
    assert ticket["customer_phone"] == "090-1234-5678"
    assert ticket["nlu_intent"] == f"request_{request_type}"
    assert ticket["conversation_id"] == sender
    assert ticket["next_steps"]
    assert ticket["due_at"]
    if request_type != "marketing_optout":
        assert ticket["customer_postal_address"].startswith("〒135-0016")
        assert set(ticket["notice_sections"]) >= {"4.1", "4.2"}
    assert servers.slot(sender, "request_type") == request_type


def test_the_procedure_told_is_the_notices_own(servers: Servers, sender: str) -> None:
    messages = servers.say(sender, OPENING["disclosure"])
    reply = texts(messages)

    assert "公的機関発行の証明書" in reply  # the copy of an official ID, §4 (2) ③
    assert "手数料" in reply or "お問い合わせください" in reply
    assert "出典: 4." in reply
    assert {b["payload"] for b in buttons(messages)} >= {"/affirm", "/deny"}


def test_the_ticket_details_say_exactly_what_is_asked(servers: Servers) -> None:
    sender = new_sender()
    run_request(servers, sender, OPENING["correction"])
    [ticket] = tickets_of(servers, sender)
    assert ticket["details"]["correction"]["item"] == "住所"
    assert "渋谷区" in ticket["details"]["correction"]["value"]

    sender = new_sender()
    run_request(servers, sender, OPENING["suspension"])
    [ticket] = tickets_of(servers, sender)
    assert ticket["details"]["suspension"]["scope"] == "all"
    assert ticket["details"]["suspension"]["cancel_membership"] is True


def test_deleting_asks_whether_it_is_wrong_content_or_erasure(
    servers: Servers, sender: str
) -> None:
    messages = servers.say(sender, "登録されている情報を削除したい")
    payloads = {b["payload"] for b in buttons(messages)}

    assert payloads >= {"/request_correction", "/request_suspension"}
    servers.say(sender, "/request_suspension")
    assert servers.slot(sender, "request_types") == ["suspension"]
    assert servers.slot(sender, "request_stage") == "confirming"


def test_stop_asks_which_of_the_three_is_meant(servers: Servers, sender: str) -> None:
    payloads = {b["payload"] for b in buttons(servers.say(sender, "もう止めてほしいんですけど"))}

    assert payloads >= {
        "/request_marketing_optout", "/request_third_party_stop", "/request_suspension"
    }


def test_two_requests_in_one_message_make_one_ticket_with_both(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "メールを止めて、データも全部消してください")
    assert set(servers.slot(sender, "request_types")) == {"marketing_optout", "suspension"}
    servers.say(sender, "はい")
    fill_form(servers, sender)
    servers.say(sender, "/affirm")

    [ticket] = tickets_of(servers, sender)
    assert set(ticket["request_types"]) == {"marketing_optout", "suspension"}


def test_an_invalid_phone_number_is_asked_again(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    answers = {**ANSWERS}
    while servers.slot(sender, "requested_slot") != "phone":
        servers.say(sender, answers[servers.slot(sender, "requested_slot")])

    reply = texts(servers.say(sender, "12345"))

    assert "お電話番号を確認できませんでした" in reply
    assert servers.slot(sender, "requested_slot") == "phone"
    servers.say(sender, "03-1234-5678")
    assert clear_slot(servers, sender, "phone") == "03-1234-5678"


def test_a_notice_question_mid_form_is_answered_and_the_form_goes_on(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    asked = servers.slot(sender, "requested_slot")

    reply = texts(servers.say(sender, "そういえば個人データを外国で取り扱うことはありますか"))

    assert "外国" in reply and "出典:" in reply
    assert servers.slot(sender, "requested_slot") == asked
    assert servers.tracker(sender)["active_loop"].get("name") == "request_form"


def test_cancelling_mid_form_creates_nothing(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["suspension"])
    servers.say(sender, "はい")
    servers.say(sender, "すべてのデータ")

    reply = texts(servers.say(sender, "やっぱり手続きはやめます"))

    assert "取りやめました" in reply
    assert not servers.tracker(sender)["active_loop"].get("name")
    assert tickets_of(servers, sender) == []


def test_declining_at_the_confirmation_creates_nothing(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    reply = texts(servers.say(sender, "いいえ"))

    assert "取りやめました" in reply
    assert tickets_of(servers, sender) == []


def test_a_field_is_corrected_at_the_summary(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    fill_form(servers, sender)

    choices = buttons(servers.say(sender, "/deny"))
    phone = next(b for b in choices if '"phone"' in b["payload"])
    servers.say(sender, phone["payload"])
    assert servers.slot(sender, "requested_slot") == "phone"
    summary = texts(servers.say(sender, "080-9999-0000"))

    assert "080-9999-0000" in summary
    servers.say(sender, "/affirm")
    [ticket] = tickets_of(servers, sender)
    assert ticket["customer_phone"] == "080-9999-0000"


def test_a_phone_number_given_again_mid_form_replaces_the_first(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    servers.say(sender, ANSWERS["customer_name"])
    servers.say(sender, ANSWERS["phone"])
    assert servers.slot(sender, "requested_slot") == "postal_address"

    servers.say(
        sender, "電話番号を間違えました、080-1111-2222です。住所は〒135-0016 東京都江東区東陽1-2-3"
    )

    assert clear_slot(servers, sender, "phone") == "080-1111-2222"


def test_a_complaint_becomes_a_high_priority_ticket_and_a_person(
    servers: Servers, sender: str
) -> None:
    first = texts(
        servers.say(sender, "同意してないのに私の情報が勝手に使われていて本当に腹が立ちます")
    )
    assert "申し訳ございません" in first
    fill_form(servers, sender)
    done = texts(servers.say(sender, "/affirm"))

    [ticket] = tickets_of(servers, sender)
    assert ticket["request_types"] == ["complaint"]
    assert ticket["priority"] == "high"
    assert "カタログ" in ticket["details"]["complaint"]["details"]
    assert ticket["reference"] in done
    assert servers.tracker(sender)["paused"] is True


def test_a_person_on_request_pauses_the_bot_and_keeps_the_customers_words(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "開示の手続きについて聞きたいです")
    reply = texts(servers.say(sender, "オペレーターの方と直接話したいです"))
    reference = servers.slot(sender, "ticket_reference")

    assert reference and reference in reply
    assert servers.tracker(sender)["paused"] is True
    assert servers.say(sender, "まだですか？") == []  # the bot stays silent for the operator
    said = [e["text"] for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert said[-1] == "まだですか？"
    [ticket] = tickets_of(servers, sender)
    assert ticket["reference"] == reference


def test_a_person_mid_form_keeps_what_was_already_given(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    servers.say(sender, ANSWERS["customer_name"])
    servers.say(sender, ANSWERS["phone"])

    servers.say(sender, "/human_handoff")

    [ticket] = tickets_of(servers, sender)
    assert ticket["customer_name"] == "山田花子"
    assert ticket["customer_phone"] == "090-1234-5678"
    assert ticket["request_types"] == ["disclosure"]
    assert servers.tracker(sender)["paused"] is True


def test_a_card_number_is_never_stored_and_the_customer_is_warned(
    servers: Servers, sender: str
) -> None:
    card = "4111 1111 1111 1111"
    reply = texts(servers.say(sender, f"カード番号は{card}です、開示をお願いします"))

    assert "クレジットカード番号" in reply
    events = servers.tracker(sender)["events"]
    assert all(card not in json.dumps(e, ensure_ascii=False) for e in events)
    engine = make_engine(servers.database_url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT data FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalars().all()
    assert stored and all("4111" not in words_in(row) for row in stored)


def _action_call(servers: Servers, sender: str, action: str) -> dict:
    tracker = servers.tracker(sender)
    request = urllib.request.Request(f"{servers.rasa_url}/domain",
                                     headers={"Accept": "application/json", **api_auth()})
    with urllib.request.urlopen(request, timeout=30) as response:
        domain = json.loads(response.read())
    payload = {"next_action": action, "sender_id": sender, "tracker": tracker,
               "domain": domain, "version": "3.6.21"}
    # As Rasa calls it: with the action server's token (actions/server.py).
    url = servers.actions.health_url.replace("/health", "/webhook?token=" + quote(
        run_secrets().action_token))
    call = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                  headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(call, timeout=30) as response:
        return json.loads(response.read())


def test_a_retried_ticket_action_yields_one_ticket(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    fill_form(servers, sender)
    servers.say(sender, "/affirm")
    reference = servers.slot(sender, "ticket_reference")

    # Rasa calling the action again for the same confirmation (a retry after a timeout).
    again = _action_call(servers, sender, "action_create_ticket")

    assert reference in json.dumps(again, ensure_ascii=False)
    assert [t["reference"] for t in tickets_of(servers, sender)] == [reference]


def test_fifty_concurrent_handoffs_get_fifty_distinct_references(servers: Servers) -> None:
    senders = [new_sender() for _ in range(50)]

    def handoff(sender: str) -> str | None:
        servers.say(sender, "担当者につないでください")
        return servers.slot(sender, "ticket_reference")

    with ThreadPoolExecutor(max_workers=10) as pool:
        references = list(pool.map(handoff, senders))

    assert all(references)
    assert len(set(references)) == 50


@pytest.mark.parametrize(
    ("opening", "choice", "request_type"),
    [
        ("登録されている情報を削除したい", "/request_correction", "correction"),
        ("登録されている情報を削除したい", "/request_suspension", "suspension"),
        ("もう止めてほしいんですけど", "/request_marketing_optout", "marketing_optout"),
        ("もう止めてほしいんですけど", "/request_third_party_stop", "third_party_stop"),
        ("もう止めてほしいんですけど", "/request_suspension", "suspension"),
    ],
)
def test_each_choice_after_an_ambiguity_ends_in_its_ticket(
    servers: Servers, opening: str, choice: str, request_type: str
) -> None:
    sender = new_sender()
    servers.say(sender, opening)
    assert servers.slot(sender, "request_stage") == "ambiguous"

    servers.say(sender, choice)
    servers.say(sender, "はい")
    fill_form(servers, sender)
    servers.say(sender, "/affirm")

    [ticket] = tickets_of(servers, sender)
    assert ticket["request_types"] == [request_type]
