"""Property-based fuzz of the customer-facing REST webhook, through the real Rasa server.

Whatever arrives at `POST /webhooks/rest/webhook`:
- the answer is never a 5xx, and the server keeps answering (a health check after each test);
- what is refused gets a 4xx JSON `{"error": reason, "detail": polite Japanese (English)}`, the
  reason being one of `REASONS` (what each means:
  `madoguchi.rasa_adapters.channels.webhook_payload`);
- what is accepted gets a reply in polite Japanese, and what the tracker store keeps of the
  message has no control characters or lone surrogates and is at most 5,000 characters (+ mark).

Inputs: random Unicode (emoji, RTL, half-width kana, combining marks, lone surrogates escaped in
the JSON, noncharacters such as U+FFFF), control characters and NUL, 100 KB messages and 1.9 MB
bodies, commands with JSON nested 100,000 deep, invalid JSON, wrong types and missing fields,
sender ids of any shape up to 100 KB, binary bodies, and any Content-Type. A message is sent
with the session token of its sender (`session_token`), as the chat does; without it the
answer is 403 `session_invalid` (tests/security/test_sessions.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from typing import Any

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from madoguchi.rasa_adapters.channels import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, MAX_SENDER_CHARS
from madoguchi.text.characters import is_noncharacter
from tests.e2e.conftest import Servers, api_auth, session_token
from tests.fuzz.conftest import FuzzLog, fuzz_settings

pytestmark = [pytest.mark.server]

WEBHOOK = "/webhooks/rest/webhook"
REASONS = {
    "too_large", "invalid_json", "not_an_object", "sender_missing", "sender_not_text",
    "sender_too_long", "sender_invalid_characters", "message_missing", "message_not_text",
    "metadata_not_object", "input_channel_invalid", "session_invalid", "too_many_messages",
    "too_many_from_address",
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
POLITE = re.compile(r"です|ます|ません|ください|ございます")
CUT_MARK = "…（以下省略）"
CITATION = "出典: "

# --- what customers (and everything else) send ------------------------------------------------

# Pieces real customers and odd clients produce, mixed into random Unicode.
PIECES = [
    "個人情報を開示してほしい", "ﾒｰﾙﾏｶﾞｼﾞﾝを止めて", "ﾃﾞｰﾀ", "ｶﾞｷﾞｸﾞ", "😀", "🙏🏻", "👨‍👩‍👧",
    "🇯🇵", "مرحبا بالعالم", "שלום", "\u202eevil\u202c", "e\u0301", "か\u3099", "Z\u0336\u0335",
    "\u200b", "\u200d", "\ufeff", "\u3000", "\r\n", "\t", "\x00", "\x07", "\x1b[31m", "\x7f",
    "\u2028", "\ud800", "\udfff", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "４１１１ １１１１ １１１１ １１１１", "{{7*7}}", "'; DROP TABLE events; --", "/restart",
    "/request_disclosure", "%s%n", "../../etc/passwd", "\uffff", "\ufffe", "\ufdd0",
    "\U0010ffff", '/greet{"a":{"b":', '/deny{"fix_slot": "phone"}',
    # Numbers and addresses however typed (issue 15, item 4): the gate's loose forms.
    "4111.1111.1111.1111", "4111_1111_1111_1111", "4111\n1111\n1111\n1111", "41111111 11111111",
    "411 111 111 111 1111", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "四一一一一一一一一一一一一一一一",
    "一二三四五六七八九〇一八", "090.1234.5678", "日本語@例え.jp", "user@bücher.de",
    "［電話番号#a1b2c3d4］", "［氏名#zzzzzz］",
    # Names and addresses in free text, and what only looks like them.
    "佐藤花子と申します", "名前は山田です", "氏名：山田太郎", "山田です。", "個人情報と申します",
    "大阪府大阪市北区梅田三丁目1-2", "東京都の条例", "市" * 500 + "1丁目", "第2号",
]
NESTED_COMMAND = "/greet" + '{"a":' * 100_000 + "1" + "}" * 100_000
NEAR_THE_BODY_LIMIT = "開示" + "a" * 1_900_000  # a 1.9 MB body
characters = st.one_of(
    st.characters(),  # any code point Hypothesis likes, surrogates excluded …
    st.characters(categories=["Cs"]),  # … so lone surrogates on their own
    st.characters(categories=["Cc"]),  # control characters, NUL included
    st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),  # half-width katakana
    st.characters(categories=["Mn", "Me"]),  # combining marks
)
short_text = st.lists(st.one_of(st.text(characters, max_size=30), st.sampled_from(PIECES)),
                      max_size=8).map("".join)
# About 100 KB: a random unit repeated.
huge_text = st.builds(lambda unit: (unit * (100_000 // len(unit) + 1))[:100_000],
                      st.text(characters, min_size=1, max_size=12))
messages = st.one_of(short_text, short_text, short_text, short_text, short_text, huge_text)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | short_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(short_text, inner, max_size=4),
    max_leaves=12,
)
senders = st.one_of(
    st.text(st.sampled_from("abcXYZ019-._~"), min_size=1, max_size=MAX_SENDER_CHARS),
    short_text,
    st.just("x" * 100_000),
    st.text(characters, min_size=MAX_SENDER_CHARS + 1, max_size=MAX_SENDER_CHARS + 40),
    json_values,
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "text/plain",
    "application/x-www-form-urlencoded", "application/octet-stream", "multipart/form-data",
    "text/html; charset=shift_jis", "", "ç/ü",
])


def body_of(value: Any) -> bytes:
    """JSON as a careful client writes it: non-ASCII and lone surrogates as \\u escapes."""
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def fresh_sender() -> str:
    return f"fuzz-{uuid.uuid4().hex}"


# --- checking what came back ------------------------------------------------------------------


def post(servers: Servers, body: bytes, content_type: str | None = "application/json",
         ) -> requests.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    return requests.post(servers.rasa_url + WEBHOOK, data=body, headers=headers, timeout=120)


def check_answer(
    response: requests.Response, log: FuzzLog, servers: Servers | None = None,
    sent: Any = None,
) -> str | None:
    """The common properties; the refusal's reason, or None when the message was accepted."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    if response.status_code >= 400:
        assert response.status_code in (400, 403, 413, 429), response.status_code
        assert isinstance(payload, dict) and payload["error"] in REASONS, payload
        assert payload["status"] == response.status_code
        assert JAPANESE.search(payload["detail"]) and POLITE.search(payload["detail"]), payload
        log.record("webhook", response.status_code, payload["error"],
                   response.elapsed.total_seconds())
        return payload["error"]
    assert response.status_code == 200
    if not (payload == [] and servers is not None and silence_expected(servers, sent)):
        check_polite_reply(payload)
    log.record("webhook", 200, None, response.elapsed.total_seconds())
    return None


# Rasa's own commands: they start the conversation afresh and say nothing, by Rasa's design.
SILENT_COMMANDS = re.compile(r"\s*/(restart|session_start)\s*")


def silence_expected(servers: Servers, sent: Any) -> bool:
    """An empty reply is right after a Rasa command, or while an operator has the conversation."""
    if not isinstance(sent, dict) or not isinstance(sent.get("sender"), str):
        return False
    text = "".join(ch for ch in str(sent.get("message")) if unicodedata.category(ch) not in
                   {"Cc", "Cs"})
    return bool(SILENT_COMMANDS.fullmatch(text)) or servers.tracker(sent["sender"])["paused"]


def check_polite_reply(reply: Any) -> None:
    """Japanese, and polite: in the assistant's own words, or the notice quoted with its source."""
    assert isinstance(reply, list) and reply, reply
    texts = [m.get("text") or "" for m in reply]
    assert all(JAPANESE.search(t) for t in texts if t), texts
    joined = "\n".join(texts)
    assert POLITE.search(joined) or CITATION in joined, texts


def check_stored(servers: Servers, sender: str) -> None:
    """What the tracker store keeps of the customer's words is clean and bounded."""
    said = [e.get("text") or "" for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    for text in said:
        assert not any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in text if ch not in "\n\t")
        assert not any(is_noncharacter(ch) for ch in text)
        assert len(text) <= MAX_MESSAGE_CHARS + len(CUT_MARK)


@pytest.fixture(autouse=True)
def still_alive_afterwards(servers: Servers) -> Any:
    """After each batch the server still answers, and a plain question still gets its answer."""
    yield
    assert requests.get(servers.rasa_url + "/status", headers=api_auth(),
                        timeout=30).status_code == 200
    reply = servers.say(fresh_sender(), "個人情報の利用目的を教えてください")
    check_polite_reply(reply)


# --- the properties ---------------------------------------------------------------------------


@fuzz_settings(12)
@given(message=messages, content_type=content_types)
@example(message="\x00\x01\x02", content_type="application/json")
@example(message="\ud800\udfff壊れた文字", content_type="application/json")
@example(message="ﾃﾞｰﾀを消してほしい🙏" * 7000, content_type="text/plain")
@example(message=NESTED_COMMAND, content_type="application/json")
@example(message=NEAR_THE_BODY_LIMIT, content_type="application/json")
@example(message="開示\uffff\ufdd0してください", content_type="application/json")
def test_any_message_text_gets_a_polite_reply(
    servers: Servers, fuzz_log: FuzzLog, message: str, content_type: str
) -> None:
    sender = fresh_sender()
    sent = {"sender": sender, "message": message, "session_token": session_token(sender)}
    response = post(servers, body_of(sent), content_type)

    assert check_answer(response, fuzz_log, servers, sent) is None
    check_stored(servers, sender)


@fuzz_settings(40)
@given(payload=json_values, content_type=content_types)
@example(payload=None, content_type="application/json")
@example(payload=[{"sender": "a", "message": "b"}], content_type="application/json")
@example(payload={"message": "開示してください"}, content_type="application/json")
@example(payload={"sender": 42, "message": "開示"}, content_type="application/json")
@example(payload={"sender": "a", "message": None}, content_type="application/json")
@example(payload={"sender": "a", "message": ["開示"]}, content_type="application/json")
@example(payload={"sender": "a", "message": "開示", "metadata": "x"}, content_type="text/plain")
@example(payload={"sender": "a", "message": "開示", "input_channel": {}},
         content_type="application/json")
def test_any_json_value_is_answered_or_refused_clearly(
    servers: Servers, fuzz_log: FuzzLog, payload: Any, content_type: str
) -> None:
    check_answer(post(servers, body_of(payload), content_type), fuzz_log, servers, payload)


@fuzz_settings(25)
@given(sender=senders, message=st.one_of(short_text, json_values))
@example(sender="x" * 100_000, message="開示してください")
@example(sender="\ud800", message="開示してください")  # once took the whole server down
@example(sender="a\x00b", message="開示してください")
@example(sender="../../a?b#c", message="開示してください")
@example(sender="", message="開示してください")
def test_any_sender_id_is_answered_or_refused_clearly(
    servers: Servers, fuzz_log: FuzzLog, sender: Any, message: Any
) -> None:
    sent = {"sender": sender, "message": message,
            "session_token": session_token(sender) if isinstance(sender, str) else None}
    reason = check_answer(post(servers, body_of(sent)), fuzz_log, servers, sent)

    if reason is None:
        assert isinstance(sender, str) and re.fullmatch(r"[A-Za-z0-9._~-]{1,128}", sender)
        check_stored(servers, sender)


@fuzz_settings(40)
@given(body=st.one_of(
    st.binary(max_size=2000),
    st.text(characters, max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"{", b'{"sender": "a", "message": "x"', b"[" * 100_000,
                     b'{"sender": "a", "message": "\xff\xfe"}', b"\xef\xbb\xbf{}",
                     b"sender=a&message=b", b'{"sender": "a", "message": "x"}' * 2]),
), content_type=st.one_of(st.none(), content_types))
def test_any_bytes_are_answered_or_refused_clearly(
    servers: Servers, fuzz_log: FuzzLog, body: bytes, content_type: str | None
) -> None:
    check_answer(post(servers, body, content_type), fuzz_log)


# --- the rules, one example each (what the README promises) ---------------------------------


@pytest.mark.parametrize(("body", "status", "reason"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", 400, "invalid_json"),
    (b'{"sender": "a", ', 400, "invalid_json"),
    (b'["a", "b"]', 400, "not_an_object"),
    (body_of({"message": "開示してください"}), 400, "sender_missing"),
    (body_of({"sender": 7, "message": "開示してください"}), 400, "sender_not_text"),
    (body_of({"sender": "a" * 100_000, "message": "開示"}), 400, "sender_too_long"),
    (body_of({"sender": "山田", "message": "開示"}), 400, "sender_invalid_characters"),
    (b'{"sender": "a"}', 400, "message_missing"),
    (b'{"sender": "a", "message": 3}', 400, "message_not_text"),
    (b'{"sender": "a", "message": "x", "metadata": []}', 400, "metadata_not_object"),
    (body_of({"sender": "a", "message": "x" * MAX_BODY_BYTES}), 413, "too_large"),
    (body_of({"sender": "a", "message": "開示"}), 403, "session_invalid"),
    (body_of({"sender": "a", "message": "開示", "session_token": session_token("b")}), 403,
     "session_invalid"),
])
def test_what_is_refused_and_why(
    servers: Servers, fuzz_log: FuzzLog, body: bytes, status: int, reason: str
) -> None:
    response = post(servers, body)

    assert (response.status_code, response.json()["error"]) == (status, reason)
    check_answer(response, fuzz_log)


def test_a_refused_request_leaves_no_conversation(servers: Servers) -> None:
    sender = fresh_sender()
    assert post(servers, body_of({"sender": sender, "message": 1})).status_code == 400

    assert [e for e in servers.tracker(sender)["events"] if e["event"] == "user"] == []


def test_json_is_read_whatever_the_content_type(servers: Servers, fuzz_log: FuzzLog) -> None:
    # `curl -d` sends application/x-www-form-urlencoded; the README's example must work.
    sender = fresh_sender()
    body = body_of({"sender": sender, "message": "個人情報を開示してほしい",
                    "session_token": session_token(sender)})
    for content_type in ("application/x-www-form-urlencoded", "text/plain", None):
        assert check_answer(post(servers, body, content_type), fuzz_log) is None
