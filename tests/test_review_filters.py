"""The conversation list's filters, each on real tracker events (Rasa's SQLTrackerStore),
on SQLite and PostgreSQL; the projector reads new events incrementally."""

from __future__ import annotations

from datetime import timedelta

import pytest

from madoguchi.infra import db
from madoguchi.review import filters as flt
from madoguchi.review.service import SupervisorReview
from madoguchi.tickets import InvalidField
from tests.test_review_support import (
    JST,
    bot,
    fixed_now,
    save,
    start,
    tracker_store,
    ts,
    user,
    write_scenarios,
)

NOW = fixed_now()


@pytest.fixture
def review(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    write_scenarios(db_url, NOW)
    service = SupervisorReview(engine, db.session_factory(engine))
    yield service
    engine.dispose()


def ids(review: SupervisorReview, **params: str) -> set[str]:
    result = review.list(flt.parse_filters(params), limit=100)
    assert result["total"] == len(result["conversations"])
    return {c["id"] for c in result["conversations"]}


ALL = {"fallback-yesterday", "disclosure-today", "notice-earlier", "handoff-today",
       "optout-yesterday"}


def test_without_filters_every_conversation_newest_first(review):
    result = review.list(flt.parse_filters({}))
    order = [c["id"] for c in result["conversations"]]
    assert set(order) == ALL
    assert order[-1] == "notice-earlier"
    starts = [c["started_at"] for c in result["conversations"]]
    assert starts == sorted(starts, reverse=True)


def test_time_range_by_jst_days(review):
    yesterday = (NOW.astimezone(JST) - timedelta(days=1)).date().isoformat()
    assert ids(review, since=yesterday, until=yesterday) == {"fallback-yesterday",
                                                             "optout-yesterday"}
    assert ids(review, since=yesterday) == ALL - {"notice-earlier"}
    assert ids(review, until=yesterday) == {"fallback-yesterday", "optout-yesterday",
                                           "notice-earlier"}


def test_intent_request_type_and_section(review):
    assert ids(review, intent="request_disclosure") == {"disclosure-today"}
    assert ids(review, intent="nlu_fallback") == {"fallback-yesterday"}
    assert ids(review, request_type="marketing_optout") == {"optout-yesterday"}
    assert ids(review, section="2") == {"notice-earlier"}
    assert ids(review, notice_section="5") == {"optout-yesterday"}


def test_handed_off_or_not(review):
    assert ids(review, handoff="true") == {"disclosure-today", "handoff-today"}
    assert ids(review, handoff="false") == ALL - {"disclosure-today", "handoff-today"}


def test_fell_back_or_not(review):
    assert ids(review, fallback="true") == {"fallback-yesterday"}
    assert "fallback-yesterday" not in ids(review, fallback="false")


def test_low_confidence_uses_the_best_real_intent(review):
    # notice 0.35 and the form answer 0.42 are low; nlu_fallback's runner-up 0.22 too.
    assert ids(review, low_confidence="true") == {"notice-earlier", "disclosure-today",
                                                  "fallback-yesterday"}
    assert ids(review, low_confidence="false") == {"handoff-today", "optout-yesterday"}


def test_tag_and_reviewed(review):
    review.tag("notice-earlier", "boss", add=["誤認識", "faq"])
    review.tag("optout-yesterday", "boss", add=["faq"], reviewed=True)
    assert ids(review, tag="faq") == {"notice-earlier", "optout-yesterday"}
    assert ids(review, tag="誤認識") == {"notice-earlier"}
    assert ids(review, reviewed="true") == {"optout-yesterday"}
    assert ids(review, reviewed="false") == ALL - {"optout-yesterday"}
    review.tag("notice-earlier", "boss", remove=["faq"])
    assert ids(review, tag="faq") == {"optout-yesterday"}


def test_free_text_searches_only_the_masked_customer_words(review):
    assert ids(review, q="開示") == {"disclosure-today"}
    assert ids(review, q="［電話番号］") == {"disclosure-today"}
    assert ids(review, q="1234") == set()          # the phone number is not there to find
    assert ids(review, q="山田") == set()          # the name answered in the form neither
    assert ids(review, q="100%") == set()          # LIKE wildcards are literal


def test_filters_combine_and_paginate(review):
    assert ids(review, handoff="true", low_confidence="true") == {"disclosure-today"}
    first = review.list(flt.parse_filters({}), limit=2, offset=0)
    second = review.list(flt.parse_filters({}), limit=2, offset=2)
    third = review.list(flt.parse_filters({}), limit=2, offset=4)
    pages = [c["id"] for page in (first, second, third) for c in page["conversations"]]
    assert len(pages) == len(set(pages)) == 5 and first["total"] == 5


@pytest.mark.parametrize("params", [{"since": "yesterday"}, {"handoff": "maybe"},
                                    {"since": "2026-11-25", "until": "2026-11-24"},
                                    {"q": "x" * 201}])
def test_bad_filters_say_what_is_wrong(review, params):
    with pytest.raises(InvalidField):
        flt.parse_filters(params)


def test_new_events_are_projected_on_the_next_read(review, db_url):
    store = tracker_store(db_url)
    save(store, "late", [*start(ts(NOW)), user("第三者提供を止めたい", "request_third_party_stop",
                                                 0.8, ts(NOW, 1))])
    assert "late" in ids(review, intent="request_third_party_stop")
    save(store, "late", [bot("承りました", ts(NOW, 2)),
                         user("ありがとう", "thanks", 0.9, ts(NOW, 3))])
    store.engine.dispose()
    late = review.conversation("late")
    assert late["turns"] == 2 and set(late["intents"]) == {"request_third_party_stop", "thanks"}
    assert review.refresh() == 0  # nothing new: nothing applied twice


def test_an_event_committed_late_with_a_lower_id_is_not_lost(db_url):
    """PostgreSQL may commit id 50 after id 100 (two Rasa servers): the re-read window finds it."""
    import json

    from sqlalchemy import insert

    from madoguchi.conversation.table import EVENTS
    from madoguchi.review.projector import Projector

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    tracker_store(db_url).engine.dispose()  # Rasa's events table

    def event(event_id: int, sender: str) -> dict:
        data = {"event": "user", "timestamp": ts(NOW), "text": "開示してください",
                "parse_data": {"intent": {"name": "request_disclosure", "confidence": 0.9}}}
        return {"id": event_id, "sender_id": sender, "type_name": "user",
                "timestamp": ts(NOW), "intent_name": "request_disclosure", "action_name": None,
                "data": json.dumps(data)}

    try:
        projector = Projector(engine, db.session_factory(engine), lookback=1000)
        with engine.begin() as conn:
            conn.execute(insert(EVENTS), [event(100, "first")])
        assert projector.catch_up() == 1
        with engine.begin() as conn:
            conn.execute(insert(EVENTS), [event(50, "late")])
        assert projector.catch_up() == 1
        assert projector.catch_up() == 0
        review = SupervisorReview(engine, db.session_factory(engine))
        assert {c["id"] for c in review.list(flt.parse_filters({}))["conversations"]} == {
            "first", "late"}
    finally:
        engine.dispose()
