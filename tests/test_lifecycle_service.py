"""A request's life through `TicketService`, on SQLite and PostgreSQL: the day it reached us,
identity, agent, disclosure options, fee, the decision and its four-eyes approval; every step
audited, every bad input refused with a clear error and nothing changed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from madoguchi.review.metrics import decided_within_target
from madoguchi.tickets import (
    Conflict,
    InvalidField,
    InvalidTransition,
    ServiceTarget,
    TicketDraft,
    TicketService,
    User,
    UserRepository,
)

START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # Tuesday 10:00 JST


@pytest.fixture
def people(db_sessions) -> dict[str, User]:
    """Desk users as the desk has them: an operator and two supervisors."""
    users = UserRepository(db_sessions)
    return {name: users.create_user(name, role)[0] for name, role in
            [("sato", "operator"), ("kyoko", "supervisor"), ("boss", "supervisor")]}


def claimed(service: TicketService, people, **overrides):
    values = dict(request_types=["disclosure"], customer_name="山田 太郎",
                  customer_phone="090-1234-5678", customer_words="開示してください")
    values.update(overrides)
    ticket = service.create(TicketDraft(**values))
    service.claim(ticket.reference, people["sato"])
    return ticket.reference


def identified(service: TicketService, people, **overrides) -> str:
    reference = claimed(service, people, **overrides)
    service.record_identity(reference, people["sato"], method="postal_documents",
                            received="請求用紙、運転免許証のコピー", received_at="2026-12-01")
    return reference


def actions(service: TicketService, reference: str) -> list[str]:
    return [e.action for e in service.get(reference).audit]


# --- the clock -------------------------------------------------------------------------------


def test_received_at_defaults_to_creation_and_moves_the_target_with_audit(service, people, clock):
    reference = claimed(service, people)
    ticket = service.get(reference)
    assert ticket.received_at == START
    assert ticket.audit[0].changes["received_at"] == {"old": None, "new": START.isoformat()}
    clock[0] = START + timedelta(days=2)
    service.set_received_at(reference, "2026-12-02", people["sato"])  # the form came by post
    ticket = service.get(reference)
    assert ticket.received_at == datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)  # 0:00 JST
    assert ticket.due_at == datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)  # Mon 21:00 JST
    entry = ticket.audit[-1]
    assert (entry.actor, entry.action) == ("sato", "received_at_changed")
    assert set(entry.changes) == {"received_at", "due_at"}


@pytest.mark.parametrize("bad", ["2026-12-31", "yesterday", "1999-12-31", 20261201, ""])
def test_received_at_refuses_the_future_and_what_is_no_date(service, people, bad):
    reference = claimed(service, people)
    with pytest.raises(InvalidField):
        service.set_received_at(reference, bad, people["sato"])
    assert actions(service, reference) == ["created", "claimed", "attempt_refused"]


def test_per_type_targets_come_from_data_and_the_strictest_wins():
    target = ServiceTarget(business_days=3).with_types({"complaint": 2})
    monday = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)
    assert target.days_for(["disclosure"]) == 3
    assert target.days_for(["disclosure", "complaint"]) == 2
    assert target.due_at(monday, ["complaint"]) < target.due_at(monday, ["disclosure"])


# --- identity ------------------------------------------------------------------------------


def test_identity_is_recorded_once_with_who_and_when(service, people, clock):
    reference = identified(service, people)
    ticket = service.get(reference)
    identity = ticket.identity
    assert (identity.method, identity.verified_by, identity.verified_at) == (
        "postal_documents", "sato", START)
    assert identity.received == "請求用紙、運転免許証のコピー"
    assert ticket.audit[-1].action == "identity_recorded"

    with pytest.raises(Conflict, match="本人確認はすでに記録されています"):
        service.record_identity(reference, people["kyoko"], method="call_back",
                                received="折り返し電話で確認")
    assert service.get(reference).identity.method == "postal_documents"
    assert actions(service, reference).count("identity_recorded") == 1


@pytest.mark.parametrize(("method", "received"), [
    ("fax", "書類"), (None, "書類"), ("postal_documents", ""), ("postal_documents", None),
    ("postal_documents", "x" * 1001),
])
def test_identity_needs_a_known_method_and_what_was_received(service, people, method, received):
    reference = claimed(service, people)
    with pytest.raises(InvalidField):
        service.record_identity(reference, people["sato"], method=method, received=received)
    assert service.get(reference).identity is None


# --- agent, disclosure, fee ------------------------------------------------------------------


def test_agent_kind_and_relation_with_the_documents_from_data(service, people):
    reference = claimed(service, people)
    service.set_agent(reference, people["sato"], kind="minor_parent", relation="母")
    ticket = service.get(reference)
    assert (ticket.agent_kind, ticket.agent_relation, ticket.is_agent) == (
        "minor_parent", "母", True)
    assert service.rules.agent_kinds["mandate"].documents[0] == "ご本人が署名・押印した委任状"
    assert ticket.audit[-1].action == "agent_recorded"
    with pytest.raises(InvalidField):
        service.set_agent(reference, people["sato"], kind="friend")
    service.set_agent(reference, people["sato"], kind=None)
    assert service.get(reference).is_agent is False


def test_disclosure_options_records_of_provision_and_named_items(service, people):
    reference = claimed(service, people)
    service.set_disclosure(reference, people["sato"], kind="provision_records",
                           delivery_method="email", scope="items", items=["購入履歴", "購入履歴"])
    ticket = service.get(reference)
    assert (ticket.disclosure_kind, ticket.delivery_method, ticket.disclosure_scope,
            ticket.disclosure_items) == ("provision_records", "email", "items", ["購入履歴"])
    with pytest.raises(InvalidField, match="項目"):
        service.set_disclosure(reference, people["sato"], kind="held_data",
                               delivery_method="paper", scope="items", items=[])
    with pytest.raises(InvalidField):
        service.set_disclosure(reference, people["sato"], kind="held_data",
                               delivery_method="fax")
    correction = claimed(service, people, request_types=["correction"])
    with pytest.raises(InvalidField, match="開示"):
        service.set_disclosure(correction, people["sato"], kind="held_data",
                               delivery_method="paper")


@pytest.mark.parametrize("request_type", ["correction", "suspension", "third_party_stop"])
def test_no_fee_for_correction_suspension_or_third_party_stop(service, people, request_type):
    reference = claimed(service, people, request_types=[request_type])
    with pytest.raises(InvalidField, match="法第38条"):
        service.record_fee(reference, people["sato"], amount=1000)
    assert service.get(reference).fee_amount is None
    with pytest.raises(InvalidField, match="法第38条"):
        service.create(TicketDraft(request_types=[request_type], fee_amount=500))


def test_the_fee_amount_is_the_companys_never_made_up(service, people, clock):
    reference = claimed(service, people)
    assert service.rules.fees == {"purpose_notice": None, "disclosure": None}
    with pytest.raises(InvalidField, match="手数料の額"):
        service.record_fee(reference, people["sato"])  # the data sets no amount
    service.record_fee(reference, people["sato"], amount=1000, told_at="2026-12-01")
    ticket = service.get(reference)
    assert ticket.fee_amount == 1000 and ticket.audit[-1].action == "fee_recorded"
    for bad in (-1, "1000", 1.5, True, 10**9):
        with pytest.raises(InvalidField):
            service.record_fee(reference, people["sato"], amount=bad)
    service.clear_fee(reference, people["sato"])
    assert service.get(reference).fee_amount is None
    told = service.create(TicketDraft(request_types=["purpose_notice"], fee_amount=300))
    assert (told.fee_amount, told.fee_told_at) == (300, START)


# --- the decision ------------------------------------------------------------------------------


def test_no_decision_before_the_identity_step(service, people):
    reference = claimed(service, people)
    service.set_disclosure(reference, people["sato"], kind="held_data", delivery_method="paper")
    with pytest.raises(Conflict, match="本人確認"):
        service.propose_decision(reference, people["sato"], outcome="granted")
    ticket = service.get(reference)
    assert ticket.decisions == [] and ticket.status == "assigned"


def test_a_grant_resolves_at_once_and_drafts_the_letter(service, people):
    reference = identified(service, people)
    with pytest.raises(Conflict, match="開示の方法"):
        service.propose_decision(reference, people["sato"], outcome="granted")
    service.set_disclosure(reference, people["sato"], kind="held_data", delivery_method="email")
    ticket = service.propose_decision(reference, people["sato"], outcome="granted")
    assert ticket.status == "resolved"
    decision = service.get(reference).decision
    assert (decision.outcome, decision.state, decision.decided_by) == ("granted", "effective",
                                                                        "sato")
    assert decision.effective_at == START
    assert "山田 太郎 様" in decision.letter and reference in decision.letter
    assert "電子メール" in decision.letter and decision.letter.rstrip().endswith("ください。")
    assert service.get(reference).audit[-1].action == "decision_made"


@pytest.mark.parametrize(("ground", "explanation", "message"), [
    (None, "理由", "理由（根拠）"),
    ("", "理由", "理由（根拠）"),
    ("correction.not_inaccurate", "理由", "理由（根拠）"),  # a ground of another type
    ("disclosure.made_up", "理由", "理由（根拠）"),
    ("disclosure.not_held", "", "explanation"),
    ("disclosure.not_held", None, "explanation"),
])
def test_a_refusal_needs_a_ground_of_its_type_and_an_explanation(
    service, people, ground, explanation, message
):
    reference = identified(service, people)
    with pytest.raises(InvalidField, match=message):
        service.propose_decision(reference, people["sato"], outcome="refused", ground=ground,
                                 explanation=explanation)
    ticket = service.get(reference)
    assert ticket.decisions == [] and ticket.status == "assigned"
    assert actions(service, reference)[-2:] == ["identity_recorded", "attempt_refused"]
    refused = ticket.audit[-1]
    assert refused.actor == "sato" and refused.changes["attempted"]["new"] == "propose_decision"
    assert re.search(message, refused.changes["reason"]["new"])


def test_a_refusal_takes_effect_only_when_another_supervisor_approves(service, people, clock):
    reference = identified(service, people)
    ticket = service.propose_decision(
        reference, people["sato"], outcome="refused", ground="disclosure.not_held",
        explanation="購入履歴の保存期間（5年）を過ぎており、当社に記録が残っておりません。")
    assert ticket.status == "pending_approval"
    letter = service.get(reference).decision.letter
    assert "当社が保有していないため" in letter and "保存期間（5年）" in letter

    with pytest.raises(Conflict, match="スーパーバイザー"):
        service.approve_decision(reference, people["sato"])  # an operator
    with pytest.raises(InvalidTransition):
        service.transition(reference, "rejected", people["kyoko"])  # no way around it
    clock[0] = START + timedelta(hours=2)
    done = service.approve_decision(reference, people["kyoko"])
    assert done.status == "rejected"
    decision = service.get(reference).decision
    assert (decision.state, decision.approved_by, decision.approved_at) == (
        "approved", "kyoko", clock[0])
    entry = service.get(reference).audit[-1]
    assert (entry.actor, entry.action, entry.changes["status"]) == (
        "kyoko", "decision_approved", {"old": "pending_approval", "new": "rejected"})


def test_a_refusal_approved_by_its_own_author_is_refused(service, people):
    reference = identified(service, people)
    # A supervisor steps in and decides (supervisors may work any ticket).
    service.propose_decision(reference, people["kyoko"], outcome="refused",
                             ground="disclosure.business_obstruction", explanation="理由")
    with pytest.raises(Conflict, match="判断した本人は承認できません"):
        service.approve_decision(reference, people["kyoko"])
    ticket = service.get(reference)
    assert ticket.status == "pending_approval" and ticket.decision.state == "pending"
    assert service.approve_decision(reference, people["boss"]).status == "rejected"


def test_a_partial_grant_is_approved_into_resolved(service, people):
    reference = identified(service, people, request_types=["correction"])
    service.propose_decision(reference, people["sato"], outcome="partly_granted",
                             ground="correction.not_inaccurate",
                             explanation="住所は訂正しました。氏名の表記は登録どおりです。")
    assert service.approve_decision(reference, people["boss"]).status == "resolved"


def test_a_returned_proposal_goes_back_and_a_new_one_may_follow(service, people):
    reference = identified(service, people, request_types=["suspension"])
    service.propose_decision(reference, people["sato"], outcome="refused",
                             ground="suspension.no_grounds", explanation="理由")
    with pytest.raises(InvalidField):
        service.return_decision(reference, people["kyoko"], "  ")
    ticket = service.return_decision(reference, people["kyoko"], "根拠を見直してください")
    assert ticket.status == "assigned" and ticket.decision is None
    assert ticket.decisions[0].state == "returned"
    with pytest.raises(Conflict, match="承認待ち"):
        service.approve_decision(reference, people["boss"])
    service.propose_decision(reference, people["sato"], outcome="granted")
    ticket = service.get(reference)
    assert ticket.status == "resolved" and [d.state for d in ticket.decisions] == [
        "returned", "effective"]


def test_only_a_decision_closes_requests_one_to_five(service, people):
    reference = identified(service, people)
    for status in ("resolved", "rejected", "pending_approval"):
        with pytest.raises(InvalidTransition):
            service.transition(reference, status, people["sato"])
        with pytest.raises(InvalidTransition):
            service.update_fields(reference, {"status": status}, people["sato"])
    assert service.transition(reference, "withdrawn", people["sato"]).status == "withdrawn"
    complaint = claimed(service, people, request_types=["complaint"])
    assert service.transition(complaint, "resolved", people["sato"]).status == "resolved"
    with pytest.raises(Conflict, match="判断を記録しません"):
        service.propose_decision(claimed(service, people, request_types=["marketing_optout"]),
                                 people["sato"], outcome="granted")


def test_the_request_type_changes_only_before_a_decision(service, people):
    reference = identified(service, people, request_types=["correction"])
    service.update_fields(reference, {"request_types": ["suspension"]}, people["sato"])
    entry = service.get(reference).audit[-1]
    assert entry.changes["request_types"] == {"old": ["correction"], "new": ["suspension"]}
    service.propose_decision(reference, people["sato"], outcome="refused",
                             ground="suspension.no_grounds", explanation="理由")
    with pytest.raises(Conflict, match="請求の種類を変更できません"):
        service.update_fields(reference, {"request_types": ["correction"]}, people["sato"])
    assert service.get(reference).request_types == ["suspension"]


def test_a_type_change_rechecks_the_fee_and_the_disclosure_options(service, people):
    reference = claimed(service, people)
    service.record_fee(reference, people["sato"], amount=1000)
    with pytest.raises(InvalidField, match="手数料"):
        service.update_fields(reference, {"request_types": ["correction"]}, people["sato"])
    service.clear_fee(reference, people["sato"])
    service.set_disclosure(reference, people["sato"], kind="held_data", delivery_method="paper")
    with pytest.raises(InvalidField, match="開示"):
        service.update_fields(reference, {"request_types": ["correction"]}, people["sato"])
    service.set_disclosure(reference, people["sato"], kind=None)
    service.update_fields(reference, {"request_types": ["correction"]}, people["sato"])
    assert service.get(reference).request_types == ["correction"]


def test_after_a_decision_the_steps_are_frozen(service, people):
    reference = identified(service, people, request_types=["purpose_notice"])
    service.propose_decision(reference, people["sato"], outcome="refused",
                             ground="purpose_notice.purpose_already_clear", explanation="理由")
    with pytest.raises(Conflict):
        service.record_fee(reference, people["sato"], amount=100)
    with pytest.raises(Conflict):
        service.set_agent(reference, people["sato"], kind="mandate")
    with pytest.raises(Conflict, match="判断はすでに"):
        service.propose_decision(reference, people["sato"], outcome="granted")


def test_intake_carries_the_notice_version_and_the_disclosure_wish(service):
    ticket = service.create(TicketDraft(
        request_types=["disclosure"], notice_version="2023-03-28", delivery_method="download",
        disclosure_kind="held_data", disclosure_scope="all", agent_kind="mandate"))
    stored = service.get(ticket.reference)
    assert (stored.notice_version, stored.delivery_method, stored.is_agent) == (
        "2023-03-28", "download", True)
    with pytest.raises(InvalidField):
        service.create(TicketDraft(request_types=["correction"], delivery_method="paper"))
    with pytest.raises(InvalidField):
        service.create(TicketDraft(request_types=["disclosure"], delivery_method="carrier pigeon"))


def test_unstorable_characters_are_dropped_from_what_operators_type(service, people):
    reference = claimed(service, people)
    service.record_identity(reference, people["sato"], method="call_back",
                            received="折り返し\x00電話\ud800で確認")
    assert service.get(reference).identity.received == "折り返し電話で確認"


# --- supervisors' figure -----------------------------------------------------------------------


def test_share_decided_within_target_by_type_and_week(service, people, clock, db_sessions):
    in_time = identified(service, people, request_types=["correction"])
    service.propose_decision(in_time, people["sato"], outcome="granted")
    late = identified(service, people, request_types=["correction"])
    overdue = claimed(service, people, request_types=["correction"])
    complaint = claimed(service, people, request_types=["complaint"])
    clock[0] = START + timedelta(days=10)
    service.propose_decision(late, people["sato"], outcome="granted")
    assert service.get(overdue).status == "assigned" and complaint
    with db_sessions() as session:
        figures = decided_within_target(session, None, None, clock[0])
    [week] = figures["weeks"]
    assert week["week"] == "2026-11-30" and week["request_type"] == "correction"
    assert (week["received"], week["within"], week["late"], week["open_overdue"]) == (3, 1, 1, 1)
    assert week["share"] == pytest.approx(1 / 3, abs=1e-3)
    assert [r["request_type"] for r in figures["by_request_type"]] == ["correction"]
