"""Real tracker events for the review tests, written through Rasa's own `SQLTrackerStore`.

No test functions here: the other test_review_* modules import these scenarios. Each scenario
is a conversation as Rasa stores it (session start, user messages with NLU parse data, actions,
bot messages, slots, pause/resume), with personal data in it that no supervisor may see.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sqlalchemy.engine import make_url

from madoguchi.infra.settings import project_root
from madoguchi.text.pii import my_number_check_digit

JST = timezone(timedelta(hours=9))

PHONE = "090-1234-5678"
LANDLINE = "03-3456-7890"
EMAIL = "taro.yamada@example.jp"
POSTAL = "〒150-0041"
NAME = "山田太郎"
ADDRESS = "東京都渋谷区神南一丁目"
CARD = "4111 1111 1111 1111"
MY_NUMBER = "1234 5678 901" + str(my_number_check_digit("12345678901"))
# What must never appear in anything a supervisor reads (also without separators).
SECRETS = [PHONE, "09012345678", "1234-5678", LANDLINE, "3456-7890", EMAIL, "150-0041",
           NAME, ADDRESS, CARD, CARD.replace(" ", ""), MY_NUMBER, MY_NUMBER.replace(" ", "")]


@lru_cache(maxsize=1)
def _domain() -> Any:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(project_root() / "domain.yml"))


def tracker_store(database_url: str) -> Any:
    """Rasa's SQLTrackerStore on the same database as madoguchi's tables."""
    from rasa.core.tracker_store import SQLTrackerStore

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SQLTrackerStore(_domain(), dialect="sqlite", db=url.database)
    return SQLTrackerStore(_domain(), dialect="postgresql", host=url.host, port=url.port,
                           db=url.database, username=url.username, password=url.password)


def save(store: Any, sender: str, events: list[Any]) -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    old = asyncio.run(store.retrieve_full_tracker(sender))
    tracker = old or DialogueStateTracker(sender, _domain().slots)
    for event in events:
        tracker.update(event)
    asyncio.run(store.save(tracker))


def ts(moment: datetime, seconds: float = 0) -> float:
    return (moment + timedelta(seconds=seconds)).timestamp()


def user(text: str, intent: str, confidence: float, at: float,
         runner_up: tuple[str, float] = ("out_of_scope", 0.05),
         entities: list[dict[str, Any]] | None = None) -> Any:
    from rasa.shared.core.events import UserUttered

    ranking = [{"name": intent, "confidence": confidence},
               {"name": runner_up[0], "confidence": runner_up[1]}]
    parse = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": ranking,
             "entities": entities or [], "text": text}
    return UserUttered(text, intent=parse["intent"], entities=entities or [], parse_data=parse,
                       timestamp=at, input_channel="rest")


def start(at: float) -> list[Any]:
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    return [ActionExecuted("action_session_start", timestamp=at), SessionStarted(timestamp=at),
            ActionExecuted("action_listen", timestamp=at)]


def action(name: str, at: float) -> Any:
    from rasa.shared.core.events import ActionExecuted

    return ActionExecuted(name, policy="RulePolicy", confidence=1.0, timestamp=at)


def bot(text: str, at: float, operator: str | None = None, buttons: list | None = None) -> Any:
    from rasa.shared.core.events import BotUttered

    metadata = {"operator": operator} if operator else {"utter_action": "utter_x"}
    return BotUttered(text, {"buttons": buttons} if buttons else {}, metadata, timestamp=at)


def slot(name: str, value: Any, at: float) -> Any:
    from rasa.shared.core.events import SlotSet

    return SlotSet(name, value, timestamp=at)


def pause(at: float) -> Any:
    from rasa.shared.core.events import ConversationPaused

    return ConversationPaused(timestamp=at)


def resume(at: float) -> Any:
    from rasa.shared.core.events import ConversationResumed

    return ConversationResumed(timestamp=at)


def scenarios(now: datetime) -> dict[str, list[Any]]:
    """Five conversations around `now`; the names say what each is for."""
    today = now - timedelta(hours=1)
    yesterday = now - timedelta(days=1)
    earlier = now - timedelta(days=3)
    t = ts
    return {
        # Yesterday: two messages not understood, then the offer of a person. Contains a card.
        "fallback-yesterday": [
            *start(t(yesterday)),
            user(f"カード {CARD} で払った注文の件", "nlu_fallback", 0.3, t(yesterday, 1),
                 runner_up=("out_of_scope", 0.22)),
            action("action_fallback", t(yesterday, 2)),
            bot("申し訳ありません、もう一度お願いします", t(yesterday, 2),
                buttons=[{"title": "担当者と話す", "payload": "/human_handoff"}]),
            user("ふにゃふにゃ", "nlu_fallback", 0.3, t(yesterday, 3),
                 runner_up=("greet", 0.1)),
            action("action_fallback", t(yesterday, 4)),
            bot("担当者におつなぎできます", t(yesterday, 4)),
        ],
        # Today: a disclosure request through the form to a ticket, then a person.
        "disclosure-today": [
            *start(t(today)),
            user(f"個人情報を開示してほしい。電話は{PHONE}、メールは{EMAIL}です",
                 "request_disclosure", 0.91, t(today, 1), runner_up=("request_correction", 0.04),
                 entities=[{"entity": "phone", "value": PHONE, "start": 14, "end": 27,
                            "extractor": "RegexEntityExtractor"}]),
            action("action_start_request", t(today, 2)),
            slot("request_type", "disclosure", t(today, 2)),
            slot("request_types", ["disclosure"], t(today, 2)),
            slot("requested_slot", "customer_name", t(today, 2)),
            bot("お名前を教えてください", t(today, 2)),
            user(f"{NAME}です", "inform", 0.42, t(today, 3)),
            slot("customer_name", NAME, t(today, 4)),
            slot("requested_slot", "postal_address", t(today, 4)),
            bot("ご住所を教えてください", t(today, 4)),
            user(f"{POSTAL} {ADDRESS}", "inform", 0.6, t(today, 5)),
            slot("postal_address", f"{POSTAL} {ADDRESS}", t(today, 6)),
            slot("requested_slot", None, t(today, 6)),
            bot(f"{NAME}様、ご住所 {POSTAL} {ADDRESS}、お電話 {PHONE} で承ります", t(today, 6)),
            slot("ticket_reference", "PRV-20261126-0001", t(today, 7)),
            action("action_handoff", t(today, 8)),
            pause(t(today, 8)),
            user(f"自宅は{LANDLINE}です", "inform", 0.8, t(today, 9)),
            bot(f"担当の佐藤です。{LANDLINE} にお電話します", t(today, 10), operator="sato"),
            resume(t(today, 11)),
        ],
        # Three days ago: a notice question read with low confidence (section 2).
        "notice-earlier": [
            *start(t(earlier)),
            user("利用目的を教えて", "notice_2", 0.35, t(earlier, 1), runner_up=("notice_4", 0.3)),
            action("action_answer_notice", t(earlier, 2)),
            slot("notice_section", "2", t(earlier, 2)),
            bot("2.個人情報の利用目的 …", t(earlier, 2)),
        ],
        # Today: a person asked for at once (handoff without a request type), individual number.
        "handoff-today": [
            *start(t(today, 30)),
            user(f"担当者と話したい。マイナンバーは{MY_NUMBER}", "human_handoff", 0.97,
                 t(today, 31)),
            action("action_handoff", t(today, 32)),
            pause(t(today, 32)),
        ],
        # Yesterday: a marketing opt-out answered and contained (no person), section 5.
        "optout-yesterday": [
            *start(t(yesterday, 60)),
            user("DMを止めてほしい", "request_marketing_optout", 0.88, t(yesterday, 61)),
            action("action_start_request", t(yesterday, 62)),
            slot("request_type", "marketing_optout", t(yesterday, 62)),
            slot("notice_section", "5", t(yesterday, 62)),
            bot("カタログの送付停止ですね", t(yesterday, 62)),
        ],
    }


def write_scenarios(database_url: str, now: datetime, prefix: str = "") -> dict[str, str]:
    """Store every scenario; returns {scenario: sender id}."""
    store = tracker_store(database_url)
    ids = {}
    for name, events in scenarios(now).items():
        ids[name] = f"{prefix}{name}"
        save(store, ids[name], events)
    store.engine.dispose()
    return ids


def fixed_now() -> datetime:
    """Noon JST today: 'today', 'yesterday' and 'earlier' are then whole JST days apart."""
    now = datetime.now(JST).replace(hour=12, minute=0, second=0, microsecond=0)
    return now.astimezone(timezone.utc)
