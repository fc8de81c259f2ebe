"""Issue 15, items 7 and 14b: Rasa's HTTP API behind its token, for the desk's pages only.

The API (`PUT /model` loads a model archive from a URL: code execution) answers nobody without
the token, also on loopback; browsers may call Rasa only from the desk's and chat's origins;
the desk sends the token in the Authorization header (a JWT signed with it), never in a query
string; and the token is on no process's command line.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from madoguchi.desk.rasa import RasaClient
from madoguchi.runtime.launcher import run_secrets
from tests.e2e.conftest import Servers, new_sender


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/conversations/someone/tracker"),
    ("POST", "/conversations/someone/tracker/events"),
    ("PUT", "/model"),
    ("POST", "/model/parse"),
    ("GET", "/status"),
])
def test_the_api_refuses_a_call_without_the_token(
    servers: Servers, method: str, path: str
) -> None:
    response = requests.request(method, servers.rasa_url + path, json={}, timeout=30)

    assert response.status_code == 401


def test_a_page_of_another_origin_may_not_call_rasa(servers: Servers) -> None:
    evil = requests.options(servers.rasa_url + "/model/parse", timeout=30, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    desk = requests.options(servers.rasa_url + "/webhooks/rest/webhook", timeout=30, headers={
        "Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST"})

    assert "access-control-allow-origin" not in {k.lower() for k in evil.headers}
    assert desk.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:8000"


def test_the_desk_reads_a_conversation_with_the_token_in_a_header(servers: Servers) -> None:
    sender = new_sender()
    servers.say(sender, "個人情報の利用目的を教えてください")

    tracker = RasaClient(servers.rasa_url, run_secrets().rasa_token).tracker(sender)

    assert tracker["sender_id"] == sender


def test_the_desk_never_puts_the_token_in_a_url() -> None:
    seen: list[tuple[str, str | None]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        RasaClient(f"http://127.0.0.1:{server.server_port}", "s3cret-token").tracker("c1")
    finally:
        server.shutdown()

    (path, authorization), = seen
    assert "token" not in path and "s3cret" not in path
    assert authorization and authorization.startswith("Bearer ")


def test_the_rasa_token_is_not_on_the_command_line(servers: Servers) -> None:
    cmdline = Path(f"/proc/{servers.rasa.process.pid}/cmdline").read_bytes()

    assert run_secrets().rasa_token.encode() not in cmdline
    assert b"--auth-token" not in cmdline
