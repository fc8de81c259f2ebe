"""/status on the real desk (uvicorn, SQLite): the chat's status check as a page — the same
answers and limits, a POST only from the page itself, nothing of the ticket but its state."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.infra.settings import project_root
from madoguchi.review.models import ReviewAudit
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import TicketDraft, TicketService

ROOT = project_root()
PHONE = "070-1111-2222"


@dataclass
class Desk:
    url: str
    tickets: TicketService
    sessions: object


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    work = tmp_path_factory.mktemp("status-desk")
    database_url = f"sqlite:///{work / 'madoguchi.db'}"
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{free_port()}",
        "MADOGUCHI_STATUS_CHECKS_PER_CONVERSATION": "4",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = desk_service(port=port)
    launcher.start(service)
    try:
        launcher.wait_ready([service], timeout=60)
        sessions = session_factory(make_engine(database_url))
        yield Desk(f"http://127.0.0.1:{port}", TicketService(sessions), sessions)
    finally:
        launcher.stop_all()


def new_ticket(desk: Desk) -> str:
    return desk.tickets.create(TicketDraft(
        request_types=["correction"], customer_name="頁 太郎", customer_phone=PHONE,
        customer_email="page@example.jp", customer_words="住所を直してください")).reference


def opened(desk: Desk) -> tuple[requests.Session, str]:
    """A browser that opened the page: its cookie and the form's token."""
    browser = requests.Session()
    page = browser.get(f"{desk.url}/status")
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return browser, token


def ask(desk: Desk, reference: str, contact: str) -> requests.Response:
    browser, token = opened(desk)
    return browser.post(f"{desk.url}/status",
                        data={"csrf": token, "reference": reference, "contact": contact})


def test_the_page_is_a_form_that_is_never_framed(desk: Desk) -> None:
    page = requests.get(f"{desk.url}/status")
    assert 'action="/status"' in page.text and 'name="reference"' in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "samesite=strict" in page.headers["set-cookie"].lower()


def test_the_right_contact_learns_the_state_and_only_that(desk: Desk) -> None:
    reference = new_ticket(desk)
    _, day, number = reference.split("-")
    answer = ask(desk, f"ｐｒｖ－{day}－{int(number)}", "０７０１１１１２２２２")
    assert answer.status_code == 200
    assert reference in answer.text and "担当者が受付順に内容を確認し" in answer.text
    for secret in ("1111", "頁", "page@", "住所を直して", "訂正"):
        assert secret not in answer.text


def test_an_unknown_reference_and_a_wrong_contact_read_alike(desk: Desk) -> None:
    reference = new_ticket(desk)
    wrong = ask(desk, reference, "070-9999-0000")
    unknown = ask(desk, "PRV-20260101-0999", PHONE)
    answer = re.compile(r'<section class="answer".*?</section>', re.S)
    assert "ご請求を確認できませんでした" in wrong.text
    assert answer.search(wrong.text).group(0) == answer.search(unknown.text).group(0)


def status_rows(desk: Desk) -> list[ReviewAudit]:
    with desk.sessions() as session:
        return list(session.execute(select(ReviewAudit).where(
            ReviewAudit.action == "status_check").order_by(ReviewAudit.id)).scalars())


def test_a_reference_in_the_wrong_form_is_refused_with_the_reason_and_audited(desk: Desk) -> None:
    refused = ask(desk, "PRV-2026-1", PHONE)
    assert refused.status_code == 422
    assert "受付番号の形式を確認できませんでした" in refused.text
    row = status_rows(desk)[-1]
    assert row.sender_id.startswith("status_page:") and row.details == {
        "channel": "status_page", "reference": None, "outcome": "bad_reference"}

    reference = new_ticket(desk)
    assert ask(desk, reference, "山田").status_code == 422
    assert status_rows(desk)[-1].details == {
        "channel": "status_page", "reference": reference, "outcome": "bad_contact"}
    entries = [e for e in desk.tickets.get(reference).audit if e.action == "status_checked"]
    assert [e.changes["status_check"]["new"] for e in entries] == ["bad_contact"]
    assert "山田" not in repr([r.details for r in status_rows(desk)])


def test_a_post_from_elsewhere_is_refused(desk: Desk) -> None:
    reference = new_ticket(desk)
    no_token = requests.post(f"{desk.url}/status",
                             data={"reference": reference, "contact": PHONE})
    browser, _ = opened(desk)
    forged = browser.post(f"{desk.url}/status",
                          data={"csrf": "guessed", "reference": reference, "contact": PHONE})
    assert no_token.status_code == forged.status_code == 403
    assert reference not in no_token.text + forged.text
    assert not [e for e in desk.tickets.get(reference).audit if e.action == "status_checked"]


def test_attempts_are_limited_per_client_and_audited(desk: Desk) -> None:
    reference = new_ticket(desk)
    # Earlier tests' attempts from this client count too (those refused for their form not).
    done = len([r for r in status_rows(desk)
                if r.details["outcome"] not in ("bad_reference", "bad_contact")])
    for _ in range(max(0, 4 - done)):
        ask(desk, "PRV-20260101-0888", PHONE)
    limited = ask(desk, reference, PHONE)
    assert "しばらくの間" in limited.text and "担当者が受付順" not in limited.text
    with desk.sessions() as session:
        rows = list(session.execute(select(ReviewAudit).where(
            ReviewAudit.action == "status_check")).scalars())
    assert rows[-1].details == {"channel": "status_page", "reference": reference,
                                "outcome": "limited"}
    assert all(r.sender_id.startswith("status_page:") for r in rows)
    assert "127.0.0.1" not in repr([(r.sender_id, r.details) for r in rows])
