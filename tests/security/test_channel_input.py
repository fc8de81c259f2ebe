"""Issue 15, items 1, 13 and 14b: what the customer channel does with hostile input.

- A message just under the body limit is cut before it is masked, and answered (not 500).
- A command nested 100,000 deep is words, not a RecursionError; noncharacters never arrive.
- A client that goes away mid-turn leaves no message text (phone, e-mail) in rasa.log.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from madoguchi.rasa_adapters.channels import MAX_BODY_BYTES, MAX_MESSAGE_CHARS
from tests.e2e.conftest import Servers, new_sender, session_token
from tests.security.conftest import WEBHOOK, post_message, user_texts

CUT_MARK = "…（以下省略）"


def test_a_message_just_under_the_body_limit_is_answered_with_its_text_cut(
    servers: Servers,
) -> None:
    sender = new_sender()
    message = "個人情報を開示してほしい。" + "あ" * 630_000  # 1.9 MB of UTF-8
    body = json.dumps({"sender": sender, "message": message,
                       "session_token": session_token(sender)}, ensure_ascii=False).encode()
    assert 1_800_000 < len(body) < MAX_BODY_BYTES

    started = time.monotonic()
    response = requests.post(servers.rasa_url + WEBHOOK, data=body, timeout=120)

    assert response.status_code == 200, response.text[:300]
    assert response.json(), "no reply"
    assert time.monotonic() - started < 30
    stored = user_texts(servers, sender)
    assert len(stored) == 1 and stored[0].endswith(CUT_MARK)
    assert len(stored[0]) == MAX_MESSAGE_CHARS + len(CUT_MARK)


def test_a_card_number_across_the_cut_is_still_masked(servers: Servers) -> None:
    sender = new_sender()
    message = "あ" * (MAX_MESSAGE_CHARS - 8) + " 4111 1111 1111 1111 " + "い" * 10_000

    response = post_message(servers, sender, message)

    assert response.status_code == 200
    assert "1111" not in user_texts(servers, sender)[0]


def test_a_command_nested_100000_deep_is_read_as_words(servers: Servers) -> None:
    sender = new_sender()
    nested = "/greet" + '{"a":' * 100_000 + "1" + "}" * 100_000

    response = post_message(servers, sender, nested)

    assert response.status_code == 200, response.text[:300]
    assert user_texts(servers, sender)[0].startswith("／greet")


@pytest.mark.parametrize("noncharacter", ["\uffff", "\ufffe", "\ufdd0", "\U0010ffff"])
def test_noncharacters_never_reach_the_tracker(servers: Servers, noncharacter: str) -> None:
    sender = new_sender()

    response = post_message(servers, sender, f"開示{noncharacter}してください")

    assert response.status_code == 200
    assert user_texts(servers, sender) == ["開示してください"]


def test_a_client_that_goes_away_mid_turn_leaves_no_words_in_the_log(servers: Servers) -> None:
    phone, mail = "090-7365-2210", "taro.leak.check@example.jp"
    sender = new_sender()
    message = (f"電話は{phone}、メールは{mail}です。開示してください。"
               + "よろしくお願いします。" * 300)
    body = json.dumps({"sender": sender, "message": message,
                       "session_token": session_token(sender)}, ensure_ascii=False).encode()
    host, port = servers.rasa_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(b"POST " + WEBHOOK.encode() + b" HTTP/1.1\r\nHost: " + host.encode()
                       + b"\r\nContent-Type: application/json\r\nContent-Length: "
                       + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.1)  # the turn has begun; the customer closes the tab
    time.sleep(8)  # the turn is cancelled or finishes; either way Rasa has logged by now

    log = servers.rasa.log_path.read_text(encoding="utf-8", errors="replace")
    assert phone not in log and mail not in log
