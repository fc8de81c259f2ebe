"""The real desk (uvicorn, `madoguchi.desk.app`) over HTTP on a real database, once per module
and backend (SQLite and PostgreSQL), for the desk's security regressions.

Rasa is tests/test_desk_api.py's small fake (canned trackers, recorded events); the desk, its
routes, the ticket service and the database are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import Ticket, TicketService, User, UserRepository
from tests.conftest import throwaway_pg_database
from tests.test_desk_api import RASA_TOKEN, ROOT, Desk, FakeRasa, login

USERS = [("sato", "operator"), ("suzuki", "operator"), ("boss", "supervisor"),
         ("kyoko", "supervisor")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def desk(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with ExitStack() as stack:
        work = tmp_path_factory.mktemp("desk")
        if request.param == "sqlite":
            database_url = f"sqlite:///{work / 'madoguchi.db'}"
        else:
            database_url = stack.enter_context(throwaway_pg_database("madoguchi_security"))
        rasa = FakeRasa()
        rasa.start()
        stack.callback(rasa.stop)
        port = free_port()
        launcher = Launcher(ROOT, work / "logs", env={
            "MADOGUCHI_DB_URL": database_url,
            "MADOGUCHI_RASA_URL": rasa.url,
            "MADOGUCHI_RASA_TOKEN": RASA_TOKEN,
            "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{free_port()}",
            "TF_CPP_MIN_LOG_LEVEL": "3",
        })
        service = desk_service(port=port)
        launcher.start(service)
        stack.callback(launcher.stop_all)
        launcher.wait_ready([service], timeout=90)
        engine = make_engine(database_url)
        stack.callback(engine.dispose)
        sessions = session_factory(engine)
        users = UserRepository(sessions)
        tokens = {name: users.create_user(name, role)[1] for name, role in USERS}
        yield Desk(f"http://127.0.0.1:{port}", rasa, sessions, users, tokens)


def stored(desk: Desk, reference: str) -> Ticket:
    """The ticket as the database holds it (audit log included)."""
    ticket = TicketService(desk.sessions).get(reference)
    assert ticket is not None
    return ticket


def user(desk: Desk, name: str) -> User:
    found = desk.users.get(name)
    assert found is not None
    return found


__all__ = ["desk", "login", "stored", "user"]
