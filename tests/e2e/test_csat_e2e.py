"""CSAT through the real Rasa and action servers (issue 17, item 4), and the summary in the
handoff webhook's payload (item 3): what the customer sees, and what the database keeps.
A decision that closes a ticket asks too, through the real desk (uvicorn) on the same servers.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.review.csat import CsatSurvey
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import TicketDraft, TicketService, UserRepository
from tests.e2e.conftest import ROOT, Servers, WebhookSink, texts

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


# --- a decision that closes the ticket (requests ①–⑤ close no other way) -----------------------


@dataclass
class DeskApi:
    url: str
    tokens: dict[str, str]

    def call(self, method: str, path: str, user: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, timeout=60, **kwargs,
                                headers={"Authorization": f"Bearer {self.tokens[user]}"})


@pytest.fixture(scope="module")
def desk(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DeskApi]:
    """The desk as `make run` starts it, on the servers' database and Rasa."""
    work, port = tmp_path_factory.mktemp("csat-desk"), free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": servers.database_url, "MADOGUCHI_RASA_URL": servers.rasa_url,
        "MADOGUCHI_ACTION_URL": servers.actions.health_url.rsplit("/health", 1)[0],
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=120)
        users = UserRepository(session_factory(make_engine(servers.database_url)))
        tokens = {name: users.create_user(name, role)[1] for name, role in
                  [("csat-op", "operator"), ("csat-sv1", "supervisor"),
                   ("csat-sv2", "supervisor")]}
        yield DeskApi(f"http://127.0.0.1:{port}", tokens)
    finally:
        launcher.stop_all()


def _asked(servers: Servers, sender: str) -> int:
    """How many times the customer was shown the question."""
    return sum(1 for e in servers.tracker(sender)["events"]
               if e.get("event") == "bot" and QUESTION in (e.get("text") or ""))


def _request_taken(servers: Servers, desk: DeskApi, sender: str, said: str,
                   request_type: str) -> tuple[str, str]:
    """The customer talked with the assistant; a request of theirs is taken, claimed by the
    operator and identified: its reference and API path."""
    servers.say(sender, said)
    service = TicketService(session_factory(make_engine(servers.database_url)))
    reference = service.create(TicketDraft(
        request_types=[request_type], customer_name="評価 花子", conversation_id=sender,
    )).reference
    path = f"/api/tickets/{reference}"
    assert desk.call("POST", path + "/claim", "csat-op").status_code == 200
    assert desk.call("POST", path + "/identity", "csat-op", json={
        "method": "call_back", "received": "登録番号への折り返し"}).status_code == 201
    return reference, path


def test_a_granted_decision_closes_the_ticket_and_asks_the_customer_once(
    servers: Servers, sender: str, desk: DeskApi
) -> None:
    reference, path = _request_taken(servers, desk, sender, "海外で個人データを扱っていますか",
                                     "correction")
    granted = desk.call("POST", path + "/decision", "csat-op", json={"outcome": "granted"})
    assert granted.status_code == 201 and granted.json()["status"] == "resolved"

    survey = _survey(servers, sender)
    assert survey is not None and survey.ticket_reference == reference
    assert survey.operator == "csat-op"
    assert _asked(servers, sender) == 1
    rated = servers.say(sender, '/csat{"score":4}')
    assert "ご評価いただき" in texts(rated)
    assert _survey(servers, sender).score == 4
    # Handing the conversation back afterwards does not ask again.
    assert desk.call("POST", path + "/handback", "csat-op").status_code == 200
    assert _asked(servers, sender) == 1


def test_a_refusal_asks_only_when_its_approval_closes_the_ticket(
    servers: Servers, sender: str, desk: DeskApi
) -> None:
    reference, path = _request_taken(servers, desk, sender, "個人情報の利用目的を教えてください",
                                     "third_party_stop")
    proposed = desk.call("POST", path + "/decision", "csat-sv1", json={
        "outcome": "refused", "ground": "third_party_stop.no_grounds",
        "explanation": "提供先は当社の委託先であり、第三者提供に当たりません。"})
    assert proposed.status_code == 201 and proposed.json()["status"] == "pending_approval"
    assert _survey(servers, sender) is None and _asked(servers, sender) == 0

    approved = desk.call("POST", path + "/decision/approve", "csat-sv2")
    assert approved.status_code == 200 and approved.json()["status"] == "rejected"
    survey = _survey(servers, sender)
    assert survey is not None and survey.ticket_reference == reference
    assert _asked(servers, sender) == 1
