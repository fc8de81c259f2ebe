"""Issue 15, item 6: a conversation id alone opens nothing.

The server issues the id with a session token (an HMAC of it); the REST channel and socket.io
let a client into a conversation only with that pair. The id as the desk, an export or the
handoff webhook shows it is therefore useless to whoever reads it there.
"""

from __future__ import annotations

import queue
import time

import requests
import socketio

from tests.e2e.conftest import Servers, new_sender, session_token
from tests.security.conftest import post_message, user_texts


def test_a_sender_without_its_session_token_is_refused(servers: Servers) -> None:
    victim = new_sender()
    servers.say(victim, "個人情報を開示してほしい")

    for response in (
        post_message(servers, victim, "担当者と話したい", signed=False),
        post_message(servers, victim, "担当者と話したい", session_token="0.00"),
        post_message(servers, victim, "担当者と話したい",
                     session_token=session_token(new_sender())),
    ):
        assert response.status_code == 403
        assert response.json()["error"] == "session_invalid"
    assert user_texts(servers, victim) == ["個人情報を開示してほしい"]


def test_the_rest_channel_issues_a_session_that_works(servers: Servers) -> None:
    issued = requests.get(servers.rasa_url + "/webhooks/rest/session", timeout=30).json()

    response = post_message(servers, issued["sender"], "個人情報の利用目的を教えてください",
                            session_token=issued["session_token"])

    assert response.status_code == 200 and response.json()


class Chat:
    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.confirmed: queue.Queue[str] = queue.Queue()
        self.tokens: queue.Queue[dict] = queue.Queue()
        self.replies: queue.Queue[dict] = queue.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("session_token", self.tokens.put)
        self.client.on("bot_uttered", self.replies.put)
        self.client.connect(url, transports=["polling"], wait_timeout=30)

    def request(self, session_id: str | None, token: str | None = None) -> str:
        self.client.emit("session_request", {"session_id": session_id, "session_token": token})
        return self.confirmed.get(timeout=60)


def test_socketio_does_not_join_a_conversation_named_without_its_token(
    servers: Servers,
) -> None:
    owner, intruder = Chat(servers.rasa_url), Chat(servers.rasa_url)
    try:
        victim = owner.request(None)
        issued = owner.tokens.get(timeout=10)
        assert issued["session_id"] == victim

        given = intruder.request(victim)
        intruder.client.emit("user_uttered", {"message": "担当者と話したい", "session_id": victim})
        time.sleep(2)

        assert given != victim
        assert [e for e in servers.tracker(victim)["events"] if e["event"] == "user"] == []
        # The owner, with the pair, comes back to the same conversation.
        assert intruder.request(victim, issued["session_token"]) == victim
    finally:
        owner.client.disconnect()
        intruder.client.disconnect()
