"""Handoff is honest about the hours (§7: 午前9時から午後9時, Japan time).

The action server is restarted with a fixed clock (MADOGUCHI_NOW) for these tests; the Rasa
server and the conversations stay, as they would when an action server is redeployed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from madoguchi.runtime.launcher import Service
from tests.e2e.conftest import Servers, texts


def _restart_actions(servers: Servers, env: dict[str, str]) -> None:
    old = servers.actions
    servers.launcher.stop(old)
    servers.launcher.services.remove(old)
    servers.actions = servers.launcher.start(Service(old.name, old.argv, old.health_url, env))
    servers.launcher.wait_ready([servers.actions], timeout=120)


@pytest.fixture
def clock(servers: Servers) -> Iterator[Callable[[str], None]]:
    def set_clock(moment: str) -> None:
        _restart_actions(servers, {"MADOGUCHI_NOW": moment})

    yield set_clock
    _restart_actions(servers, {})


def test_inside_hours_a_person_picks_up_now(
    servers: Servers, sender: str, clock: Callable[[str], None]
) -> None:
    clock("2026-11-25T10:30:00+09:00")  # a Wednesday morning in Tokyo

    reply = texts(servers.say(sender, "人間の担当者と話させてください"))

    assert "おつなぎします" in reply
    assert "受付時間外" not in reply
    assert servers.slot(sender, "ticket_reference") in reply


def test_outside_hours_the_customer_hears_when_and_the_phone_numbers(
    servers: Servers, sender: str, clock: Callable[[str], None]
) -> None:
    clock("2026-11-25T23:30:00+09:00")  # Wednesday night in Tokyo

    reply = texts(servers.say(sender, "人間の担当者と話させてください"))

    assert "受付時間外" in reply
    assert "午前9時から午後9時" in reply
    assert "11月26日（木）9時" in reply
    assert "0120-000123" in reply and "0570-000111" in reply
    assert servers.slot(sender, "ticket_reference") in reply
    assert servers.tracker(sender)["paused"] is True
