"""Schemathesis over the desk's own OpenAPI schema, against the real desk (uvicorn) on a real
database, with a real operator's and a real supervisor's token.

For every operation in /api/openapi.json, data that fits the schema (positive) and data that
does not (negative) is sent:
- never a 5xx, on any operation (the console's form routes included);
- for the JSON API (/api/…, /health): every answer conforms to the schema — a documented status
  code and content type, and a body that validates — and invalid data is refused with a 4xx.
  Not checked: that every schema-valid request succeeds (Schemathesis' positive_data_acceptance):
  the queue and review filters are free text in the schema, and a filter that names nothing
  known is answered 422 with the reason, as specified.

The desk runs twice: on the SQLite file that the real Rasa server's tracker store also uses, and
on a fresh PostgreSQL database (its `events` table filled with the same real conversation). Half
the generated cases that name a ticket or a conversation are pointed at a real one, so that the
fuzz reaches past the 404.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import create_engine, insert, select

from madoguchi.conversation.table import EVENTS
from madoguchi.infra.db import make_engine, session_factory, upgrade
from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import ServiceTarget, TicketDraft, UserRepository
from madoguchi.tickets import TicketService as TicketRepository
from tests.conftest import throwaway_pg_database
from tests.e2e.conftest import Servers, new_sender
from tests.fuzz.conftest import FuzzLog, examples

pytestmark = [pytest.mark.server]

ROOT = project_root()
# Path parameters that name something real, and which fixture value stands for it.
REAL = {"reference": "reference", "conversation_id": "conversation_id"}


@dataclass
class FuzzDesk:
    base: str
    database: str
    operator_token: str
    supervisor_token: str
    reference: str
    conversation_id: str
    failures: list[str] = field(default_factory=list)


def _seed(database_url: str, conversation_id: str) -> tuple[str, str, str]:
    """An operator, a supervisor, and a ticket on a real conversation; their tokens and ref."""
    engine = make_engine(database_url)
    try:
        sessions = session_factory(engine)
        users = UserRepository(sessions)
        suffix = secrets.token_hex(3)
        operator = users.create_user(f"fuzz-op-{suffix}", "operator")[1]
        supervisor = users.create_user(f"fuzz-sv-{suffix}", "supervisor")[1]
        ticket = TicketRepository(sessions, service_target=ServiceTarget(business_days=3)).create(
            TicketDraft(
                request_types=["disclosure"], customer_name="<b>山田</b> 花子",
                customer_phone="090-1234-5678", customer_email="hanako@example.jp",
                customer_words="<script>alert(1)</script>開示してください",
                nlu_intent="request_disclosure", nlu_confidence=0.9,
                notice_sections=["4.1"], conversation_id=conversation_id,
            )
        )
        return operator, supervisor, ticket.reference
    finally:
        engine.dispose()


def _copy_conversation(sqlite_url: str, pg_url: str, conversation_id: str) -> None:
    """The conversation's tracker rows, as Rasa wrote them, into the PostgreSQL database."""
    source, target = create_engine(sqlite_url, future=True), create_engine(pg_url, future=True)
    try:
        with source.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                select(EVENTS).where(EVENTS.c.sender_id == conversation_id))]
        EVENTS.create(target, checkfirst=True)
        with target.begin() as conn:
            conn.execute(insert(EVENTS), [{k: v for k, v in r.items() if k != "id"}
                                          for r in rows])
    finally:
        source.dispose()
        target.dispose()


@pytest.fixture(scope="session")
def fuzz_conversation(servers: Servers) -> str:
    """A real conversation through the real Rasa server: a request, then a handoff."""
    sender = new_sender()
    servers.say(sender, "<img src=x onerror=alert(1)> 個人情報を開示してほしい")
    servers.say(sender, "担当者と話したい")
    return sender


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    with throwaway_pg_database("madoguchi_fuzz") as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def fuzz_desk(
    request: pytest.FixtureRequest, servers: Servers, fuzz_conversation: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FuzzDesk]:
    if request.param == "sqlite":
        database_url = servers.database_url
    else:
        database_url = request.getfixturevalue("postgres_database")
        upgrade(database_url)
        _copy_conversation(servers.database_url, database_url, fuzz_conversation)
    operator, supervisor, reference = _seed(database_url, fuzz_conversation)
    work = tmp_path_factory.mktemp(f"fuzz-desk-{request.param}")
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": servers.rasa_url,
        "MADOGUCHI_ACTION_URL": servers.actions.health_url.rsplit("/health", 1)[0],
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=120)
        yield FuzzDesk(f"http://127.0.0.1:{port}", request.param, operator, supervisor,
                       reference, fuzz_conversation)
    finally:
        launcher.stop_all()
        _print_log_tail(service.log_path)


def _print_log_tail(path: Path | None) -> None:
    # A 5xx leaves its traceback in the desk's log: show it with the failure.
    if path is not None and path.exists():
        tail = path.read_text(encoding="utf-8", errors="replace")[-4000:]
        if "Traceback" in tail:
            print(f"--- {path} (tail) ---\n{tail}")


# --- running Schemathesis ---------------------------------------------------------------------


def fuzz_operation(desk: FuzzDesk, operation, mode: GenerationMode, log: FuzzLog) -> int:
    """Runs one operation in one mode; returns how many requests were sent."""
    is_api = operation.path.startswith("/api") or operation.path == "/health"
    token = desk.supervisor_token if "review" in (operation.tags or []) else desk.operator_token
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0

    @settings(max_examples=examples(8), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
    def run(case, aim: bool) -> None:
        nonlocal sent
        if aim and mode is GenerationMode.POSITIVE:
            for name, attribute in REAL.items():
                if case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = getattr(desk, attribute)
        # The console's pages take the login cookie; the API takes the bearer token.
        response = case.call(base_url=desk.base, headers=headers, timeout=60,
                             cookies={"madoguchi_desk": token})
        sent += 1
        log.record("desk", response.status_code, operation.label, response.elapsed)
        if is_api:
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
        else:
            case.validate_response(response, checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        pass  # nothing to generate in this mode (an operation without parameters or body)
    return sent


def test_the_desk_api_answers_every_generated_request_as_its_schema_says(
    fuzz_desk: FuzzDesk, fuzz_log: FuzzLog
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_desk.base}/api/openapi.json")
    failures: list[str] = []
    labels: list[str] = []
    total = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                total += fuzz_operation(fuzz_desk, operation, mode, fuzz_log)
            except BaseException as failure:  # a FailureGroup is an exception group
                if isinstance(failure, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} ({mode.value}):\n{failure}")

    assert {"GET /api/tickets", "PATCH /api/tickets/{reference}",
            "POST /api/tickets/{reference}/messages"} <= set(labels)
    assert total > len(labels)
    assert not failures, "\n\n".join(failures)
    health = requests.get(f"{fuzz_desk.base}/health", timeout=30)
    assert health.status_code == 200 and health.json()["database"] is True


def test_the_schema_documents_the_error_answers(fuzz_desk: FuzzDesk) -> None:
    paths = requests.get(f"{fuzz_desk.base}/api/openapi.json", timeout=30).json()["paths"]

    patch = paths["/api/tickets/{reference}"]["patch"]["responses"]
    assert {"401", "403", "404", "409", "422"} <= set(patch)
    detail = patch["422"]["content"]["application/json"]["schema"]["properties"]["detail"]
    assert detail == {"type": "string"}

