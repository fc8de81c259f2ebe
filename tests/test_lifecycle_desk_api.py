"""A request's life through the real desk (uvicorn, SQLite): the operator records identity,
agent, disclosure options, fee and a decision through the JSON API and the console's forms; a
supervisor who did not decide approves a refusal; the queue and the ticket page show the
received day, the internal target and the legal horizon; supervisors see the share decided
within target. Bad input gets a clear 4xx and changes nothing.

The desk and its fake Rasa are tests/test_desk_api.py's.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from madoguchi.tickets import ServiceTarget
from tests.test_desk_api import CSRF, Desk, desk  # noqa: F401 (the module's desk fixture)


@pytest.fixture(scope="module")
def kyoko(desk: Desk) -> str:  # noqa: F811
    """A second supervisor, for the four eyes."""
    desk.tokens["kyoko"] = desk.users.create_user("kyoko", "supervisor")[1]
    return "kyoko"


def claimed(desk: Desk, **overrides) -> str:  # noqa: F811
    overrides.setdefault("request_types", ["disclosure"])
    ticket = desk.ticket(**overrides)
    assert desk.call("POST", f"/api/tickets/{ticket.reference}/claim").status_code == 200
    return ticket.reference


def audit_actions(desk: Desk, reference: str) -> list[str]:  # noqa: F811
    return [e["action"] for e in desk.call("GET", f"/api/tickets/{reference}").json()["audit"]
            if e["action"] != "viewed"]


def test_a_refusal_from_identity_to_approval_through_the_api(desk: Desk, kyoko: str) -> None:  # noqa: F811
    reference = claimed(desk)
    path = f"/api/tickets/{reference}"
    early = desk.call("POST", path + "/decision", json={"outcome": "granted"})
    assert early.status_code == 409 and "本人確認" in early.json()["detail"]

    identity = desk.call("POST", path + "/identity", json={
        "method": "postal_documents", "received": "請求用紙、運転免許証のコピー",
        "received_at": "2026-12-01"})
    assert identity.status_code == 201
    assert identity.json()["lifecycle"]["identity"]["verified_by"] == "sato"
    assert identity.json()["identity"]["received"] == "請求用紙、運転免許証のコピー"
    again = desk.call("POST", path + "/identity", json={"method": "call_back",
                                                        "received": "電話"})
    assert again.status_code == 409 and "すでに記録" in again.json()["detail"]

    agent = desk.call("POST", path + "/agent", json={"kind": "mandate", "relation": "弟"})
    assert agent.json()["lifecycle"]["agent"]["documents"][0] == "ご本人が署名・押印した委任状"
    disclosure = desk.call("POST", path + "/disclosure", json={
        "kind": "provision_records", "delivery_method": "paper", "scope": "all"})
    assert disclosure.json()["lifecycle"]["disclosure"]["delivery_label"] == "書面の交付（郵送）"
    fee = desk.call("POST", path + "/fee", json={"amount": 1000})
    assert fee.status_code == 200 and fee.json()["fee_amount"] == 1000

    proposed = desk.call("POST", path + "/decision", json={
        "outcome": "refused", "ground": "disclosure.not_held",
        "explanation": "ご指定の期間の提供記録は保存期間を過ぎて残っておりません。"})
    assert proposed.status_code == 201
    data = proposed.json()
    assert data["status"] == "pending_approval"
    assert data["decision"]["state"] == "pending" and "当社が保有していない" in data[
        "decision"]["letter"]

    operator = desk.call("POST", path + "/decision/approve")
    assert operator.status_code == 403
    approved = desk.call("POST", path + "/decision/approve", user=kyoko)
    assert approved.status_code == 200 and approved.json()["status"] == "rejected"
    assert approved.json()["decision"]["approved_by"] == "kyoko"
    assert audit_actions(desk, reference)[-9:] == [
        "claimed", "attempt_refused", "identity_recorded", "attempt_refused", "agent_recorded",
        "disclosure_recorded", "fee_recorded", "decision_proposed", "decision_approved"]


def test_a_refusal_approved_by_its_author_is_409_and_nothing_changes(desk: Desk, kyoko: str  # noqa: F811
                                                                     ) -> None:
    reference = claimed(desk, request_types=["correction"])
    path = f"/api/tickets/{reference}"
    desk.call("POST", path + "/identity", json={"method": "call_back",
                                                "received": "登録番号への折り返し"}, user=kyoko)
    desk.call("POST", path + "/decision", user=kyoko, json={
        "outcome": "refused", "ground": "correction.not_inaccurate", "explanation": "理由"})
    own = desk.call("POST", path + "/decision/approve", user=kyoko)
    assert own.status_code == 409 and "判断した本人は承認できません" in own.json()["detail"]
    assert desk.call("GET", path).json()["status"] == "pending_approval"
    returned = desk.call("POST", path + "/decision/return", user="boss",
                         json={"reason": "根拠を確認してください"})
    assert returned.json()["status"] == "assigned"
    assert returned.json()["decisions"][0]["return_reason"] == "根拠を確認してください"


# What a refused attempt must leave as it was: every stored field of the ticket and its steps.
KEPT = ("status", "assignee", "priority", "request_types", "updated_at", "received_at", "due_at",
        "identity", "agent_kind", "agent_relation", "disclosure_kind", "delivery_method",
        "disclosure_scope", "disclosure_items", "fee_amount", "fee_told_at", "decision",
        "decisions", "notes")


def stored(desk: Desk, reference: str, user: str = "sato") -> tuple[dict, list[dict]]:  # noqa: F811
    """The ticket's kept fields and its audit log (reads of clear data left out)."""
    data = desk.call("GET", f"/api/tickets/{reference}", user=user).json()
    return ({name: data.get(name) for name in KEPT},
            [e for e in data["audit"] if e["action"] != "viewed"])


def assert_refusal_audited(desk: Desk, reference: str, before: tuple[dict, list[dict]],  # noqa: F811
                           response, *, actor: str, attempted: str) -> None:
    """The ticket is as it was; the log gained exactly one entry: who, what, the reason."""
    fields, audit = stored(desk, reference)
    assert fields == before[0]
    assert audit[:-1] == before[1]
    entry = audit[-1]
    assert (entry["actor"], entry["action"]) == (actor, "attempt_refused")
    assert entry["changes"]["attempted"]["new"].startswith(attempted)
    assert entry["changes"]["reason"]["new"] == " ".join(response.json()["detail"].split())


@pytest.mark.parametrize(("route", "body", "status", "words", "attempted"), [
    ("/decision", {"outcome": "refused", "explanation": "理由"}, 422, "根拠", "propose_decision"),
    ("/decision", {"outcome": "refused", "ground": "correction.not_inaccurate",
                   "explanation": "理由"}, 422, "根拠", "propose_decision"),
    ("/decision", {"outcome": "refused", "ground": "disclosure.not_held"}, 422, "explanation",
     "propose_decision"),
    ("/decision", {"outcome": "maybe"}, 422, "outcome", "propose_decision"),
    ("/decision", ["granted"], 422, "JSON", "propose_decision"),
    ("/identity", {"method": "fax", "received": "書類"}, 422, "method", "record_identity"),
    ("/identity", {"method": "call_back"}, 422, "received", "record_identity"),
    ("/received", {"received_at": "2999-01-01"}, 422, "未来", "set_received_at"),
    ("/received", {"received_at": "昨日"}, 422, "ISO", "set_received_at"),
    ("/fee", {"amount": "千円"}, 422, "fee amount", "record_fee"),
    ("/fee", {}, 422, "手数料の額", "record_fee"),
    ("/disclosure", {"kind": "held_data", "delivery_method": "fax"}, 422, "delivery_method",
     "set_disclosure"),
    ("/agent", {"kind": "neighbour"}, 422, "kind", "set_agent"),
])
def test_bad_input_is_refused_with_its_reason_and_only_the_attempt_is_audited(
    desk: Desk, route: str, body, status: int, words: str, attempted: str  # noqa: F811
) -> None:
    reference = claimed(desk)
    if route == "/decision":
        desk.call("POST", f"/api/tickets/{reference}/identity",
                  json={"method": "web_member_login", "received": "会員ログイン"})
    before = stored(desk, reference)
    response = desk.call("POST", f"/api/tickets/{reference}{route}", json=body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert_refusal_audited(desk, reference, before, response, actor="sato", attempted=attempted)


def test_the_issues_refused_steps_are_each_audited_and_change_nothing(desk: Desk, kyoko: str  # noqa: F811
                                                                      ) -> None:
    """Issue 16's bad input: a second identity record, a decision without a ground, a refusal
    approved by its own author, a request type changed after the decision."""
    reference = claimed(desk, request_types=["correction"])
    path = f"/api/tickets/{reference}"
    desk.call("POST", path + "/identity", json={"method": "call_back", "received": "電話"})

    before = stored(desk, reference)
    second = desk.call("POST", path + "/identity", json={"method": "postal_documents",
                                                         "received": "免許証のコピー"})
    assert second.status_code == 409 and "すでに記録" in second.json()["detail"]
    assert_refusal_audited(desk, reference, before, second, actor="sato",
                           attempted="record_identity")

    before = stored(desk, reference)
    groundless = desk.call("POST", path + "/decision", user=kyoko,
                           json={"outcome": "refused", "explanation": "理由"})
    assert groundless.status_code == 422 and "根拠" in groundless.json()["detail"]
    assert_refusal_audited(desk, reference, before, groundless, actor="kyoko",
                           attempted="propose_decision")

    desk.call("POST", path + "/decision", user=kyoko, json={
        "outcome": "refused", "ground": "correction.not_inaccurate", "explanation": "理由"})
    before = stored(desk, reference)
    own = desk.call("POST", path + "/decision/approve", user=kyoko)
    assert own.status_code == 409 and "判断した本人は承認できません" in own.json()["detail"]
    assert_refusal_audited(desk, reference, before, own, actor="kyoko",
                           attempted="approve_decision")
    assert stored(desk, reference)[0]["status"] == "pending_approval"

    desk.call("POST", path + "/decision/approve", user="boss")
    before = stored(desk, reference)
    retyped = desk.call("PATCH", path, json={"request_types": ["suspension"]})
    assert retyped.status_code == 409 and "請求の種類を変更できません" in retyped.json()["detail"]
    assert_refusal_audited(desk, reference, before, retyped, actor="sato",
                           attempted="update_fields (request_types)")


def test_refusals_the_desk_makes_itself_are_audited_once(desk: Desk) -> None:  # noqa: F811
    """Someone else's ticket, refused before the service is called: one entry for the API,
    one for the console's form (never two for one attempt)."""
    reference = claimed(desk)
    path = f"/api/tickets/{reference}"
    before = stored(desk, reference)
    taken = desk.call("POST", path + "/fee", json={"amount": 500}, user="suzuki")
    assert taken.status_code == 409 and taken.json()["detail"].endswith("held by sato")
    assert_refusal_audited(desk, reference, before, taken, actor="suzuki",
                           attempted="record_fee")

    before = stored(desk, reference)
    base = f"/desk/tickets/{reference}"
    csrf = CSRF.search(desk.page("GET", base).text).group(1)
    empty = desk.page("POST", base + "/identity", data={
        "csrf": csrf, "method": "call_back", "received": ""})
    assert empty.status_code == 422 and "received" in empty.text
    fields, audit = stored(desk, reference)
    assert fields == before[0] and audit[:-1] == before[1]
    assert audit[-1]["action"] == "attempt_refused" and audit[-1]["actor"] == "sato"
    assert audit[-1]["changes"]["attempted"]["new"] == "record_identity"
    assert "received" in audit[-1]["changes"]["reason"]["new"]

    page = desk.page("GET", base).text
    assert "受け付けなかった操作" in page and "試みた操作" in page


@pytest.mark.parametrize("request_type", ["correction", "suspension", "third_party_stop"])
def test_a_fee_on_three_four_or_five_is_422(desk: Desk, request_type: str) -> None:  # noqa: F811
    reference = claimed(desk, request_types=[request_type])
    response = desk.call("POST", f"/api/tickets/{reference}/fee", json={"amount": 500})
    assert response.status_code == 422 and "法第38条" in response.json()["detail"]


def test_the_type_changes_only_before_a_decision(desk: Desk) -> None:  # noqa: F811
    reference = claimed(desk, request_types=["correction"])
    path = f"/api/tickets/{reference}"
    assert desk.call("PATCH", path, json={"request_types": ["suspension"]}).status_code == 200
    desk.call("POST", path + "/identity", json={"method": "call_back", "received": "電話"})
    desk.call("POST", path + "/decision", json={"outcome": "granted"})
    late = desk.call("PATCH", path, json={"request_types": ["correction"]})
    assert late.status_code == 409 and "請求の種類を変更できません" in late.json()["detail"]
    resolved = desk.call("GET", path).json()
    assert resolved["status"] == "resolved" and resolved["request_types"] == ["suspension"]


def test_a_plain_status_change_cannot_close_a_request(desk: Desk) -> None:  # noqa: F811
    reference = claimed(desk)
    response = desk.call("PATCH", f"/api/tickets/{reference}", json={"status": "resolved"})
    assert response.status_code == 409 and "判断" in response.json()["detail"]
    data = desk.call("GET", f"/api/tickets/{reference}").json()
    assert "resolved" not in data["allowed_transitions"]


def test_queue_and_ticket_show_the_target_and_the_legal_horizon(desk: Desk) -> None:  # noqa: F811
    long_ago = datetime.now(timezone.utc) - timedelta(days=20)
    old = desk.ticket(request_types=["disclosure"], clock=lambda: long_ago,
                      service_target=ServiceTarget(business_days=3))
    fresh = desk.ticket(request_types=["purpose_notice"])
    rows = {t["reference"]: t for t in desk.call("GET", "/api/tickets?limit=500").json()[
        "tickets"]}
    assert rows[old.reference]["horizon_days_left"] == -6
    assert rows[old.reference]["hours_left"] < 0
    assert rows[fresh.reference]["legal_horizon"] is None  # ① is not under Art. 39

    queue = desk.page("GET", "/desk?status=new").text
    row = re.search(rf'<tr class="[^"]*overdue[^"]*" data-reference="{old.reference}"', queue)
    assert row, "an overdue row stands out"
    assert "6日超過" in queue and "法定の期間（第39条）" in queue

    desk.call("POST", f"/api/tickets/{old.reference}/claim")
    page = desk.page("GET", f"/desk/tickets/{old.reference}").text
    assert 'id="lifecycle"' in page and "1. 本人確認" in page and "6日超過" in page
    assert 'id="identity-form"' in page and 'id="decision-form"' in page
    assert "まだ判断できません" in page


def test_console_forms_record_identity_and_propose_a_refusal(desk: Desk, kyoko: str  # noqa: F811
                                                             ) -> None:
    reference = claimed(desk, request_types=["third_party_stop"])
    base = f"/desk/tickets/{reference}"
    csrf = CSRF.search(desk.page("GET", base).text).group(1)
    done = desk.page("POST", base + "/identity", data={
        "csrf": csrf, "method": "postal_documents", "received": "請求用紙、保険証のコピー"})
    assert done.status_code == 303 and done.headers["location"].endswith("#lifecycle")
    twice = desk.page("POST", base + "/identity", data={
        "csrf": csrf, "method": "call_back", "received": "電話"})
    assert twice.status_code == 409 and "すでに記録" in twice.text
    no_ground = desk.page("POST", base + "/decision", data={
        "csrf": csrf, "outcome": "refused", "explanation": "理由"})
    assert no_ground.status_code == 422 and "根拠" in no_ground.text
    proposed = desk.page("POST", base + "/decision", data={
        "csrf": csrf, "outcome": "refused", "ground": "third_party_stop.no_grounds",
        "explanation": "提供先は当社の委託先であり、第三者提供に当たりません。"})
    assert proposed.status_code == 303
    page = desk.page("GET", base).text
    assert "承認待ち" in page and "スーパーバイザーの承認を待っています" in page

    supervisor = desk.page("GET", base, user=kyoko).text
    assert 'id="approval-forms"' in supervisor
    kyoko_csrf = CSRF.search(supervisor).group(1)
    approved = desk.page("POST", base + "/approve", data={"csrf": kyoko_csrf}, user=kyoko)
    assert approved.status_code == 303
    assert desk.call("GET", f"/api/tickets/{reference}").json()["status"] == "rejected"


def test_supervisors_see_the_share_decided_within_target(desk: Desk, kyoko: str) -> None:  # noqa: F811
    reference = claimed(desk, request_types=["suspension"])
    path = f"/api/tickets/{reference}"
    desk.call("POST", path + "/identity", json={"method": "call_back", "received": "電話"})
    desk.call("POST", path + "/decision", json={"outcome": "granted"})
    assert desk.call("GET", "/api/metrics/decisions").status_code == 403
    figures = desk.call("GET", "/api/metrics/decisions", user=kyoko).json()
    suspension = next(r for r in figures["by_request_type"] if r["request_type"] == "suspension")
    assert suspension["within"] >= 1 and 0 < suspension["share"] <= 1
    assert desk.call("GET", "/api/metrics/decisions?since=soon", user=kyoko).status_code == 422
    page = desk.page("GET", "/desk/review/decisions", user=kyoko)
    assert page.status_code == 200 and "利用停止・消去" in page.text
    assert desk.page("GET", "/desk/review/decisions").status_code == 403


def test_the_schema_documents_each_steps_body(desk: Desk) -> None:  # noqa: F811
    paths = desk.call("GET", "/api/openapi.json", user=None).json()["paths"]
    decision = paths["/api/tickets/{reference}/decision"]["post"]
    schema = decision["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["outcome"]["enum"] == ["granted", "partly_granted", "refused"]
    assert {"409", "422"} <= set(decision["responses"])
    for route in ("identity", "agent", "disclosure", "fee", "received", "decision/return"):
        assert "requestBody" in paths[f"/api/tickets/{{reference}}/{route}"]["post"], route
    rules = desk.call("GET", "/api/lifecycle").json()
    assert rules["legal_horizon"] == {"days": 14, "applies_to": [
        "disclosure", "correction", "suspension", "third_party_stop"]}


def test_the_disclosure_step_tells_the_operator_that_data_soon_deleted_is_covered(
    desk: Desk,  # noqa: F811
) -> None:
    disclosure = claimed(desk)
    page = desk.page("GET", f"/desk/tickets/{disclosure}").text
    assert 'id="disclosure-coverage"' in page and "6か月以内に消去する予定のデータも" in page
    data = desk.call("GET", f"/api/tickets/{disclosure}").json()
    assert "2022年4月" in data["lifecycle"]["disclosure"]["covers"]
    other = claimed(desk, request_types=["correction"])
    assert 'id="disclosure-coverage"' not in desk.page("GET", f"/desk/tickets/{other}").text


def test_the_disclosure_scope_shows_the_items_the_customer_named(desk: Desk) -> None:  # noqa: F811
    # The lifecycle's disclosure holds its items under the key "items": the page read it as an
    # attribute, which Jinja gives as dict.items, and showed "<built-in method items ...>".
    reference = claimed(desk)
    base = f"/desk/tickets/{reference}"
    csrf = CSRF.search(desk.page("GET", base).text).group(1)
    saved = desk.page("POST", base + "/disclosure", data={
        "csrf": csrf, "kind": "held_data", "delivery_method": "paper", "scope": "items",
        "items": "購入履歴\nお問い合わせの記録"})
    assert saved.status_code == 303
    page = desk.page("GET", base).text
    assert "<dt>範囲</dt><dd>ご指定の項目のみ：購入履歴、お問い合わせの記録</dd>" in page
    assert "built-in method" not in page
