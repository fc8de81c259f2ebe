"""The web chat and the desk work unchanged through the balancer.

The customer's socket.io connection is held by one replica; the desk's calls land on any
replica (round robin). An operator's message must still reach the customer's chat: the replicas
share socket.io rooms through Redis.
"""

from __future__ import annotations

import queue
import uuid

import pytest

from madoguchi.desk.rasa import RasaClient
from madoguchi.runtime.drills import REFERENCE
from madoguchi.runtime.launcher import run_secrets
from madoguchi.runtime.scale import Cluster

pytestmark = pytest.mark.scale


def test_operator_messages_reach_the_web_chat_whichever_replica_sends_them(
        scale: Cluster) -> None:
    import socketio

    received: queue.Queue[dict] = queue.Queue()
    session = uuid.uuid4().hex
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", received.put)
    confirmed: queue.Queue[str] = queue.Queue()
    client.on("session_confirm", confirmed.put)
    client.connect(scale.rasa_url, socketio_path="/socket.io", wait_timeout=30)
    try:
        client.emit("session_request", {"session_id": session})
        session = confirmed.get(timeout=30)  # issued by the server, not the one asked for

        client.emit("user_uttered", {"message": "担当者と話したい", "session_id": session})
        texts = [received.get(timeout=60)["text"]]
        while not any(REFERENCE.search(t) for t in texts):
            texts.append(received.get(timeout=60).get("text", ""))

        desk = RasaClient(scale.rasa_url, run_secrets().rasa_token, timeout=30)
        words = [f"担当の佐藤です。{i}回目のご連絡です。" for i in range(4)]
        for text in words:  # round robin: both replicas send some of them
            desk.append_event(session, {"event": "bot", "text": text,
                                        "metadata": {"operator": "sato"}}, deliver=True)
        got = []
        while len(got) < len(words):
            message = received.get(timeout=30)
            if message.get("text") in words:
                got.append(message["text"])
        assert got == words
    finally:
        client.disconnect()
