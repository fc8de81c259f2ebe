"""The real servers, started once per test session: Rasa (`rasa run --enable-api`) and the
action server, on the trained model, over a throwaway SQLite database.

They run with this test process's secrets (`run_secrets`): `Servers` calls Rasa's API with its
token and sends each customer message with the session token for its sender
(`session_token`), as a client that was issued the conversation would."""

from __future__ import annotations

import json
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from madoguchi.infra.rasa_auth import bearer
from madoguchi.infra.settings import project_root
from madoguchi.rasa_adapters import sessions
from madoguchi.runtime.launcher import (
    Launcher,
    Service,
    action_service,
    free_port,
    rasa_service,
    run_secrets,
)
from madoguchi.runtime.training import ensure_model

ROOT = project_root()


@dataclass
class Servers:
    rasa_url: str
    database_url: str
    launcher: Launcher
    rasa: Service
    actions: Service

    def _request(self, method: str, path: str, payload: object | None = None) -> object:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}{path}", data=data, method=method,
            headers={"Content-Type": "application/json", **api_auth()},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        return json.loads(body) if body else None

    def say(self, sender: str, text: str) -> list[dict]:
        """What the customer sees after sending text (REST channel)."""
        return self._request("POST", "/webhooks/rest/webhook",  # type: ignore[return-value]
                             {"sender": sender, "message": text,
                              "session_token": session_token(sender)})

    def parse(self, text: str) -> dict:
        return self._request("POST", "/model/parse", {"text": text})  # type: ignore[return-value]

    def tracker(self, sender: str) -> dict:
        return self._request("GET", f"/conversations/{sender}/tracker")  # type: ignore[return-value]

    def slot(self, sender: str, name: str) -> object:
        return self.tracker(sender)["slots"].get(name)


def new_sender() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def session_token(sender: str) -> str:
    """The token the servers would have issued for `sender` (signed with the test's secret)."""
    return sessions.sign(sender, secret=run_secrets().session_secret)


def api_auth() -> dict[str, str]:
    """The header that admits a call to Rasa's HTTP API."""
    return {"Authorization": bearer(run_secrets().rasa_token)}


WEBHOOK_SECRET = "e2e-secret"

# Other folders' conftests import these fixtures (tests/browser, tests/fuzz), and each import
# registers them anew: without this, pytest would start one set of servers per folder (35 s and
# about 1 GB each). Whichever starts them first shares them with the rest of the run.
_SHARED: dict[str, Any] = {}


@dataclass
class WebhookSink:
    """A stand-in for the call center's tool: records what the outgoing webhook posts."""

    url: str
    received: list[tuple[dict[str, str], bytes]]


@pytest.fixture(scope="session")
def webhook_sink() -> Iterator[WebhookSink]:
    if "webhook_sink" in _SHARED:
        yield _SHARED["webhook_sink"]
        return
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _SHARED["webhook_sink"] = WebhookSink(
            f"http://127.0.0.1:{server.server_port}/hook", received)
        yield _SHARED["webhook_sink"]
    finally:
        _SHARED.pop("webhook_sink", None)
        server.shutdown()


@pytest.fixture(scope="session")
def servers(
    tmp_path_factory: pytest.TempPathFactory, webhook_sink: WebhookSink
) -> Iterator[Servers]:
    if "servers" in _SHARED:
        yield _SHARED["servers"]
        return
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    work = tmp_path_factory.mktemp("servers")
    db_file = work / "madoguchi.db"
    database_url = f"sqlite:///{db_file}"
    rasa_port, action_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        '  token: ${MADOGUCHI_ACTION_TOKEN}\n  enable_selective_domain: true\n'
        # The embedded profile's tracker store (endpoints.yml).
        "tracker_store:\n  type: madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {db_file}\n",
        encoding="utf-8",
    )
    from madoguchi.infra.db import upgrade

    upgrade(database_url)
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MADOGUCHI_WEBHOOK_URL": webhook_sink.url,
        "MADOGUCHI_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # The browser tests' desk (and its chat page) runs on a port chosen later.
        "MADOGUCHI_CHAT_ORIGINS": "http://127.0.0.1:*",
    })
    actions = launcher.start(action_service(ROOT, port=action_port))
    rasa = launcher.start(rasa_service(ROOT, model, endpoints, port=rasa_port))
    try:
        launcher.wait_ready([actions, rasa], timeout=300)
        _SHARED["servers"] = Servers(
            f"http://127.0.0.1:{rasa_port}", database_url, launcher, rasa, actions)
        yield _SHARED["servers"]
    finally:
        _SHARED.pop("servers", None)
        launcher.stop_all()


@pytest.fixture
def sender() -> str:
    return new_sender()


def words_in(stored: str) -> str:
    """The text values of a stored event's JSON, one per line: what a customer or the bot
    wrote. Timestamps and confidences are left out, their digits can spell any number."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(stored))
    return "\n".join(found)


def texts(messages: list[dict]) -> str:
    """Everything the customer saw, joined, for assertions on wording."""
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: list[dict]) -> list[dict]:
    return [b for m in messages for b in m.get("buttons", [])]

