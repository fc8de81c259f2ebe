"""Fuzz of the web chat's socket.io channel, through the real Rasa server.

A socket.io client (python-socketio, as a hand-made client would be) sends `user_uttered` with
anything as its data: not an object, no or a wrong session id (numbers, 100 KB, NUL, lone
surrogates), messages of any type and any Unicode. Properties: the connection and the server
survive it; a message under a proper session id always gets a polite Japanese reply; a message
under an unusable session id is dropped (as Rasa drops one without a session id) and never
creates a conversation.
"""

from __future__ import annotations

import queue
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import socketio
from hypothesis import example, given
from hypothesis import strategies as st

from madoguchi.rasa_adapters.channels import valid_sender
from tests.e2e.conftest import Servers, api_auth
from tests.fuzz.conftest import FuzzLog, fuzz_settings
from tests.fuzz.test_webhook_fuzz import check_polite_reply, json_values, short_text

pytestmark = [pytest.mark.server]

REPLY_WAIT = 120  # an upper bound for waiting, never a measurement


class ChatClient:
    """One socket.io connection (long-polling), kept across examples as a browser keeps its tab.

    Long-polling: the WebSocket transport of python-engineio's client needs packages Rasa's pins
    exclude (the widget's own WebSocket is tested in test_chat_widget.py).
    """

    def __init__(self, url: str) -> None:
        self.client = socketio.Client(reconnection=False)
        self.replies: queue.Queue[Any] = queue.Queue()
        self.confirmed: queue.Queue[Any] = queue.Queue()
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.connect(url, transports=["polling"], wait_timeout=30)
        self.last_seconds = 0.0  # how long the last exchange took, for the bench

    def exchange(self, session_id: Any, data: Any, answer_expected: bool) -> list[Any]:
        """Emit `data` as user_uttered in the session; the replies (none if none expected)."""
        while not self.replies.empty():  # late words of an earlier example
            self.replies.get_nowait()
        started = time.monotonic()
        # As the widget does: the room is joined once the session is confirmed. The server
        # issues the conversation (a chosen id is not honoured without its token): a message
        # naming the id asked for goes to the one confirmed.
        self.client.emit("session_request", {"session_id": session_id})
        confirmed = self.confirmed.get(timeout=REPLY_WAIT)
        if isinstance(data, dict) and data.get("session_id") == session_id:
            data = {**data, "session_id": confirmed}
        self.client.emit("user_uttered", data)
        replies: list[Any] = []
        if answer_expected:
            replies.append(self.replies.get(timeout=REPLY_WAIT))
            time.sleep(0.5)  # the rest of a multi-bubble answer
            while not self.replies.empty():
                replies.append(self.replies.get_nowait())
        else:
            time.sleep(0.2)
        assert self.client.connected
        self.last_seconds = time.monotonic() - started
        return replies


@pytest.fixture(scope="module")
def chat(servers: Servers) -> Iterator[ChatClient]:
    client = ChatClient(servers.rasa_url)
    try:
        yield client
    finally:
        client.client.disconnect()


def user_events(servers: Servers, sender: str) -> list[dict]:
    return [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]


@pytest.fixture(autouse=True)
def still_alive_afterwards(servers: Servers, chat: ChatClient) -> Any:
    yield
    assert requests.get(servers.rasa_url + "/status", headers=api_auth(),
                        timeout=30).status_code == 200
    session = uuid.uuid4().hex
    replies = chat.exchange(session, {"message": "開示請求をしたいです", "session_id": session},
                            answer_expected=True)
    check_polite_reply(replies)


@fuzz_settings(8)
@given(message=short_text)
@example(message="\x00<script>alert(1)</script>\ud800")
def test_any_text_in_a_proper_session_gets_a_polite_reply(
    chat: ChatClient, fuzz_log: FuzzLog, message: str
) -> None:
    session = uuid.uuid4().hex
    replies = chat.exchange(session, {"message": message, "session_id": session},
                            answer_expected=True)

    check_polite_reply(replies)
    fuzz_log.record("socketio", 200, None, chat.last_seconds)


@fuzz_settings(20)
@given(data=st.one_of(
    json_values,
    st.fixed_dictionaries({"message": st.one_of(short_text, json_values),
                           "session_id": st.one_of(json_values, short_text,
                                                   st.just("x" * 100_000))}),
))
@example(data=None)
@example(data=["user_uttered"])
@example(data={"message": "開示", "session_id": "\ud800"})
@example(data={"message": "開示", "session_id": "a\x00b"})
@example(data={"message": "開示", "session_id": 12345})
@example(data={"message": {"text": "開示"}, "session_id": "../../x"})
def test_malformed_data_is_dropped_and_breaks_nothing(
    servers: Servers, chat: ChatClient, fuzz_log: FuzzLog, data: Any
) -> None:
    chat.exchange(uuid.uuid4().hex, data, answer_expected=False)
    # socket.io has no status: 0, and no reply is awaited (the time includes a 0.2 s pause).
    fuzz_log.record("socketio", 0, "malformed", chat.last_seconds)

    given_id = data.get("session_id") if isinstance(data, dict) else None
    # An unusable id that still goes into a URL as it is: Rasa must have no conversation for it.
    if not valid_sender(given_id) and isinstance(given_id, str) \
            and re.fullmatch(r"[!-~]{1,300}", given_id) and not set("/?#%") & set(given_id):
        assert user_events(servers, given_id) == []
