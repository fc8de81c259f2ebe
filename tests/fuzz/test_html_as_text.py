"""Markup a customer types is shown as text everywhere it is shown: in the customer's chat
widget, in the operator's console (the ticket page, its live transcript, the live queue), on the
supervisor's review page and in the exports. Real headless Chromium on the real path: the demo
page's widget over Rasa's socket.io channel, the action server that makes the ticket, the desk.

Each payload, if it ran, would set `window.__xss`; each page is checked for that and for any
element the payload would have created.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from madoguchi.infra.db import make_engine, session_factory
from madoguchi.tickets import ServiceTarget, TicketDraft
from madoguchi.tickets import TicketService as TicketRepository
from tests.browser.conftest import DeskServer, add_user
from tests.e2e.conftest import Servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

# Each would set window.__xss if it were ever parsed as HTML.
PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss = 'img'\">",
    "<svg onload=\"window.__xss = 'svg'\"></svg>",
    "\"><iframe srcdoc=\"<script>parent.__xss = 'iframe'</script>\"></iframe>",
]
# What the payloads would create (the pages' own scripts all have a src).
HOSTILE_ELEMENTS = "script:not([src]), img[src='x'], svg[onload], iframe[srcdoc], [onerror]"
REFERENCE = re.compile(r"PRV-\d{8}-\d{4}")
WAIT = 90  # an upper bound for waiting (the first turn loads the model), never a measurement


def wait(driver: WebDriver) -> WebDriverWait:
    # The live refresh replaces elements under our feet; a stale one means "look again".
    return WebDriverWait(driver, WAIT, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,))


def assert_inert(driver: WebDriver, container: str) -> None:
    """Nothing ran, and no element the payloads would create exists in the container."""
    assert driver.execute_script("return window.__xss === undefined;"), \
        driver.execute_script("return window.__xss;")
    inside = driver.find_elements(By.CSS_SELECTOR, f"{container} :is({HOSTILE_ELEMENTS})")
    assert inside == [], [e.tag_name for e in inside]


def customer_says(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "mdg-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)  # the widget sends on Enter


def bubbles(driver: WebDriver, who: str) -> list[str]:
    return [e.get_attribute("textContent") for e in
            driver.find_elements(By.CSS_SELECTOR, f".mdg-msg.mdg-{who} .mdg-bubble")]


def log_in(driver: WebDriver, base: str, token: str) -> None:
    driver.get(f"{base}/desk/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form[action='/desk/login'] button[type=submit]").click()
    wait(driver).until(lambda d: "/desk/login" not in d.current_url)


def texts_in(driver: WebDriver, selector: str) -> str:
    """The texts, read in one step so that a live refresh cannot interleave."""
    return "\n".join(driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent);",
        selector))


def test_markup_from_a_customer_stays_text_in_the_chat_the_console_and_the_review(
    browser: Callable[[str], WebDriver], desk: DeskServer, servers: Servers
) -> None:
    customer = browser("customer")
    operator = browser("operator")

    # The customer's own bubbles, in the widget, show exactly what was typed.
    customer.get(f"{desk.base}/")
    wait(customer).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".mdg-launcher"))).click()
    wait(customer).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot"))
    for payload in PAYLOADS[:2]:
        replies = len(bubbles(customer, "bot"))
        customer_says(customer, payload)
        wait(customer).until(lambda d, n=replies: len(bubbles(d, "bot")) > n)
    assert bubbles(customer, "customer") == PAYLOADS[:2]
    assert_inert(customer, ".mdg-log")

    # A handoff makes a ticket; the operator opens and claims it (the transcript is the
    # holder's): the transcript shows the words as text.
    customer_says(customer, "担当者と話したいです")
    handoff = wait(customer).until(
        lambda d: next((t for t in bubbles(d, "bot") if REFERENCE.search(t)), None))
    reference = REFERENCE.search(handoff).group(0)
    log_in(operator, desk.base, desk.operator_token)
    operator.get(f"{desk.base}/desk/tickets/{reference}")
    wait(operator).until(ec.text_to_be_present_in_element((By.ID, "top"), reference))
    operator.find_element(By.CSS_SELECTOR, "form[action$='/claim'] button[type=submit]").click()
    wait(operator).until(lambda d: texts_in(d, "#transcript li.who-customer .text"))
    transcript = texts_in(operator, "#transcript li.who-customer .text")
    assert PAYLOADS[0] in transcript and PAYLOADS[1] in transcript
    assert_inert(operator, "#transcript")

    # While the operator has the page open, the customer writes more: the live refresh
    # (desk.js, every few seconds) adds it as text too.
    for payload in PAYLOADS[2:]:
        customer_says(customer, payload)
    wait(operator).until(
        lambda d: PAYLOADS[-1] in texts_in(d, "#transcript li.who-customer .text"))
    assert PAYLOADS[2] in texts_in(operator, "#transcript li.who-customer .text")
    assert_inert(operator, "#transcript")
    assert_inert(operator, "body")
    assert bubbles(customer, "customer")[-2:] == PAYLOADS[2:]
    assert_inert(customer, "body")

    # The supervisor's review of the same conversation shows the words as text as well.
    conversation_id = operator.find_element(By.CSS_SELECTOR, "#request code").text
    supervisor = browser("supervisor")
    log_in(supervisor, desk.base, add_user(desk.database_url, "fuzz-boss", "supervisor"))
    supervisor.get(f"{desk.base}/desk/review/conversations/{conversation_id}")
    wait(supervisor).until(lambda d: PAYLOADS[0] in d.find_element(By.TAG_NAME, "main")
                           .get_attribute("textContent"))
    page = supervisor.find_element(By.TAG_NAME, "main").get_attribute("textContent")
    assert all(payload in page for payload in PAYLOADS)
    assert_inert(supervisor, "main")


def test_markup_in_a_ticket_arriving_in_the_live_queue_stays_text(
    browser: Callable[[str], WebDriver], desk: DeskServer
) -> None:
    operator = browser("operator")
    log_in(operator, desk.base, desk.operator_token)
    operator.get(f"{desk.base}/desk")
    wait(operator).until(ec.text_to_be_present_in_element((By.ID, "live"), "接続中"))
    operator.execute_script("window.__sameQueuePage = true;")

    # A ticket arrives while the queue is open: the rows are re-rendered from the server.
    engine = make_engine(desk.database_url)
    try:
        repo = TicketRepository(session_factory(engine),
                                service_target=ServiceTarget(business_days=3))
        ticket = repo.create(TicketDraft(
            request_types=["complaint"], customer_name=PAYLOADS[1],
            customer_words=PAYLOADS[0], nlu_intent="complaint", nlu_confidence=0.9,
        ))
        # The queue names the customer on the operator's own tickets only.
        repo.claim(ticket.reference, desk.operator)
    finally:
        engine.dispose()
    row = wait(operator).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"#queue-rows tr[data-reference='{ticket.reference}']")))

    assert operator.execute_script("return window.__sameQueuePage === true;")
    assert PAYLOADS[1] in row.get_attribute("textContent")
    assert_inert(operator, "#queue-rows")
    assert_inert(operator, "body")


def test_exports_carry_markup_as_data_never_as_a_page(
    desk: DeskServer, servers: Servers
) -> None:
    sender = f"xss-{uuid.uuid4().hex[:12]}"
    servers.say(sender, PAYLOADS[1] + " 個人情報を開示してほしい")
    token = add_user(desk.database_url, "fuzz-exporter", "supervisor")
    headers = {"Authorization": f"Bearer {token}"}

    lines = []
    for fmt, media in [("jsonl", "application/x-ndjson"), ("csv", "text/csv")]:
        response = requests.get(f"{desk.base}/api/export/conversations.{fmt}?rows=turns",
                                headers=headers, timeout=60)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"].startswith("attachment")
        assert response.headers["x-content-type-options"] == "nosniff"
        lines.append(response.content.decode("utf-8-sig"))

    turns = [json.loads(line) for line in lines[0].splitlines() if line.strip()]
    said = [t["text"] for t in turns if t["conversation_id"] == sender and t["text"]]
    assert said and said[0].startswith(PAYLOADS[1]), said
    rows = list(csv.DictReader(io.StringIO(lines[1])))
    said = [r["text"] for r in rows if r["conversation_id"] == sender and r["text"]]
    assert said and said[0].startswith(PAYLOADS[1]), said
