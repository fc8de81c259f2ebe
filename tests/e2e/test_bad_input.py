"""Bad input gets a clear answer and breaks nothing (through the real servers)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Servers, texts


@pytest.mark.parametrize("blank", ["", "   ", "\u3000\u3000", "\n\t", "\x00\x01"])
def test_a_blank_message_is_answered_and_not_logged(
    servers: Servers, sender: str, blank: str
) -> None:
    reply = texts(servers.say(sender, blank))

    assert "メッセージが空" in reply
    users = [e for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert users == []


@pytest.mark.parametrize("text", ["", "  ", "😀", "<script>alert(1)</script>", "ﾃﾞｰﾀ"])
def test_the_parse_api_answers_any_text(servers: Servers, text: str) -> None:
    parsed = servers.parse(text)

    assert "intent" in parsed and parsed["text"].strip() == text.strip()


def test_html_is_kept_as_text_in_the_log(servers: Servers, sender: str) -> None:
    servers.say(sender, "<b>開示</b>してください<script>alert(1)</script>")

    said = [e["text"] for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert said == ["<b>開示</b>してください<script>alert(1)</script>"]


def test_a_huge_message_is_cut_and_still_answered(servers: Servers, sender: str) -> None:
    reply = servers.say(sender, "個人情報を開示してほしい。" * 8000)  # about 100 KB

    assert reply
    said = [e["text"] for e in servers.tracker(sender)["events"] if e["event"] == "user"]
    assert len(said[-1]) <= 5100 and said[-1].endswith("（以下省略）")


def test_half_width_katakana_and_emoji_are_understood(servers: Servers, sender: str) -> None:
    servers.say(sender, "ﾒｰﾙﾏｶﾞｼﾞﾝとｶﾀﾛｸﾞの送付を止めてください🙏")

    assert servers.slot(sender, "request_types") == ["marketing_optout"]
