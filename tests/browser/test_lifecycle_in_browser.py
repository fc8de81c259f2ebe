"""A request's life on the console in real Chromium: an operator records the identity check,
the delivery method and a refusal with its ground; the ticket waits for approval and says so;
a supervisor (a second person) opens it, sees the approval step and approves; the refusal
takes effect. The real desk on the e2e servers' database (tests/browser/conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.tickets import TicketDraft, TicketService
from tests.browser.conftest import DeskServer, add_user
from tests.browser.test_handoff_in_browser import done_message, submit, wait

pytestmark = [pytest.mark.browser, pytest.mark.server]


def text_of(driver: WebDriver, by: str, what: str) -> str:
    """An element's text, read again if the page's live refresh replaced it mid-read."""
    reader = WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,))
    return reader.until(lambda d: d.find_element(by, what).text or " ")


def log_in(driver: WebDriver, desk: DeskServer, token: str, path: str) -> None:
    driver.get(f"{desk.base}{path}")
    wait(driver).until(ec.url_contains("/desk/login"))
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/desk/login']"))
    wait(driver).until(ec.presence_of_element_located((By.ID, "lifecycle")))


def test_identity_then_a_refusal_that_a_second_person_approves(
    browser: Callable[[str], WebDriver], desk: DeskServer
) -> None:
    engine = make_engine(desk.database_url)
    try:
        reference = TicketService(session_factory(engine)).create(TicketDraft(
            request_types=["disclosure"], customer_name="山田 花子",
            customer_phone="090-1234-5678", customer_words="どこに渡したか教えてください",
            disclosure_kind="provision_records")).reference
    finally:
        engine.dispose()
    supervisor_token = add_user(desk.database_url, "lifecycle-sv", "supervisor")
    path = f"/desk/tickets/{reference}"

    operator = browser("operator")
    log_in(operator, desk, desk.operator_token, path)
    submit(operator.find_element(By.CSS_SELECTOR, f"form[action='{path}/claim']"))
    done_message(operator, "担当になりました")
    assert "まだ判断できません" in text_of(operator, By.ID, "lifecycle")

    form = operator.find_element(By.ID, "identity-form")
    Select(form.find_element(By.NAME, "method")).select_by_value("postal_documents")
    form.find_element(By.NAME, "received").send_keys("請求用紙、運転免許証のコピー")
    submit(form)
    done_message(operator, "本人確認を記録しました")
    record = text_of(operator, By.ID, "identity-record")
    assert "運転免許証のコピー" in record and desk.operator in record

    form = operator.find_element(By.ID, "disclosure-form")
    Select(form.find_element(By.NAME, "delivery_method")).select_by_value("email")
    submit(form)
    done_message(operator, "開示の種類・方法を保存しました")
    assert "電子メール" in text_of(operator, By.ID, "delivery-method")

    form = operator.find_element(By.ID, "decision-form")
    Select(form.find_element(By.NAME, "outcome")).select_by_value("refused")
    Select(form.find_element(By.NAME, "ground")).select_by_value("disclosure.not_held")
    form.find_element(By.NAME, "explanation").send_keys("提供の記録は保存期間を過ぎております。")
    submit(form)
    done_message(operator, "判断を記録しました")
    assert "承認待ち" in text_of(operator, By.CSS_SELECTOR, "h1 .badge")
    assert "承認を待っています" in text_of(operator, By.ID, "approval-note")
    assert not operator.find_elements(By.ID, "approval-forms")

    supervisor = browser("supervisor")
    log_in(supervisor, desk, supervisor_token, path)
    step = supervisor.find_element(By.ID, "approval-forms")
    assert "当社が保有していないため" in text_of(supervisor, By.ID, "decision-record")
    submit(step.find_element(By.CSS_SELECTOR, f"form[action='{path}/approve']"))
    done_message(supervisor, "判断を承認しました")
    assert "却下" in text_of(supervisor, By.CSS_SELECTOR, "h1 .badge")
    assert "lifecycle-sv" in text_of(supervisor, By.ID, "approval-state")
