"""The desk through a real uvicorn server: every API call with its roles and errors, the live
queue stream, the console pages (login cookie, CSRF, escaping) and /health.

Rasa is a small fake HTTP server in a thread: it serves canned trackers and records the events
the desk posts (the real-Rasa end-to-end runs in tests/e2e).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
import pytest
import requests
from fastapi import HTTPException

from madoguchi.desk.auth import check_role, may
from madoguchi.infra.db import make_engine, session_factory
from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import (
    ServiceTarget,
    Ticket,
    TicketDraft,
    User,
    UserRepository,
)
from madoguchi.tickets import (
    TicketService as TicketRepository,
)

ROOT = project_root()
RASA_TOKEN = "rasa-secret"
EVIL = "<script>alert('x')</script>"
EVIL_CHAT = "<img src=x onerror=alert(1)>"
T0 = 1_764_000_000.0  # canned tracker timestamps


# --- a fake Rasa -------------------------------------------------------------------------------


def _authorised(header: str | None) -> bool:
    """Rasa's JWT check: `Bearer <JWT signed with the token>` (madoguchi.infra.rasa_auth)."""
    try:
        jwt.decode((header or "").removeprefix("Bearer "), RASA_TOKEN, algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return True


@dataclass
class FakeRasa:
    trackers: dict[str, dict[str, Any]] = field(default_factory=dict)
    posted: list[dict[str, Any]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _conversation(self) -> tuple[str | None, str, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                match = re.fullmatch(r"/conversations/([^/]+)/(tracker(?:/events)?)", parts.path)
                if not match:
                    return None, parts.path, parse_qs(parts.query)
                return unquote(match.group(1)), match.group(2), parse_qs(parts.query)

            def do_GET(self) -> None:
                cid, tail, _query = self._conversation()
                if cid is None:
                    self._send(200, b'"Hello from Rasa: 3.6.21"') if tail == "/" else self._send(
                        404, {}
                    )
                    return
                if cid in fake.failing:
                    self._send(500, {"message": "boom"})
                    return
                if not _authorised(self.headers.get("Authorization")):
                    self._send(401, {"message": "no token"})
                    return
                self._send(200, fake.trackers.get(cid, {"sender_id": cid, "events": []}))

            def do_POST(self) -> None:
                cid, tail, query = self._conversation()
                length = int(self.headers.get("Content-Length") or 0)
                event = json.loads(self.rfile.read(length) or b"null")
                if cid is None or tail != "tracker/events" or cid in fake.failing:
                    self._send(500, {"message": "boom"})
                    return
                fake.posted.append({"conversation_id": cid, "query": query, "event": event,
                                    "authorised": _authorised(self.headers.get("Authorization"))})
                tracker = fake.trackers.setdefault(cid, {"sender_id": cid, "events": []})
                tracker["events"].append({**event, "timestamp": time.time()})
                if event.get("event") == "resume":
                    tracker["paused"] = False
                self._send(200, {"sender_id": cid})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def events_for(self, conversation_id: str) -> list[dict[str, Any]]:
        return [p for p in self.posted if p["conversation_id"] == conversation_id]


def canned_tracker(conversation_id: str) -> dict[str, Any]:
    return {
        "sender_id": conversation_id,
        "paused": True,
        "events": [
            {"event": "action", "timestamp": T0, "name": "action_session_start"},
            {"event": "user", "timestamp": T0 + 1, "text": "住所を変えたいです"},
            {"event": "bot", "timestamp": T0 + 2, "text": "訂正のご請求ですね。",
             "metadata": {"utter_action": "utter_confirm"},
             "data": {"buttons": [{"title": "はい", "payload": "/affirm"}]}},
            {"event": "user", "timestamp": T0 + 3, "text": EVIL_CHAT},
            {"event": "pause", "timestamp": T0 + 4},
            {"event": "bot", "timestamp": T0 + 5, "text": "担当の佐藤です。",
             "metadata": {"operator": "sato"}},
            {"event": "slot", "timestamp": T0 + 6, "name": "x", "value": 1},
        ],
    }


# --- the desk server ---------------------------------------------------------------------------


@dataclass
class Desk:
    base: str
    rasa: FakeRasa
    sessions: Any
    users: UserRepository
    tokens: dict[str, str]

    def repo(self, **kwargs: Any) -> TicketRepository:
        kwargs.setdefault("service_target", ServiceTarget(business_days=3))
        return TicketRepository(self.sessions, **kwargs)

    def ticket(self, **overrides: Any) -> Ticket:
        repo_args = {k: overrides.pop(k) for k in ("service_target", "clock") if k in overrides}
        return self.repo(**repo_args).create(draft(**overrides))

    def call(
        self, method: str, path: str, user: str | None = "sato", **kwargs: Any
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return requests.request(method, self.base + path, headers=headers, timeout=20,
                                allow_redirects=False, **kwargs)

    def page(self, method: str, path: str, user: str | None = "sato",
             **kwargs: Any) -> requests.Response:
        cookies = {"madoguchi_desk": login(self.base, self.tokens[user])} if user else {}
        return requests.request(method, self.base + path, cookies=cookies, timeout=20,
                                allow_redirects=False, **kwargs)


_LOGINS: dict[tuple[str, str], str] = {}


def login(base: str, token: str, *, fresh: bool = False) -> str:
    """The console session a login with `token` was given (the cookie's value; "" when the
    login is refused), one per user unless `fresh`: a page's CSRF value belongs to it."""
    if fresh or (base, token) not in _LOGINS:
        response = requests.post(base + "/desk/login", data={"token": token}, timeout=10,
                                 allow_redirects=False)
        session = response.cookies.get("madoguchi_desk", "")
        if fresh:
            return session
        _LOGINS[(base, token)] = session
    return _LOGINS[(base, token)]


def draft(**overrides: Any) -> TicketDraft:
    values: dict[str, Any] = dict(
        request_types=["correction"],
        customer_name="山田 太郎",
        customer_phone="090-1234-5678",
        customer_email="taro@example.jp",
        customer_postal_address="東京都千代田区1-1-1",
        details={"correction": {"item": "住所", "value": "大阪府大阪市北区2-2-2"}},
        customer_words="登録している住所が古いので直してください",
        nlu_intent="request_correction",
        nlu_confidence=0.93,
        notice_sections=["4.1", "4.2"],
        next_steps="請求書を郵送します。",
        conversation_id=f"conv-{time.monotonic_ns()}",
    )
    values.update(overrides)
    return TicketDraft(**values)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    work = tmp_path_factory.mktemp("desk")
    database_url = f"sqlite:///{work / 'madoguchi.db'}"
    rasa = FakeRasa()
    rasa.start()
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": rasa.url,
        "MADOGUCHI_RASA_TOKEN": RASA_TOKEN,
        "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{free_port()}",  # nobody: actions down
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = desk_service(port=port)
    launcher.start(service)
    engine = None
    try:
        launcher.wait_ready([service], timeout=60)
        engine = make_engine(database_url)
        sessions = session_factory(engine)
        users = UserRepository(sessions)
        tokens = {name: users.create_user(name, role)[1] for name, role in
                  [("sato", "operator"), ("suzuki", "operator"), ("boss", "supervisor"),
                   ("gone", "operator")]}
        users.set_active("gone", False)
        yield Desk(f"http://127.0.0.1:{port}", rasa, sessions, users, tokens)
    finally:
        launcher.stop_all()
        rasa.stop()
        if engine is not None:
            engine.dispose()


# --- health and auth ---------------------------------------------------------------------------


def test_health_answers_without_auth_and_says_what_is_up(desk: Desk) -> None:
    response = requests.get(desk.base + "/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded", "database": True, "rasa": True, "actions": False,
    }


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic c2F0bzp4"},
])
def test_api_needs_a_valid_bearer_token(desk: Desk, headers: dict[str, str]) -> None:
    response = desk.call("GET", "/api/tickets", user=None, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert isinstance(response.json()["detail"], str)


def test_disabled_user_and_chat_id_open_nothing(desk: Desk) -> None:
    assert desk.call("GET", "/api/tickets", user="gone").status_code == 401
    ticket = desk.ticket()
    chat_id = {"Authorization": f"Bearer {ticket.conversation_id}"}
    assert desk.call("GET", f"/api/tickets/{ticket.reference}", user=None,
                     headers=chat_id).status_code == 401


def test_login_cookie_opens_reads_but_never_writes(desk: Desk) -> None:
    ticket = desk.ticket()
    cookie = {"madoguchi_desk": login(desk.base, desk.tokens["sato"], fresh=True)}
    read = requests.get(f"{desk.base}/api/tickets/{ticket.reference}", cookies=cookie, timeout=10)
    assert read.status_code == 200
    write = requests.post(f"{desk.base}/api/tickets/{ticket.reference}/claim", cookies=cookie,
                          timeout=10)
    assert write.status_code == 401


def test_roles_operator_calls_open_to_supervisors_not_the_reverse(desk: Desk) -> None:
    assert desk.call("GET", "/api/tickets", user="boss").status_code == 200
    operator = User(name="sato", role="operator")
    supervisor = User(name="boss", role="supervisor")
    assert may(operator, "operator") and may(supervisor, "operator")
    assert may(supervisor, "supervisor") and not may(operator, "supervisor")
    with pytest.raises(HTTPException) as refused:
        check_role(operator, "supervisor")
    assert refused.value.status_code == 403


# --- the queue ---------------------------------------------------------------------------------


def test_queue_most_urgent_then_earliest_due_first(desk: Desk) -> None:
    later = desk.ticket(service_target=ServiceTarget(hours=48))
    sooner = desk.ticket(service_target=ServiceTarget(hours=10))
    complaint = desk.ticket(request_types=["complaint"], service_target=ServiceTarget(hours=72))
    urgent = desk.ticket(priority="urgent", service_target=ServiceTarget(hours=96))
    response = desk.call("GET", "/api/tickets?limit=500")
    assert response.status_code == 200
    items = response.json()["tickets"]
    mine = [t["reference"] for t in items
            if t["reference"] in {later.reference, sooner.reference, complaint.reference,
                                  urgent.reference}]
    assert mine == [urgent.reference, complaint.reference, sooner.reference, later.reference]
    row = next(t for t in items if t["reference"] == sooner.reference)
    assert set(row) == {
        "reference", "request_types", "request_type_labels", "status", "priority",
        "created_at", "due_at", "hours_left", "assignee", "customer_name",
        "received_at", "legal_horizon", "horizon_days_left",
    }
    assert row["request_type_labels"] == ["訂正・追加・削除"]
    assert 9 < row["hours_left"] <= 10
    # The name only on the caller's own tickets (tests/security/test_desk_reads.py).
    assert row["customer_name"] is None and "customer_phone" not in row


def test_queue_filters_and_paging(desk: Desk) -> None:
    complaint = desk.ticket(request_types=["complaint"])
    desk.ticket(request_types=["disclosure"])
    by_type = desk.call("GET", "/api/tickets?type=complaint&limit=500").json()["tickets"]
    assert complaint.reference in [t["reference"] for t in by_type]
    assert all("complaint" in t["request_types"] for t in by_type)

    desk.call("POST", f"/api/tickets/{complaint.reference}/claim", user="suzuki")
    mine = desk.call("GET", "/api/tickets?assignee=me", user="suzuki").json()["tickets"]
    assert [t["reference"] for t in mine] == [complaint.reference]
    by_name = desk.call("GET", "/api/tickets?assignee=suzuki").json()["tickets"]
    assert [t["reference"] for t in by_name] == [complaint.reference]
    assigned = desk.call("GET", "/api/tickets?status=assigned&limit=500").json()["tickets"]
    assert assigned and all(t["status"] == "assigned" for t in assigned)
    new = desk.call("GET", "/api/tickets?status=new&limit=500").json()["tickets"]
    assert complaint.reference not in [t["reference"] for t in new]

    page = desk.call("GET", "/api/tickets?limit=2&offset=1").json()
    assert len(page["tickets"]) == 2 and page["offset"] == 1
    everything = desk.call("GET", "/api/tickets?limit=3").json()["tickets"]
    assert page["tickets"][0] == everything[1]

    for bad in ("status=bogus", "type=bogus", "limit=0", "limit=501", "offset=-1"):
        response = desk.call("GET", f"/api/tickets?{bad}")
        assert response.status_code == 422, bad
        assert isinstance(response.json()["detail"], str)


# --- one ticket --------------------------------------------------------------------------------


def test_ticket_with_history_and_transcript(desk: Desk) -> None:
    ticket = desk.ticket()
    desk.rasa.trackers[ticket.conversation_id] = canned_tracker(ticket.conversation_id)
    # A supervisor (or the holder) reads it in clear (tests/security/test_desk_reads.py).
    response = desk.call("GET", f"/api/tickets/{ticket.reference.lower()}", user="boss")
    assert response.status_code == 200
    data = response.json()
    assert data["reference"] == ticket.reference
    assert data["customer_phone"] == "090-1234-5678"  # operators call back: unmasked
    assert data["details"]["correction"]["item"] == "住所"
    assert data["audit"][0]["action"] == "created" and data["notes"] == []
    # A correction is rejected only through a decision (tests/test_lifecycle_desk_api.py).
    assert data["allowed_transitions"] == ["assigned", "withdrawn"]
    assert data["transcript_error"] is None and data["conversation_paused"] is True
    lines = [(line["who"], line["text"]) for line in data["transcript"]]
    assert lines == [
        ("customer", "住所を変えたいです"),
        ("bot", "訂正のご請求ですね。\n[はい]"),
        ("customer", EVIL_CHAT),
        ("system", "担当者に引き継ぎました（ボット停止）"),
        ("operator", "担当の佐藤です。"),
    ]
    assert data["transcript"][4]["name"] == "sato"
    assert data["transcript"][0]["at"].startswith(
        datetime.fromtimestamp(T0 + 1, tz=timezone.utc).isoformat()[:19]
    )


def test_transcript_error_when_rasa_fails(desk: Desk) -> None:
    ticket = desk.ticket()
    desk.rasa.failing.add(ticket.conversation_id)
    data = desk.call("GET", f"/api/tickets/{ticket.reference}", user="boss").json()
    assert data["transcript"] is None and "500" in data["transcript_error"]
    assert data["reference"] == ticket.reference


def test_unknown_reference_is_404_everywhere(desk: Desk) -> None:
    for method, path, body in [
        ("GET", "", None), ("PATCH", "", {"priority": "high"}), ("POST", "/claim", None),
        ("POST", "/notes", {"body": "x"}), ("POST", "/messages", {"text": "x"}),
        ("POST", "/handback", None), ("GET", "/transcript", None),
    ]:
        response = desk.call(method, f"/api/tickets/PRV-20000101-9999{path}", json=body)
        assert response.status_code == 404, (method, path)
        assert "detail" in response.json()


def test_claim_and_409_when_someone_else_holds_it(desk: Desk) -> None:
    ticket = desk.ticket()
    first = desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    assert first.status_code == 200
    assert first.json()["assignee"] == "sato" and first.json()["status"] == "assigned"
    assert first.json()["audit"][-1]["actor"] == "sato"
    assert first.json()["audit"][-1]["action"] == "claimed"
    other = desk.call("POST", f"/api/tickets/{ticket.reference}/claim", user="suzuki")
    assert other.status_code == 409
    assert other.json()["holder"] == "sato"
    again = desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    # Claiming one's own ticket again writes nothing; suzuki's refused claim is on the log.
    assert again.status_code == 200
    assert [(e["actor"], e["action"]) for e in again.json()["audit"]] == [
        ("assistant", "created"), ("sato", "claimed"), ("suzuki", "attempt_refused")]


def test_patch_status_along_the_workflow_with_audit(desk: Desk) -> None:
    ticket = desk.ticket(request_types=["complaint"])  # ①–⑤ resolve through a decision
    path = f"/api/tickets/{ticket.reference}"
    refused = desk.call("PATCH", path, json={"status": "resolved"})
    assert refused.status_code == 409
    assert refused.json()["current"] == "new" and refused.json()["requested"] == "resolved"

    desk.call("POST", path + "/claim")
    response = desk.call("PATCH", path, json={"status": "waiting_customer",
                                              "customer_phone": "03-1234-5678"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "waiting_customer" and data["customer_phone"] == "03-1234-5678"
    entry = data["audit"][-1]
    assert entry["actor"] == "sato" and entry["action"] == "updated"
    assert entry["changes"]["status"] == {"old": "assigned", "new": "waiting_customer"}
    assert entry["changes"]["customer_phone"]["new"] == "03-1234-5678"

    assert desk.call("PATCH", path, json={"status": "resolved"}).json()["status"] == "resolved"
    closed = desk.call("PATCH", path, json={"status": "assigned"})
    assert closed.status_code == 409


def test_patch_rejects_bad_fields_and_other_holders(desk: Desk) -> None:
    ticket = desk.ticket()
    path = f"/api/tickets/{ticket.reference}"
    for body in ({"reference": "X"}, {"priority": "whenever"}, {"request_types": ["nope"]},
                 {"customer_name": "あ" * 201}, {}, [1, 2], "text"):
        response = desk.call("PATCH", path, json=body)
        assert response.status_code == 422, body
        assert isinstance(response.json()["detail"], str)
    bad_json = desk.call("PATCH", path, data="{", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422

    desk.call("POST", path + "/claim")
    held = desk.call("PATCH", path, json={"priority": "high"}, user="suzuki")
    assert held.status_code == 409 and held.json()["holder"] == "sato"
    boss = desk.call("PATCH", path, json={"priority": "high"}, user="boss")
    assert boss.status_code == 200 and boss.json()["audit"][-1]["actor"] == "boss"


def test_notes_are_validated_audited_and_never_keep_card_numbers(desk: Desk) -> None:
    ticket = desk.ticket()
    path = f"/api/tickets/{ticket.reference}/notes"
    added = desk.call("POST", path, json={"body": "  18時に折り返し予定  "})
    assert added.status_code == 201
    assert added.json()["author"] == "sato" and added.json()["body"] == "18時に折り返し予定"
    assert desk.call("POST", path, json={"body": "あ" * 2000}, user="suzuki").status_code == 201
    for body in ({"body": ""}, {"body": "   "}, {"body": "あ" * 2001}, {"body": 5}, {},
                 ["body"]):
        response = desk.call("POST", path, json=body)
        assert response.status_code == 422, body
    card = desk.call("POST", path, json={"body": "カード番号 4111 1111 1111 1111 と言われた"})
    assert card.status_code == 201 and "4111 1111" not in card.json()["body"]

    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()
    assert [n["author"] for n in data["notes"]] == ["sato", "suzuki", "sato"]
    notes_audit = [e for e in data["audit"] if e["action"] == "note_added"]
    assert [e["actor"] for e in notes_audit] == ["sato", "suzuki", "sato"]


def test_message_reaches_rasa_as_the_operators_turn(desk: Desk) -> None:
    ticket = desk.ticket()
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    response = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                         json={"text": "担当の佐藤です。ご住所を確認させてください。"})
    assert response.status_code == 201
    assert response.json()["conversation_id"] == ticket.conversation_id
    [posted] = desk.rasa.events_for(ticket.conversation_id)
    assert posted["event"] == {
        "event": "bot", "text": "担当の佐藤です。ご住所を確認させてください。",
        "metadata": {"operator": "sato"},
    }
    assert posted["authorised"] and "token" not in posted["query"]  # a header, not the URL
    assert posted["query"]["execute_side_effects"] == ["true"]
    assert posted["query"]["output_channel"] == ["latest"]

    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()
    assert data["transcript"][-1]["who"] == "operator"
    assert data["transcript"][-1]["name"] == "sato"
    entry = data["audit"][-1]
    assert entry["action"] == "message_sent" and entry["actor"] == "sato"

    for body in ({"text": ""}, {"text": "あ" * 2001}, {"body": "x"}):
        assert desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                         json=body).status_code == 422
    held = desk.call("POST", f"/api/tickets/{ticket.reference}/messages", json={"text": "x"},
                     user="suzuki")
    assert held.status_code == 409
    assert len(desk.rasa.events_for(ticket.conversation_id)) == 1


def test_message_without_conversation_or_rasa_is_refused(desk: Desk) -> None:
    phone = desk.ticket(conversation_id=None)
    response = desk.call("POST", f"/api/tickets/{phone.reference}/messages", json={"text": "x"})
    assert response.status_code == 409
    down = desk.ticket()
    desk.call("POST", f"/api/tickets/{down.reference}/claim")
    desk.rasa.failing.add(down.conversation_id)
    response = desk.call("POST", f"/api/tickets/{down.reference}/messages", json={"text": "x"})
    assert response.status_code == 502 and "Rasa" in response.json()["detail"]
    actions = [e["action"] for e in desk.call("GET", f"/api/tickets/{down.reference}")
               .json()["audit"]]
    # Written ahead of the delivery, and the failure after it (issue 15, item 12).
    assert actions[-2:] == ["message_sent", "message_failed"]


def test_handback_resumes_the_bot(desk: Desk) -> None:
    ticket = desk.ticket()
    desk.rasa.trackers[ticket.conversation_id] = canned_tracker(ticket.conversation_id)
    desk.call("POST", f"/api/tickets/{ticket.reference}/claim")
    response = desk.call("POST", f"/api/tickets/{ticket.reference}/handback")
    assert response.status_code == 200 and response.json()["resumed"] is True
    [posted] = desk.rasa.events_for(ticket.conversation_id)
    assert posted["event"] == {"event": "resume"}
    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()
    assert data["audit"][-1]["action"] == "handed_back"
    assert data["audit"][-1]["actor"] == "sato"
    assert data["conversation_paused"] is False
    assert data["transcript"][-1] == {**data["transcript"][-1], "who": "system",
                                      "text": "ボットに戻しました"}


# --- the live queue ----------------------------------------------------------------------------


def read_event(lines: Iterator[str], wanted: str, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    name = None
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name == wanted:
            return json.loads(line[6:])
        if time.monotonic() > deadline:
            break
    raise AssertionError(f"no {wanted!r} event within {within}s")


def test_stream_announces_a_new_ticket(desk: Desk) -> None:
    with desk.call("GET", "/api/tickets/stream", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines(decode_unicode=True)
        ready = read_event(lines, "ready", within=5)
        started = time.monotonic()
        desk.ticket()
        changed = read_event(lines, "queue", within=6)
        assert changed["version"] != ready["version"]
        assert time.monotonic() - started < 6


def test_stream_catches_up_after_a_reconnect(desk: Desk) -> None:
    # What the console's EventSource does: the login cookie, and the last id it saw.
    with desk.page("GET", "/api/tickets/stream", stream=True,
                   headers={"Last-Event-ID": "an-old-version"}) as response:
        read_event(response.iter_lines(decode_unicode=True), "queue", within=3)
    assert desk.call("GET", "/api/tickets/stream", user=None).status_code == 401


# --- the console pages -------------------------------------------------------------------------


CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def test_login_sets_an_httponly_strict_cookie_and_logout_clears_it(desk: Desk) -> None:
    assert desk.page("GET", "/desk/login", user=None).status_code == 200
    wrong = requests.post(desk.base + "/desk/login", data={"token": "nope"}, timeout=10,
                          allow_redirects=False)
    assert wrong.status_code == 401 and "トークンが正しくない" in wrong.text
    assert "set-cookie" not in wrong.headers

    ok = requests.post(desk.base + "/desk/login",
                       data={"token": desk.tokens["sato"], "next": "/desk?type=complaint"},
                       timeout=10, allow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/desk?type=complaint"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith("madoguchi_desk=") and desk.tokens["sato"] not in cookie
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Path=/" in cookie and "secure" not in cookie.lower()  # plain http here

    elsewhere = requests.post(desk.base + "/desk/login",
                              data={"token": desk.tokens["sato"], "next": "//evil.example"},
                              timeout=10, allow_redirects=False)
    assert elsewhere.headers["location"] == "/desk"

    out = requests.post(desk.base + "/desk/logout", timeout=10, allow_redirects=False,
                        cookies={"madoguchi_desk": login(desk.base, desk.tokens["sato"],
                                                         fresh=True)})
    assert out.status_code == 303
    assert 'madoguchi_desk=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers[
        "set-cookie"]


def test_the_logout_route_has_one_operation_id_on_every_run(
    desk: Desk, tmp_path: Path
) -> None:
    # /desk/logout is one route for GET and POST; FastAPI named its operation after whichever
    # method a set gave first, so the schema said logout_desk_logout_get on one run and
    # logout_desk_logout_post on the next.
    paths = desk.call("GET", "/api/openapi.json", user=None).json()["paths"]
    assert {method: op["operationId"] for method, op in paths["/desk/logout"].items()} == {
        "get": "logout_desk_logout", "post": "logout_desk_logout"}
    assert requests.get(desk.base + "/desk/logout", timeout=10,
                        allow_redirects=False).headers["location"] == "/desk/login"

    script = ("import json; from madoguchi.desk.app import create_app; print(json.dumps({"
              "p + ' ' + m: o['operationId'] for p, ops in create_app().openapi()['paths']"
              ".items() for m, o in ops.items()}))")
    schemas = []
    for seed in ("1", "3"):  # two hash seeds that ordered {"GET", "POST"} differently
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "MADOGUCHI_DB_URL": f"sqlite:///{tmp_path / 'schema.db'}"}
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout
        schemas.append(json.loads(out.splitlines()[-1]))
    assert schemas[0]["/desk/logout get"] == "logout_desk_logout"
    assert schemas[0] == schemas[1]


def test_pages_need_login(desk: Desk) -> None:
    response = desk.page("GET", "/desk?status=new", user=None)
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/login?next=%2Fdesk%3Fstatus%3Dnew"
    assert desk.page("GET", "/desk/partials/queue", user=None).status_code == 401
    assert desk.page("GET", "/desk", user="gone").status_code == 303


def test_queue_page_escapes_and_colours_due_dates(desk: Desk) -> None:
    now = datetime.now(timezone.utc)
    overdue = desk.ticket(customer_name=EVIL, clock=lambda: now - timedelta(days=5),
                          service_target=ServiceTarget(hours=1))
    soon = desk.ticket(service_target=ServiceTarget(hours=5))
    relaxed = desk.ticket(service_target=ServiceTarget(hours=60))
    desk.call("POST", f"/api/tickets/{overdue.reference}/claim")  # names: the holder's only
    page = desk.page("GET", "/desk")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    html = page.text
    assert EVIL not in html and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    for ticket, css in ((overdue, "due-over"), (soon, "due-soon"), (relaxed, "due-ok")):
        row = re.search(rf'<tr[^>]*data-reference="{ticket.reference}">(.*?)</tr>', html, re.S)
        assert row is not None and f'class="{css}"' in row.group(1), ticket.reference
    assert "訂正" in html and "5日" in html

    rows = desk.page("GET", "/desk/partials/queue?type=complaint").text
    assert overdue.reference not in rows
    assert desk.page("GET", "/desk/static/desk.css").status_code == 200


def test_ticket_page_shows_everything_escaped(desk: Desk) -> None:
    ticket = desk.ticket(customer_words=EVIL, customer_name="<b>山田</b>")
    desk.rasa.trackers[ticket.conversation_id] = canned_tracker(ticket.conversation_id)
    page = desk.page("GET", f"/desk/tickets/{ticket.reference}", user="boss")
    assert page.status_code == 200
    html = page.text
    assert EVIL not in html and EVIL_CHAT not in html and "<b>山田</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;山田&lt;/b&gt;" in html
    for shown in ("090-1234-5678", "taro@example.jp", "東京都千代田区1-1-1",
                  "大阪府大阪市北区2-2-2", "訂正等をご希望の項目", "担当の佐藤です。", "お客様",
                  "受付", "担当する"):
        assert shown in html, shown
    assert desk.page("GET", "/desk/tickets/PRV-20000101-9999").status_code == 404


def test_ticket_page_forms_act_with_csrf(desk: Desk) -> None:
    ticket = desk.ticket(request_types=["complaint"])  # ①–⑤ resolve through a decision
    base = f"/desk/tickets/{ticket.reference}"
    csrf = CSRF.search(desk.page("GET", base).text).group(1)
    forged = desk.page("POST", base + "/claim", data={"csrf": "0" * 32})
    assert forged.status_code == 403
    assert desk.call("GET", f"/api/tickets/{ticket.reference}").json()["assignee"] is None

    claimed = desk.page("POST", base + "/claim", data={"csrf": csrf})
    assert claimed.status_code == 303 and claimed.headers["location"].startswith(base)
    assert "担当になりました" in desk.page("GET", claimed.headers["location"]).text

    wrong = desk.page("POST", base + "/status", data={"csrf": csrf, "status": "new"},
                      user="suzuki")
    assert wrong.status_code == 403  # suzuki's page has its own CSRF value
    suzuki_csrf = CSRF.search(desk.page("GET", base, user="suzuki").text).group(1)
    held = desk.page("POST", base + "/status", data={"csrf": suzuki_csrf, "status": "new"},
                     user="suzuki")
    assert held.status_code == 409 and "sato さんが担当" in held.text

    resolved = desk.page("POST", base + "/status", data={"csrf": csrf, "status": "resolved"})
    assert resolved.status_code == 303
    reopen = desk.page("POST", base + "/status", data={"csrf": csrf, "status": "assigned"})
    assert reopen.status_code == 409 and "変更できません" in reopen.text


def test_ticket_page_edits_notes_messages_and_handback(desk: Desk) -> None:
    ticket = desk.ticket()
    base = f"/desk/tickets/{ticket.reference}"
    csrf = CSRF.search(desk.page("GET", base).text).group(1)
    desk.page("POST", base + "/claim", data={"csrf": csrf})

    fields = {"csrf": csrf, "customer_name": "山田 花子", "customer_phone": "090-1234-5678",
              "customer_email": "", "customer_postal_address": "東京都千代田区1-1-1",
              "customer_member_number": "", "preferred_contact": "phone",
              "preferred_time": "", "priority": "high",
              "request_types": ["correction", "marketing_optout"]}
    assert desk.page("POST", base + "/fields", data=fields).status_code == 303
    data = desk.call("GET", f"/api/tickets/{ticket.reference}").json()
    assert data["customer_name"] == "山田 花子" and data["customer_email"] is None
    assert data["priority"] == "high"
    assert data["request_types"] == ["correction", "marketing_optout"]
    assert data["audit"][-1]["actor"] == "sato"

    empty = desk.page("POST", base + "/notes", data={"csrf": csrf, "body": "  "})
    assert empty.status_code == 422
    too_long = "あ" * 2001
    refused = desk.page("POST", base + "/messages", data={"csrf": csrf, "text": too_long})
    assert refused.status_code == 422 and too_long in refused.text  # what was typed stays
    assert desk.page("POST", base + "/notes",
                     data={"csrf": csrf, "body": "<i>要確認</i>"}).status_code == 303
    assert desk.page("POST", base + "/messages",
                     data={"csrf": csrf, "text": "お電話します"}).status_code == 303
    assert desk.page("POST", base + "/handback", data={"csrf": csrf}).status_code == 303
    posted = [p["event"] for p in desk.rasa.events_for(ticket.conversation_id)]
    assert posted == [{"event": "bot", "text": "お電話します", "metadata": {"operator": "sato"}},
                      {"event": "resume"}]
    html = desk.page("GET", base).text
    assert "&lt;i&gt;要確認&lt;/i&gt;" in html and "お客様へ送信" in html
    assert "ボットに戻す" in html


def test_queue_page_pages_through_a_long_queue(desk: Desk) -> None:
    """More tickets than one page holds: the console says which rows it shows and links on,
    and the live refresh keeps to the page being looked at."""
    _, desk.tokens["paging"] = desk.users.create_user("paging", "operator")
    repo = desk.repo()
    references = set()
    for _ in range(205):
        ticket = repo.create(draft())
        repo.claim(ticket.reference, "paging")
        references.add(ticket.reference)
    row = re.compile(r'data-reference="([^"]+)"')

    first = desk.page("GET", "/desk?assignee=me", user="paging").text
    assert len(row.findall(first)) == 200
    assert "1〜200件目" in first
    assert 'href="/desk?assignee=me&amp;page=2" rel="next"' in first and 'rel="prev"' not in first

    second = desk.page("GET", "/desk?assignee=me&page=2", user="paging").text
    assert len(row.findall(second)) == 5
    assert set(row.findall(first)) | set(row.findall(second)) == references
    assert "201〜205件目" in second
    assert 'href="/desk?assignee=me" rel="prev"' in second and 'rel="next"' not in second
    assert 'data-rows-url="/desk/partials/queue?assignee=me&amp;page=2"' in second
    live = desk.page("GET", "/desk/partials/queue?assignee=me&page=2", user="paging").text
    assert row.findall(live) == row.findall(second)

    for odd in ("abc", "0", "-3"):  # not a page number: the first page, not an error
        page = desk.page("GET", f"/desk?assignee=me&page={odd}", user="paging")
        assert page.status_code == 200 and row.findall(page.text) == row.findall(first)
