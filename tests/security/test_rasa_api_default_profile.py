"""Issue 15, item 7: Rasa's HTTP API wants its token in `make run`'s default profile too.

A loopback run that is not production still enables the API (the desk needs it), and any page
open in the developer's browser, or any local process, could otherwise `PUT /model` (a model
archive from a URL: code execution) or forge a conversation's events. So the launcher makes a
token when none is configured, hands it to Rasa and the desk through their environment, and an
unauthenticated call is refused while the desk still works.

The servers here are started as `make run` starts them (madoguchi.runtime.run): the launcher's
own decisions in this process, with MADOGUCHI_PRODUCTION=0 and no MADOGUCHI_RASA_TOKEN. The
session's other servers (tests/e2e) run as production; their secrets are restored afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from madoguchi.infra.db import make_engine, session_factory, upgrade
from madoguchi.infra.rasa_auth import bearer
from madoguchi.infra.settings import load_settings, project_root
from madoguchi.runtime.launcher import (
    Launcher,
    action_service,
    desk_service,
    enter_production_if_exposed,
    free_port,
    rasa_service,
    run_secrets,
)
from madoguchi.runtime.training import ensure_model
from madoguchi.tickets.users import UserRepository
from tests.e2e.conftest import new_sender

pytestmark = [pytest.mark.server]

ROOT = project_root()
SECRETS = ("MADOGUCHI_RASA_TOKEN", "MADOGUCHI_ACTION_TOKEN", "MADOGUCHI_SESSION_SECRET")


@dataclass(frozen=True)
class DefaultRun:
    rasa_url: str
    desk_url: str
    rasa_token: str
    operator_token: str

    def api(self, method: str, path: str, payload: object | None = None) -> requests.Response:
        """A call as the person who ran `make run` makes it, with the run's token."""
        return requests.request(method, self.rasa_url + path, json=payload, timeout=60,
                                headers={"Authorization": bearer(self.rasa_token)})

    def tracker(self, sender: str) -> dict:
        response = self.api("GET", f"/conversations/{sender}/tracker")
        response.raise_for_status()
        return response.json()

    def say(self, sender: str, text: str) -> list[dict]:
        """A customer of the default profile: Rasa's REST channel, any sender, no token."""
        response = requests.post(self.rasa_url + "/webhooks/rest/webhook", timeout=120,
                                 json={"sender": sender, "message": text})
        response.raise_for_status()
        return response.json()

    def desk(self, method: str, path: str, payload: object | None = None) -> requests.Response:
        return requests.request(method, self.desk_url + path, json=payload, timeout=60,
                                headers={"Authorization": f"Bearer {self.operator_token}"})


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DefaultRun]:
    shared = run_secrets()  # the session's production secrets, given back afterwards
    work = tmp_path_factory.mktemp("default-run")
    database_url = f"sqlite:///{work / 'madoguchi.db'}"
    rasa_port, action_port, desk_port = free_port(), free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "  token: ${MADOGUCHI_ACTION_TOKEN}\n"
        "tracker_store:\n  type: madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore\n"
        f"  dialect: sqlite\n  db: {work / 'madoguchi.db'}\n",
        encoding="utf-8",
    )
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    upgrade(database_url)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MADOGUCHI_PRODUCTION", "0")
        for name in SECRETS:
            env.delenv(name, raising=False)
        run_secrets.cache_clear()
        launcher = Launcher(ROOT, work / "logs", env={
            "MADOGUCHI_DB_URL": database_url,
            "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{rasa_port}",
            "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{action_port}",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        })
        try:
            # `make run`'s own decision for its default host and profile.
            assert enter_production_if_exposed("127.0.0.1", "default") is False
            services = [
                launcher.start(action_service(ROOT, port=action_port)),
                launcher.start(rasa_service(ROOT, model, endpoints, port=rasa_port,
                                            auth_token=load_settings().rasa_token)),
                launcher.start(desk_service(port=desk_port)),
            ]
            launcher.wait_ready(services, timeout=300)
            _, operator_token = UserRepository(
                session_factory(make_engine(database_url))).create_user("hanako", "operator")
            yield DefaultRun(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{desk_port}",
                             run_secrets().rasa_token, operator_token)
        finally:
            launcher.stop_all()
            for name, value in zip(SECRETS, (shared.rasa_token, shared.action_token,
                                             shared.session_secret), strict=True):
                env.setenv(name, value)
            run_secrets.cache_clear()
            assert run_secrets() == shared


@pytest.mark.parametrize(("method", "path", "payload"), [
    ("POST", "/conversations/{sender}/tracker/events", {"event": "pause"}),
    ("POST", "/conversations/{sender}/tracker/events",
     {"event": "bot", "text": "お客様の電話番号を教えてください"}),
    ("PUT", "/model", {"model_server": {"url": "http://127.0.0.1:9/evil.tar.gz"}}),
    ("GET", "/conversations/{sender}/tracker", None),
    ("POST", "/model/parse", {"text": "開示してほしい"}),
])
def test_the_default_profile_refuses_an_api_call_without_the_token(
    default_run: DefaultRun, method: str, path: str, payload: object
) -> None:
    sender = new_sender()
    default_run.say(sender, "こんにちは")
    before = default_run.tracker(sender)["events"]

    anonymous = requests.request(method, default_run.rasa_url + path.format(sender=sender),
                                 json=payload, timeout=60)
    guessed = requests.request(method, default_run.rasa_url + path.format(sender=sender),
                               params={"token": "guess"}, json=payload, timeout=60)

    assert anonymous.status_code == 401
    assert guessed.status_code == 401
    after = default_run.tracker(sender)
    assert after["events"] == before and after["paused"] is False


def test_the_desk_works_with_the_token_the_launcher_made(default_run: DefaultRun) -> None:
    sender = new_sender()
    default_run.say(sender, "担当者と話したいです")
    reference = default_run.tracker(sender)["slots"]["ticket_reference"]
    assert reference

    assert default_run.desk("POST", f"/api/tickets/{reference}/claim").status_code == 200
    transcript = default_run.desk("GET", f"/api/tickets/{reference}/transcript").json()
    sent = default_run.desk("POST", f"/api/tickets/{reference}/messages",
                            {"text": "担当の花子です。ご用件を伺います。"})

    assert transcript["transcript_error"] is None and transcript["transcript"]
    assert transcript["conversation_paused"] is True
    assert sent.status_code == 201, sent.text
    # The desk appended the operator's words to the conversation through Rasa's API.
    bot_texts = [e.get("text") or "" for e in default_run.tracker(sender)["events"]
                 if e["event"] == "bot"]
    assert "担当の花子です。ご用件を伺います。" in bot_texts
