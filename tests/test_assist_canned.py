"""Canned replies as data: filled from the ticket, never sent blank, searched with `/`."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from madoguchi.assist.canned import (
    PLACEHOLDERS,
    CannedError,
    CannedReply,
    fill,
    for_sections,
    load_replies,
    parse_replies,
    search,
)
from madoguchi.notice import load_notice

ROOT = Path(__file__).resolve().parents[1]
REPLIES = ROOT / "data" / "desk" / "canned_replies.yml"
NOTICE = (ROOT / "data" / "notice" / "privacy_notice_ja.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def replies() -> tuple[CannedReply, ...]:
    return load_replies(REPLIES)


def by_id(replies: tuple[CannedReply, ...], reply_id: str) -> CannedReply:
    return next(r for r in replies if r.id == reply_id)


TICKET = {
    "reference": "PRV-20261125-0007",
    "customer_name": "山田花子",
    "request_types": ["disclosure", "correction"],
    "due_at": datetime(2026, 11, 26, 20, 0, tzinfo=timezone.utc),  # 27 Nov in Japan
    "assignee": "hanako",
    "details": {"marketing_optout": {"channels": ["post", "email"]},
                "third_party_stop": {"recipients": ["Google", "LINE"]},
                "correction": {"item": "住所"}},
}


def test_the_file_has_at_least_15_replies_with_unique_ids(
        replies: tuple[CannedReply, ...]) -> None:
    assert len(replies) >= 15
    assert len({r.id for r in replies}) == len(replies)


def test_every_reply_is_polite_and_names_only_real_sections(
        replies: tuple[CannedReply, ...]) -> None:
    notice = load_notice(ROOT / "data" / "notice")
    for reply in replies:
        assert re.search(r"(です|ます|ください|ございます|ません)。", reply.body), reply.id
        assert all(s in notice for s in reply.sections), reply.id


def test_replies_say_what_the_notice_says(replies: tuple[CannedReply, ...]) -> None:
    squeezed = "".join(NOTICE.split())
    assert "手数料が必要となる場合" in by_id(replies, "fee").body
    assert not re.search(r"\d+円", by_id(replies, "fee").body)
    hours = by_id(replies, "hours").body
    for fact in ("午前9時から午後9時", "0120-000123", "0570-000111"):
        assert fact in hours and fact in squeezed
    procedure = by_id(replies, "procedure").body
    for step in ("請求用紙", "公的機関発行の証明書", "ご郵送"):
        assert step in procedure
    assert "速やかに" in by_id(replies, "dm_stop").body
    assert "申し訳ございません" in by_id(replies, "complaint_apology").body
    assert "お電話番号" in by_id(replies, "verify_phone").body


def test_placeholders_are_filled_from_the_ticket(replies: tuple[CannedReply, ...]) -> None:
    filled = fill(by_id(replies, "request_received"), TICKET)
    assert filled.complete and filled.missing == ()
    assert "山田花子様" in filled.text
    assert "PRV-20261125-0007" in filled.text
    assert "2026年11月27日" in filled.text
    assert "開示" in filled.text and "訂正" in filled.text
    dm = fill(by_id(replies, "dm_stop"), TICKET).text
    assert "郵便物" in dm and "電子メール" in dm
    assert "Google、LINE" in fill(by_id(replies, "third_party_stop"), TICKET).text
    assert "hanako" in fill(by_id(replies, "closing"), TICKET).text


def test_a_missing_placeholder_stays_visible_and_is_reported(
        replies: tuple[CannedReply, ...]) -> None:
    filled = fill(by_id(replies, "greeting"), {"operator_name": "佐藤"})
    assert filled.text.startswith("{customer_name}様")
    assert filled.missing == ("customer_name",)
    assert not filled.complete
    blank = fill(by_id(replies, "request_received"), {"customer_name": "  ", "reference": ""})
    assert "{customer_name}" in blank.text and "{reference}" in blank.text
    assert set(blank.missing) == {"customer_name", "reference", "request_type", "due_date"}


def test_an_unknown_placeholder_is_a_load_error_naming_reply_and_placeholder(
        tmp_path: Path) -> None:
    raw = yaml.safe_load(REPLIES.read_text(encoding="utf-8"))
    raw["replies"][3]["body"] += "\n{customer_nmae}様"
    path = tmp_path / "canned_replies.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CannedError) as err:
        load_replies(path)
    assert raw["replies"][3]["id"] in str(err.value)
    assert "{customer_nmae}" in str(err.value)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"replies": [{"id": "a", "title": "t", "body": "b", "sections": ["9"]}]}, ["'a'", "9"]),
        ({"replies": [{"id": "a", "title": "t", "body": "b"}, {"id": "a", "title": "t",
                                                              "body": "b"}]}, ["twice"]),
        ({"replies": [{"id": "a", "title": "t"}]}, ["body"]),
        ({"nothing": []}, ["replies"]),
    ],
)
def test_other_mistakes_in_the_file_are_load_errors(raw: dict, words: list[str]) -> None:
    with pytest.raises(CannedError) as err:
        parse_replies(raw)
    assert all(w in str(err.value) for w in words)


def test_literal_braces_are_allowed_and_every_known_placeholder_parses() -> None:
    body = "{{注意}} " + " ".join("{" + p + "}" for p in PLACEHOLDERS)
    (reply,) = parse_replies({"replies": [{"id": "x", "title": "t", "body": body}]})
    assert fill(reply, {}).text.startswith("{注意}")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("/DM", "dm_stop"), ("/ｄｍ", "dm_stop"), ("/手数料", "fee"), ("/てすうりょう", "fee"),
     ("/ダイリ", "agent"), ("/だいり", "agent"), ("/hours", "hours"), ("/受付時間", "hours"),
     ("/カード", "no_card_number"), ("/くじょう", "complaint_apology"), ("/clo", "closing")],
)
def test_slash_search_finds_by_id_title_tags_and_reading(query: str, expected: str) -> None:
    assert search(query)[0].id == expected


def test_search_puts_prefix_matches_first_and_lists_all_for_an_empty_query(
        replies: tuple[CannedReply, ...]) -> None:
    assert [r.id for r in search("/")] == [r.id for r in replies]
    assert search("/zzzz") == []
    ids = [r.id for r in search("/苦情")]
    assert ids[:2] == ["complaint_apology", "complaint_follow_up"]


def test_replies_go_with_the_best_passage() -> None:
    assert for_sections(["5"])[0].id == "dm_stop"
    assert for_sections(["7"])[0].id in {"hours", "complaint_apology"}
    assert "fee" in [r.id for r in for_sections(["4.2", "4"])][:4]
    assert for_sections([]) == []
