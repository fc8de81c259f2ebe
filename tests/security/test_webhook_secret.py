"""Issue 15, item 12 (the webhook's half): a webhook without its secret refuses to start, and a
handed-over ticket is stored with its announcement or not at all.

Before: an empty MADOGUCHI_WEBHOOK_SECRET was accepted, so the call center's tool received
announcements signed with an empty key (anyone could forge them); and the handoff wrote its
ticket and its outbox row in two transactions, so a crash between them lost the announcement.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from madoguchi.infra.settings import SettingsError, load_settings
from madoguchi.infra.webhook import Outbox, OutboxMessage, Webhook, handoff_payload
from madoguchi.runtime.launcher import action_service, free_port
from madoguchi.tickets import Ticket
from tests.test_desk_api import ROOT, draft

URL = "http://127.0.0.1:9/hook"


@pytest.mark.parametrize("secret", [None, "", "   "])
def test_the_settings_refuse_a_webhook_without_its_secret(secret: str | None) -> None:
    environ = {"MADOGUCHI_WEBHOOK_URL": URL, "MADOGUCHI_HOME": str(ROOT)}
    if secret is not None:
        environ["MADOGUCHI_WEBHOOK_SECRET"] = secret

    with pytest.raises(SettingsError, match="MADOGUCHI_WEBHOOK_SECRET"):
        load_settings(environ)


def test_the_action_server_does_not_start_without_it(tmp_path: Path) -> None:
    service = action_service(ROOT, port=free_port())
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3",
           "MADOGUCHI_DB_URL": f"sqlite:///{tmp_path / 'madoguchi.db'}",
           "MADOGUCHI_WEBHOOK_URL": URL, "MADOGUCHI_WEBHOOK_SECRET": ""}

    done = subprocess.run(service.argv, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)

    assert done.returncode != 0
    assert "MADOGUCHI_WEBHOOK_SECRET" in done.stderr


def test_a_ticket_and_its_announcement_are_stored_together(db_sessions, ticket_repo) -> None:
    outbox = Outbox(db_sessions, Webhook(URL, "secret"))

    def announce(session, ticket: Ticket) -> None:
        outbox.add(session, "handoff", handoff_payload(ticket.to_dict()))

    def announce_then_fail(session, ticket: Ticket) -> None:
        announce(session, ticket)
        raise RuntimeError("the process dies between the two")

    with pytest.raises(RuntimeError):
        ticket_repo.create(draft(conversation_id="lost"), also=announce_then_fail)
    made = ticket_repo.create(draft(conversation_id="kept"), idempotency_key="k", also=announce)
    again = ticket_repo.create(draft(conversation_id="kept"), idempotency_key="k", also=announce)

    with db_sessions() as session:
        tickets = session.execute(select(Ticket.conversation_id)).scalars().all()
        announced = session.execute(select(OutboxMessage.reference)).scalars().all()
        count = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    assert tickets == ["kept"] and again.reference == made.reference
    assert announced == [made.reference] and count == 1
