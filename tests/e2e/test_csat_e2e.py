"""CSAT through the real Rasa and action servers (issue 17, item 4), and the summary in the
handoff webhook's payload (item 3): what the customer sees, and what the database keeps.
"""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import select

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.review.csat import CsatSurvey
from tests.e2e.conftest import Servers, WebhookSink, texts

QUESTION = "今回の対応はいかがでしたか"


def _survey(servers: Servers, sender: str) -> CsatSurvey | None:
    engine = make_engine(servers.database_url)
    try:
        with session_factory(engine)() as session:
            return session.execute(select(CsatSurvey).where(
                CsatSurvey.conversation_id == sender)).scalar_one_or_none()
    finally:
        engine.dispose()


def test_after_an_answer_and_a_goodbye_the_customer_rates_once_and_comments(
    servers: Servers, sender: str
) -> None:
    servers.say(sender, "海外で個人データを扱っていますか")
    bye = servers.say(sender, "ありがとうございました。失礼します")
    assert QUESTION in texts(bye)
    buttons = [b for m in bye for b in m.get("buttons") or []]
    assert [b["payload"] for b in buttons] == [f'/csat{{"score":{n}}}' for n in (5, 4, 3, 2, 1)]

    assert "1から5" in texts(servers.say(sender, '/csat{"score":9}'))
    assert _survey(servers, sender).score is None  # out of range: nothing stored

    rated = servers.say(sender, '/csat{"score":5}')
    assert "ご評価いただき" in texts(rated) and "ご意見" in texts(rated)
    thanks = servers.say(sender, "とても分かりやすかったです。電話 03-1234-5678 でも聞きました")
    assert "貴重なご意見" in texts(thanks)

    again = servers.say(sender, '/csat{"score":1}')
    assert "すでに承っております" in texts(again)
    survey = _survey(servers, sender)
    assert survey.score == 5 and survey.trigger in ("thanks", "goodbye")
    assert "03-1234-5678" not in survey.comment and "［電話番号" in survey.comment
    # Asked once: another goodbye asks nothing.
    assert QUESTION not in texts(servers.say(sender, "さようなら"))


def test_hello_and_goodbye_alone_are_not_asked_to_rate(servers: Servers, sender: str) -> None:
    servers.say(sender, "こんにちは")
    assert QUESTION not in texts(servers.say(sender, "さようなら"))
    assert _survey(servers, sender) is None


def test_the_handoff_announcement_carries_the_summary_without_contact_data(
    servers: Servers, sender: str, webhook_sink: WebhookSink
) -> None:
    servers.say(sender, "至急です！登録している住所を訂正してほしい")
    servers.say(sender, "担当者と話したいです")
    reference = servers.slot(sender, "ticket_reference")
    deadline = time.monotonic() + 15
    mine: list[dict] = []
    while not mine and time.monotonic() < deadline:
        mine = [json.loads(b) for _, b in webhook_sink.received
                if json.loads(b).get("reference") == reference]
        time.sleep(0.2)
    assert mine, "the handoff was not announced"
    summary = mine[0]["summary"]
    assert summary["headline"] and "お急ぎ" in summary["text"]
    assert not re.search(r"\d{2,4}-\d{2,4}-\d{4}", json.dumps(mine[0], ensure_ascii=False))
