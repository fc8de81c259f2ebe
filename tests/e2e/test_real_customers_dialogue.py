"""Real customers' wording through the real servers (issue 13, items 3-4).

A question that is also a wish is answered from the notice and the request offered; two wishes
in one message are both taken; a form refuses what cannot be its answer and offers a new wish;
a question the notice does not answer is told so.
"""

from __future__ import annotations

from tests.e2e.conftest import Servers, buttons, texts
from tests.e2e.test_requests import ANSWERS, OPENING, clear_slot, fill_form, tickets_of

DM_QUESTION = "DMは止められますか"
TWO_WISHES = "登録した住所を直したいのと、もうカタログは送らないでほしいです"
MAIN_WISH_THEN_ANOTHER = ("ダイレクトメールはもう送らないでください。"
                          "あと、私の登録データの開示もお願いします")
NOT_A_NAME = "外部の業者に俺の情報流すのやめろ"
ASK_NAME = "お名前（フルネーム）を教えてください"


def start_form(servers: Servers, sender: str) -> None:
    servers.say(sender, OPENING["disclosure"])
    servers.say(sender, "はい")
    assert servers.slot(sender, "requested_slot") == "customer_name"


def test_a_question_that_is_also_a_wish_is_answered_and_the_request_offered(
    servers: Servers, sender: str
) -> None:
    messages = servers.say(sender, DM_QUESTION)

    assert "出典: 5." in texts(messages)
    assert servers.slot(sender, "notice_section") == "5"
    offers = {b["payload"]: b["title"] for b in buttons(messages)}
    assert offers.get("/request_marketing_optout") == "停止の手続きをする"
    assert offers.get("/deny") == "大丈夫です"

    servers.say(sender, "/request_marketing_optout")
    assert servers.slot(sender, "request_types") == ["marketing_optout"]
    assert servers.slot(sender, "request_stage") == "confirming"


def test_declining_the_offer_starts_nothing(servers: Servers, sender: str) -> None:
    servers.say(sender, DM_QUESTION)
    reply = texts(servers.say(sender, "/deny"))

    assert "ほかにお手伝いできることはございますか" in reply
    assert servers.slot(sender, "request_types") is None


def test_two_wishes_in_one_message_are_both_confirmed_and_make_one_ticket(
    servers: Servers, sender: str
) -> None:
    reply = texts(servers.say(sender, TWO_WISHES))

    assert servers.slot(sender, "request_types") == ["correction", "marketing_optout"]
    assert "訂正・追加・削除するご請求" in reply and "停止するお申し出" in reply
    servers.say(sender, "はい")
    assert "以下の内容で受け付けます" in texts(fill_form(servers, sender))
    servers.say(sender, "/affirm")

    [ticket] = tickets_of(servers, sender)
    assert ticket["request_types"] == ["correction", "marketing_optout"]


def test_the_wish_named_first_leads_and_the_one_added_after_it_is_taken_too(
    servers: Servers, sender: str
) -> None:
    # The later clause would weigh most in a story; a clause opened by 「あと、」 adds a wish.
    assert servers.parse(MAIN_WISH_THEN_ANOTHER)["intent"]["name"] == "request_marketing_optout"

    servers.say(sender, MAIN_WISH_THEN_ANOTHER)
    assert servers.slot(sender, "request_types") == ["marketing_optout", "disclosure"]


def test_a_wish_written_where_the_name_is_asked_is_offered_not_stored(
    servers: Servers, sender: str
) -> None:
    start_form(servers, sender)
    messages = servers.say(sender, NOT_A_NAME)

    assert servers.slot(sender, "customer_name") is None
    assert servers.slot(sender, "offered_request") == "third_party_stop"
    assert {b["payload"] for b in buttons(messages)} >= {"/affirm", "/deny"}
    assert "第三者に提供することを停止するご請求" in texts(messages)
    assert ASK_NAME in texts(messages)  # and the question is asked again

    servers.say(sender, "/affirm")
    assert servers.slot(sender, "request_types") == ["disclosure", "third_party_stop"]
    assert servers.slot(sender, "offered_request") is None
    assert "以下の内容で受け付けます" in texts(fill_form(servers, sender))
    servers.say(sender, "/affirm")

    [ticket] = tickets_of(servers, sender)
    assert ticket["request_types"] == ["disclosure", "third_party_stop"]
    assert ticket["customer_name"] == "山田花子"


def test_continuing_without_the_new_wish_asks_the_name_again(
    servers: Servers, sender: str
) -> None:
    start_form(servers, sender)
    servers.say(sender, NOT_A_NAME)
    reply = texts(servers.say(sender, "/deny"))

    assert ASK_NAME in reply
    assert servers.slot(sender, "request_types") == ["disclosure"]
    assert servers.slot(sender, "requested_slot") == "customer_name"
    servers.say(sender, ANSWERS["customer_name"])
    assert clear_slot(servers, sender, "customer_name") == "山田花子"


def test_a_refusal_is_not_taken_as_the_name(servers: Servers, sender: str) -> None:
    start_form(servers, sender)
    reply = texts(servers.say(sender, "名前を教えたくないです"))

    assert servers.slot(sender, "customer_name") is None
    assert "お名前として読み取れませんでした" in reply and ASK_NAME in reply


GAP_REPLY = "同意事項」には記載がございません"


def test_a_question_the_notice_does_not_answer_is_told_so_with_a_person(
    servers: Servers, sender: str
) -> None:
    messages = servers.say(sender, "/notice_gap")

    assert GAP_REPLY in texts(messages)
    assert any(b["payload"] == "/human_handoff" for b in buttons(messages))
    assert servers.slot(sender, "notice_section") is None


def test_such_a_question_mid_form_is_told_so_and_the_form_goes_on(
    servers: Servers, sender: str
) -> None:
    start_form(servers, sender)
    reply = texts(servers.say(sender, "/notice_gap"))

    assert GAP_REPLY in reply and ASK_NAME in reply
    assert servers.slot(sender, "requested_slot") == "customer_name"


def test_the_cookie_question_in_a_customers_words(servers: Servers, sender: str) -> None:
    text = "クッキーは使っていますか"

    assert servers.parse(text)["intent"]["name"] == "notice_gap"
    assert GAP_REPLY in texts(servers.say(sender, text))
