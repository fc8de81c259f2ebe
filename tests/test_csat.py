"""CSAT as stored (issue 17, item 4): asked once per conversation, one rating of 1–5, one
optional comment kept masked, with the conversation's ticket and operator; and the supervisor's
figures built on it (CSAT by request type, operator and week, containment, service levels).

On the real database (SQLite and PostgreSQL: tests/conftest.py's db_sessions); the chat side
runs through the real Rasa in tests/browser/test_assist_and_csat.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from madoguchi.infra.db import write_session
from madoguchi.review.csat import (
    ALREADY_COMMENTED,
    ALREADY_RATED,
    NOT_RATED,
    OUT_OF_RANGE,
    CsatBook,
    CsatError,
    CsatSurvey,
    parse_score,
    question_texts,
)
from madoguchi.review.quality import figure_rows, quality
from madoguchi.tickets import ServiceTarget, TicketDraft, TicketService

JST = timezone(timedelta(hours=9))


@pytest.fixture
def book(db_sessions) -> CsatBook:
    return CsatBook(db_sessions)


def _count(sessions) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(CsatSurvey)).scalar_one()


def test_the_question_is_put_once_per_conversation(book: CsatBook, db_sessions) -> None:
    assert book.ask("c1", "goodbye", ticket_reference="PRV-20261125-0001", operator="hanako",
                    request_types=["disclosure"]) is True
    assert book.ask("c1", "handback") is False  # a second ending asks nothing
    assert book.ask("c2", "thanks") is True
    survey = book.get("c1")
    assert (survey.trigger, survey.operator, survey.request_types) == (
        "goodbye", "hanako", ["disclosure"])
    assert _count(db_sessions) == 2
    with pytest.raises(ValueError):
        book.ask("c3", "because")


def test_a_rating_is_stored_once_and_a_second_is_refused(book: CsatBook) -> None:
    book.ask("c1", "resolved")
    assert book.rate("c1", 4).score == 4
    with pytest.raises(CsatError) as refused:
        book.rate("c1", 5)
    assert refused.value.reason == ALREADY_RATED
    assert book.get("c1").score == 4


@pytest.mark.parametrize("score", [0, 6, -1, 4.5, "9", "five", None, True, [], "１０"])
def test_a_rating_out_of_range_is_refused_and_nothing_stored(book: CsatBook, score) -> None:
    book.ask("c1", "goodbye")
    with pytest.raises(CsatError) as refused:
        book.rate("c1", score)
    assert refused.value.reason == OUT_OF_RANGE
    assert "1" in str(refused.value) and "5" in str(refused.value)
    assert book.get("c1").score is None


def test_scores_as_buttons_and_clients_send_them() -> None:
    assert [parse_score(v) for v in (1, "5", "４", 3.0, " 2 ")] == [1, 5, 4, 3, 2]


def test_a_rating_nobody_asked_for_counts_as_asked_by_the_customer(book: CsatBook) -> None:
    assert book.rate("c9", "5").score == 5
    assert book.get("c9").trigger == "customer"


def test_the_comment_is_masked_like_every_customer_text_and_taken_once(book: CsatBook) -> None:
    with pytest.raises(CsatError) as early:
        book.comment("c1", "とても丁寧でした")
    assert early.value.reason == NOT_RATED
    book.ask("c1", "goodbye")
    book.rate("c1", 2)
    said = "遅かったです。電話は090-1234-5678、カードは4111 1111 1111 1111です"
    stored = book.comment("c1", said).comment
    assert "090-1234-5678" not in stored and "4111" not in stored
    assert "［電話番号" in stored and stored.startswith("遅かったです。")
    with pytest.raises(CsatError) as twice:
        book.comment("c1", "もう一つ")
    assert twice.value.reason == ALREADY_COMMENTED
    assert book.get("c1").comment == stored


def test_a_comment_keeps_the_label_of_a_placeholder_and_not_its_id(book: CsatBook) -> None:
    # What the chat channel hands over: contact data as placeholders with an id.
    book.ask("c1", "goodbye")
    book.rate("c1", 3)
    said = "折り返しは［電話番号#a78465e3］に。メールは［メールアドレス#0f1e2d3c］です"
    stored = book.comment("c1", said).comment
    assert stored == "折り返しは［電話番号］に。メールは［メールアドレス］です"


def test_words_that_mean_no_comment() -> None:
    texts = question_texts()
    assert texts.is_skip("コメントなし") and texts.is_skip("特にありません。") and texts.is_skip("")
    assert not texts.is_skip("説明がわかりやすかったです")


# --- the figures -----------------------------------------------------------------------------

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=timezone.utc)  # Thursday 12:00 JST


def _ticket(db_sessions, created: datetime, types: list[str], conversation: str):
    service = TicketService(db_sessions, service_target=ServiceTarget(business_days=3),
                            clock=lambda: created)
    return service.create(TicketDraft(request_types=types, conversation_id=conversation))


def _at(db_sessions, moment: datetime) -> TicketService:
    return TicketService(db_sessions, service_target=ServiceTarget(business_days=3),
                         clock=lambda: moment)


def test_figures_give_csat_by_type_operator_and_week_and_the_service_levels(
    db_sessions, book: CsatBook
) -> None:
    this_week = NOW - timedelta(days=1)  # Wednesday
    last_week = NOW - timedelta(days=8)
    a = _ticket(db_sessions, this_week, ["marketing_optout"], "conv-a")
    _at(db_sessions, this_week + timedelta(minutes=4)).claim(a.reference, "hanako")
    _at(db_sessions, this_week + timedelta(minutes=10)).record_message(a.reference, "hanako",
                                                                        "担当の花子です")
    _at(db_sessions, this_week + timedelta(hours=2)).transition(a.reference, "resolved", "hanako")
    b = _ticket(db_sessions, last_week, ["correction"], "conv-b")
    _at(db_sessions, last_week + timedelta(minutes=30)).claim(b.reference, "taro")
    # b is still open, long after its due date: a missed target.

    for conversation, ticket, operator, types, score, when in [
        ("conv-a", a.reference, "hanako", ["marketing_optout"], 5, this_week),
        ("conv-b", b.reference, "taro", ["correction"], 2, last_week),
        ("conv-c", None, None, [], 4, this_week),
    ]:
        book.ask(conversation, "goodbye", ticket_reference=ticket, operator=operator,
                 request_types=types)
        book.rate(conversation, score)
        with write_session(db_sessions) as session:  # when the customer rated
            survey = session.execute(select(CsatSurvey).where(
                CsatSurvey.conversation_id == conversation)).scalar_one()
            survey.rated_at = survey.asked_at = when
    book.comment("conv-b", "返事が遅い")

    with db_sessions() as session:
        q = quality(session, NOW)
    assert q["this_week"]["csat"]["ratings"] == 2 and q["this_week"]["csat"]["average"] == 4.5
    assert q["today"]["csat"]["ratings"] == 0
    weeks = {w["week"]: w for w in q["weeks"]}
    assert len(q["weeks"]) == 8
    assert weeks["2026-11-23"]["csat"]["average"] == 4.5
    assert weeks["2026-11-16"]["csat"]["average"] == 2.0
    by_type = {g["name"]: g["average"] for g in q["csat_by_request_type"]}
    assert by_type == {"marketing_optout": 5.0, "correction": 2.0, "none": 4.0}
    by_operator = {g["name"]: g["ratings"] for g in q["csat_by_operator"]}
    assert by_operator == {"hanako": 1, "taro": 1, "bot": 1}
    assert [w["conversation_id"] for w in q["worst_rated"]] == ["conv-b"]
    assert q["worst_rated"][0]["comment"] == "返事が遅い"

    service = q["this_week"]["service"]
    assert (service["handoffs"], service["minutes_to_claim"],
            service["minutes_to_first_response"], service["hours_to_decision"]) == (1, 4.0, 10.0,
                                                                                   2.0)
    assert service["within_target"] == 1.0
    earlier = weeks["2026-11-16"]["service"]
    assert (earlier["minutes_to_claim"], earlier["within_target"], earlier["missed_target"]) == (
        30.0, 0.0, 1)

    rows = figure_rows(q)
    assert {"today", "this_week", "week", "request_type", "operator"} == {
        r["period"] for r in rows}
    assert {"period": "operator", "name": "taro", "ratings": 1, "csat_average": 2.0,
            "csat_satisfied": 0.0} in rows
