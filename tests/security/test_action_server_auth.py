"""Issue 15, item 2: the action server answers Rasa only, and only on loopback by default.

Rasa sends the action token from its endpoints file (`action_endpoint.token`, read from the
environment); anything else that reaches the port gets 401, so nobody can post a forged tracker
and open tickets or handoffs.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import requests

from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import run_secrets
from tests.e2e.conftest import Servers, new_sender


def action_url(servers: Servers) -> str:
    return servers.actions.health_url.rsplit("/health", 1)[0]


def forged_call(sender: str) -> dict:
    return {"next_action": "action_handoff", "sender_id": sender, "version": "3.6.21",
            "domain": {}, "tracker": {"sender_id": sender, "slots": {}, "events": [],
                                      "latest_message": {}, "active_loop": {},
                                      "paused": False, "latest_action_name": None}}


@pytest.mark.parametrize("token", [None, "", "guess", run_secrets().action_token + "x"])
def test_a_forged_action_call_is_refused(servers: Servers, token: str | None) -> None:
    params = {} if token is None else {"token": token}
    response = requests.post(action_url(servers) + "/webhook", json=forged_call(new_sender()),
                             params=params, timeout=30)

    assert response.status_code == 401


def test_the_action_list_is_closed_too(servers: Servers) -> None:
    assert requests.get(action_url(servers) + "/actions", timeout=30).status_code == 401


def test_the_health_check_stays_open(servers: Servers) -> None:
    assert requests.get(action_url(servers) + "/health", timeout=30).status_code == 200


def test_rasa_reaches_the_actions_with_the_token(servers: Servers) -> None:
    sender = new_sender()

    servers.say(sender, "担当者と話したいです")  # action_handoff: a ticket, then the pause

    assert servers.slot(sender, "ticket_reference")


def _outward_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is chosen
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_action_server_listens_on_loopback_only(servers: Servers) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    port = int(action_url(servers).rsplit(":", 1)[1])

    with pytest.raises(OSError), socket.create_connection((address, port), timeout=3):
        pass


def test_the_token_is_in_no_file_and_on_no_command_line(servers: Servers) -> None:
    token = run_secrets().action_token
    for path in (project_root() / "endpoints.yml",):
        assert token not in Path(path).read_text(encoding="utf-8")
    for service in (servers.rasa, servers.actions):
        cmdline = Path(f"/proc/{service.process.pid}/cmdline").read_bytes()
        assert token.encode() not in cmdline
