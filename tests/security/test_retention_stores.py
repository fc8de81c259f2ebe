"""Retention clears customer words from every store that holds them (issue 15, item 3).

A phone number, an e-mail address, a name and an address are put into each store of the
inventory (`madoguchi.privacy.stores`) the way the product puts them there — Rasa's own tracker
store, the review service, the ticket service, the CSAT book, the training export, the pending
contact store —, retention runs once the whole conversation is older than the limit, and then
not one of the four is found in any table of the database or in the training file.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import String, Text, select
from sqlalchemy.types import JSON

from madoguchi.assist.summary import summarize
from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.infra.webhook import Outbox, OutboxMessage, Webhook, handoff_payload
from madoguchi.privacy import stores
from madoguchi.privacy.pending_contact import PendingContacts
from madoguchi.review import filters as flt
from madoguchi.review import retention
from madoguchi.review.csat import CsatBook
from madoguchi.review.models import Conversation
from madoguchi.review.service import SupervisorReview
from madoguchi.text.pii.contact import ContactItem
from madoguchi.tickets import TicketDraft, TicketService
from tests.test_review_support import action, bot, save, slot, start, tracker_store, ts, user

PHONE = "090-2468-1357"
EMAIL = "hanako.sato@example.co.jp"
NAME = "佐藤花子"
ADDRESS = "大阪府大阪市北区梅田三丁目"
SECRETS = [PHONE, "09024681357", EMAIL, NAME, ADDRESS]
SUPERVISOR = "kyoko"


def everything_said(sender: str, at: datetime) -> list:
    """A request through the form, contact data in free text, in answers, slots and summary."""
    t = ts
    return [
        *start(t(at)),
        # A name the finder cannot see (no self-introduction): retention must learn it.
        user(f"開示をお願いします。名義は{NAME}で、電話は{PHONE}、メールは{EMAIL}、住所は"
             f"{ADDRESS}です", "request_disclosure", 0.9, t(at, 1)),
        action("action_start_request", t(at, 2)),
        slot("request_types", ["disclosure"], t(at, 2)),
        slot("requested_slot", "customer_name", t(at, 2)),
        bot("お名前を教えてください", t(at, 2)),
        user(f"{NAME}です", "inform", 0.5, t(at, 3)),
        slot("customer_name", NAME, t(at, 4)),
        slot("requested_slot", "postal_address", t(at, 4)),
        user(ADDRESS, "inform", 0.5, t(at, 5)),
        slot("postal_address", ADDRESS, t(at, 6)),
        slot("phone", PHONE, t(at, 6)),
        slot("email", EMAIL, t(at, 6)),
        slot("requested_slot", None, t(at, 6)),
        bot(f"お名前: {NAME}\n住所: {ADDRESS}\n電話: {PHONE}\nメール: {EMAIL}", t(at, 7)),
        user("はい", "affirm", 0.95, t(at, 8)),
    ]


def dump(engine, extra: str = "") -> str:
    """Every text and JSON value of every table (Rasa's events decoded), and `extra`."""
    metadata = db.load_models()
    parts = [extra]
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, String | Text | JSON)
                    or "JSON" in type(c.type).__name__ or "Variant" in type(c.type).__name__]
            for row in conn.execute(select(*cols)) if cols else []:
                parts += [json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
                          for v in row]
        for (data,) in conn.execute(select(EVENTS.c.data)):
            parts.append(json.dumps(json.loads(data), ensure_ascii=False))
    return "\n".join(p for p in parts if p)


WEBHOOK = Webhook(url="http://127.0.0.1:9/never-called", secret="retention-test")


def outbox_bodies(sessions) -> list[str]:
    with sessions() as session:
        return list(session.execute(select(OutboxMessage.body).order_by(OutboxMessage.id))
                    .scalars())


def found(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def engine(db_url):
    engine = db.make_engine(db_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def test_every_table_with_text_is_in_the_inventory_or_said_to_hold_no_customer_words():
    metadata = db.load_models()
    listed = {s.name for s in stores.STORES if s.kind == stores.TABLE}
    for table in metadata.sorted_tables:
        texts = [c.name for c in table.columns
                 if isinstance(c.type, String | Text) or "JSON" in type(c.type).__name__
                 or "Variant" in type(c.type).__name__]
        if texts:
            assert table.name in listed or table.name in stores.NO_CUSTOMER_WORDS, (
                f"{table.name} ({', '.join(texts)}) holds text: add it to "
                "madoguchi.privacy.stores (STORES or NO_CUSTOMER_WORDS)")
    assert not listed & set(stores.NO_CUSTOMER_WORDS)
    assert listed <= set(metadata.tables)


def test_retention_has_a_clearer_for_every_store_of_the_inventory():
    assert stores.clearers() <= set(retention.CLEARERS)
    assert {s.name for s in stores.STORES} >= {
        "events", "review_conversations", "review_comments", "review_audit", "tickets",
        "ticket_notes", "audit_entries", "csat_surveys", "pending_contact",
        "webhook_outbox", "var/review/nlu_review.yml"}


def test_retention_leaves_no_contact_data_in_any_store(engine, db_url, tmp_path, monkeypatch):
    training_file = tmp_path / "nlu_review.yml"
    monkeypatch.setenv("MADOGUCHI_REVIEW_NLU_FILE", str(training_file))
    now = datetime.now(timezone.utc)
    sender = f"ret-{uuid.uuid4().hex[:10]}"
    save(tracker_store(db_url), sender, everything_said(sender, now - timedelta(hours=1)))
    sessions = db.session_factory(engine)

    # The review: a comment, a reveal with its reason, a training example, a searched export.
    review = SupervisorReview(engine, sessions)
    review.refresh()
    with engine.connect() as conn:
        first = conn.execute(select(EVENTS.c.id).where(
            EVENTS.c.sender_id == sender, EVENTS.c.type_name == "user")
            .order_by(EVENTS.c.id)).scalars().first()
    review.comment(sender, first, f"{NAME}様の{ADDRESS}、{PHONE}・{EMAIL}を確認", SUPERVISOR)
    review.reveal(sender, first, "text", f"{NAME}様への折り返しのため", SUPERVISOR)
    review.label_for_training(sender, first, "request_disclosure", SUPERVISOR)
    list(review.export(flt.parse_filters({"q": PHONE}), "conversations", SUPERVISOR))
    assert NAME in training_file.read_text(encoding="utf-8")  # what retention must undo

    # The ticket, worked to its decision: notes, a message, the identity check, the letter.
    tickets = TicketService(sessions)
    ref = tickets.create(TicketDraft(
        request_types=["disclosure", "correction"], customer_name=NAME, customer_phone=PHONE,
        customer_email=EMAIL, customer_postal_address=ADDRESS,
        customer_words=f"{NAME}です。{ADDRESS}に住んでいます。{PHONE}",
        details={"correction": {"item": "住所", "value": ADDRESS}},
        conversation_id=sender)).reference
    tickets.claim(ref, "sato")
    tickets.add_note(ref, "sato", f"{NAME}様に{PHONE}で確認済み")
    tickets.record_message(ref, "sato", f"{NAME}様、{EMAIL}宛にお送りします")
    tickets.record_identity(ref, "sato", method="call_back",
                            received=f"{NAME}様ご本人と{PHONE}で確認（{ADDRESS}）")
    tickets.set_disclosure(ref, "sato", kind="held_data", delivery_method="email")
    tickets.propose_decision(ref, "sato", outcome="granted",
                             letter=f"{ADDRESS}\n{NAME}様\n開示いたします。")
    assert tickets.get(ref).status == "resolved"

    # The handoff announcement, as the action server writes it: the ticket's summary inside.
    outbox = Outbox(sessions, WEBHOOK)
    data = tickets.get(ref).to_dict()
    outbox.enqueue("handoff", handoff_payload(data, summary=summarize(
        data["customer_words"].splitlines(), data).as_dict()))
    assert "［氏名］様" in outbox_bodies(sessions)[0]  # the summary: about the customer

    # CSAT with the customer's own words, and contact data waiting for a ticket.
    book = CsatBook(sessions)
    book.ask(sender, "goodbye", ticket_reference=ref)
    book.rate(sender, 5)
    book.comment(sender, f"{NAME}です。{ADDRESS}の件、ありがとうございました")
    PendingContacts(sessions).keep(sender, [ContactItem("a1b2c3d4", "PHONE", PHONE),
                                            ContactItem("e5f6a7b8", "NAME", NAME)])
    before = found(dump(engine, training_file.read_text(encoding="utf-8")))
    assert set(before) >= {PHONE, EMAIL, NAME, ADDRESS}  # every one of them was somewhere

    result = retention.run(engine, 30, now=now + timedelta(days=60),
                           training_file=training_file)

    assert result.conversations == 1 and result.tickets == 1
    assert outbox_bodies(sessions) == [] and result.others["webhook_outbox"] == 1
    assert found(dump(engine, training_file.read_text(encoding="utf-8"))) == []
    # The training file is still Rasa NLU YAML with the example, masked.
    assert "［氏名］" in training_file.read_text(encoding="utf-8")


def test_a_returning_customer_is_anonymised_again_once_the_new_words_are_old(engine, db_url):
    now = datetime.now(timezone.utc)
    sender = f"back-{uuid.uuid4().hex[:10]}"
    store = tracker_store(db_url)
    save(store, sender, [*start(ts(now - timedelta(days=100))),
                         user(f"電話は{PHONE}です", "inform", 0.5,
                              ts(now - timedelta(days=100), 1))])
    first = retention.run(engine, 30, now=now - timedelta(days=60))
    assert first.conversations == 1

    # The customer comes back, and says more.
    save(store, sender, [user(f"{NAME}です。メールは{EMAIL}です", "inform", 0.5,
                              ts(now - timedelta(days=50))),
                         slot("customer_name", NAME, ts(now - timedelta(days=50), 1))])
    second = retention.run(engine, 30, now=now)

    assert second.conversations == 1
    assert found(dump(engine)) == []
    with db.session_factory(engine)() as session:
        conv = session.execute(select(Conversation).where(
            Conversation.sender_id == sender)).scalar_one()
        assert conv.anonymised_at is not None and conv.turns == 2


def test_announcements_go_once_older_than_the_limit_delivered_or_not(engine):
    now = datetime.now(timezone.utc)
    sessions = db.session_factory(engine)
    ticket = {"reference": "PRV-20260101-0001", "request_types": ["disclosure"]}
    summary = summarize([f"{NAME}と申します。開示をお願いします"], ticket).as_dict()
    ages = {"delivered long ago": 100, "never delivered": 90, "recent": 5}
    outbox = Outbox(sessions, WEBHOOK)
    ids = {what: outbox.enqueue("handoff", handoff_payload(ticket, summary=summary))
           for what in ages}
    with db.write_session(sessions) as session:  # as if written and sent that long ago
        session.get(OutboxMessage, ids["delivered long ago"]).delivered_at = now - timedelta(
            days=99)
        for what, days in ages.items():
            session.get(OutboxMessage, ids[what]).created_at = now - timedelta(days=days)

    result = retention.run(engine, 30, now=now)

    with sessions() as session:
        left = set(session.execute(select(OutboxMessage.id)).scalars())
    assert left == {ids["recent"]}
    assert result.others["webhook_outbox"] == 2
    assert result.others["webhook_outbox_undelivered"] == 1
