"""Both sides of the handoff in real browsers (issue 5): a customer in the web chat on the demo
page, an operator in the desk console, each in their own headless Chromium.

The customer asks for a person; the operator, already looking at the queue, sees the new
ticket appear without reloading, opens it, claims it and replies; the reply shows in the
customer's chat; the customer's next words show on the ticket page while the bot stays silent;
the operator resolves the ticket through the status form and it leaves the open queue.
Everything goes through the real servers: Rasa's socket.io channel, the action server that
makes the ticket, the desk that reads and writes Rasa's tracker.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DeskServer
from tests.e2e.conftest import Servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

REFERENCE = re.compile(r"PRV-\d{8}-\d{4}")
# Generous: the first message waits for the model, the queue for its next poll. These are
# upper bounds for waiting, never measurements; every wait ends as soon as the thing is there.
WAIT = 60


def wait(driver: WebDriver, timeout: float = WAIT) -> WebDriverWait:
    # The live refresh and a form's redirect replace elements under our feet: Chromium then
    # says the element is stale, or that its node "does not belong to the document" (a plain
    # WebDriverException). Either means "look again"; a real failure still ends in a timeout.
    return WebDriverWait(driver, timeout, poll_frequency=0.2,
                         ignored_exceptions=(WebDriverException,))


def texts_of(driver: WebDriver, selector: str) -> list[str]:
    """The rendered texts, read in one step so that a live refresh cannot interleave."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText);", selector)


def one_text_matching(driver: WebDriver, selector: str, pattern: re.Pattern[str]) -> str | None:
    for text in texts_of(driver, selector):
        if pattern.search(text):
            return text
    return None


def customer_says(driver: WebDriver, text: str) -> None:
    box = driver.find_element(By.ID, "mdg-input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)  # the widget sends on Enter (Shift+Enter breaks the line)


def submit(form: WebElement) -> None:
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def done_message(driver: WebDriver, expected: str) -> None:
    """After a console form: the redirect back to the ticket page says what was done."""
    wait(driver).until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "p.done"), expected))


def badge(driver: WebDriver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "h1 .badge[class*=status-]").text


def test_an_operator_works_a_handoff_from_a_real_chat_to_resolved(
    browser: Callable[[str], WebDriver], desk: DeskServer, servers: Servers
) -> None:
    operator = browser("operator")
    customer = browser("customer")

    # The operator logs in with the token `madoguchi user add` printed, and sees the queue.
    operator.get(f"{desk.base}/desk")
    wait(operator).until(ec.url_contains("/desk/login"))
    operator.find_element(By.ID, "token").send_keys(desk.operator_token)
    submit(operator.find_element(By.CSS_SELECTOR, "form[action='/desk/login']"))
    wait(operator).until(ec.presence_of_element_located((By.ID, "queue")))
    who = operator.find_element(By.CSS_SELECTOR, "form.who").text
    assert f"{desk.operator}（オペレーター）" in who
    wait(operator).until(ec.text_to_be_present_in_element((By.ID, "live"), "接続中"))
    # A mark on this page: if the page reloaded, the mark would be gone.
    operator.execute_script("window.__sameQueuePage = true;")

    # The customer opens the chat on the shop's page; the assistant greets.
    customer.get(f"{desk.base}/")
    wait(customer).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".mdg-launcher"))).click()
    wait(customer).until(ec.visibility_of_element_located((By.ID, "mdg-panel")))
    assert "このチャットの内容は記録されます" in customer.find_element(
        By.CSS_SELECTOR, ".mdg-notice").text
    wait(customer).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot"))

    # … and asks for a person: the bot hands over with a reference number.
    customer_says(customer, "人間の担当者と話したいです")
    handoff = wait(customer).until(
        lambda d: one_text_matching(d, ".mdg-msg.mdg-bot .mdg-bubble", REFERENCE))
    reference = REFERENCE.search(handoff).group(0)
    assert "担当者" in handoff
    bot_turns_after_handoff = len(customer.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot"))

    # The new ticket appears in the operator's queue by itself.
    row_selector = f"#queue-rows tr[data-reference='{reference}']"
    row = wait(operator).until(ec.presence_of_element_located((By.CSS_SELECTOR, row_selector)))
    assert operator.execute_script("return window.__sameQueuePage === true;")
    assert "arrived" in row.get_attribute("class")
    assert "新規" in row.text

    # The operator opens it: until someone holds the ticket, its transcript is not shown.
    row.find_element(By.LINK_TEXT, reference).click()
    wait(operator).until(ec.text_to_be_present_in_element((By.ID, "top"), reference))
    assert badge(operator) == "新規"
    assert all("人間の担当者と話したいです" not in element.text
               for element in operator.find_elements(By.ID, "transcript"))

    # Claims it: now the customer's words are in the transcript.
    submit(operator.find_element(By.CSS_SELECTOR, "form[action$='/claim']"))
    done_message(operator, "この受付の担当になりました。")
    assert badge(operator) == "対応中"
    assert desk.operator in operator.find_element(By.CSS_SELECTOR, "section.summary").text
    wait(operator).until(
        ec.text_to_be_present_in_element((By.ID, "transcript"), "人間の担当者と話したいです"))

    # Replies: the message reaches the customer's open chat, marked as the operator's.
    reply = "担当の花子です。お問い合わせの内容をお聞かせいただけますか。"
    operator.find_element(By.ID, "text").send_keys(reply)
    submit(operator.find_element(By.CSS_SELECTOR, "form.message"))
    done_message(operator, "お客様に送信しました。")
    operator_line = wait(customer).until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, ".mdg-msg.mdg-operator")))
    assert operator_line.find_element(By.CSS_SELECTOR, ".mdg-who").text == "担当者"
    assert operator_line.find_element(By.CSS_SELECTOR, ".mdg-bubble").text == reply

    # The customer answers; the ticket page shows it without a reload, and the bot is silent.
    answer = "登録している住所が古いので、新しい住所に直してほしいです。"
    customer_says(customer, answer)
    operator.execute_script("window.__sameTicketPage = true;")
    wait(operator).until(lambda d: answer in texts_of(d, "#transcript li.who-customer .text"))
    assert operator.execute_script("return window.__sameTicketPage === true;")
    lines = operator.find_elements(By.CSS_SELECTOR, "#transcript li")
    assert "who-customer" in lines[-1].get_attribute("class")  # nothing from the bot after it
    assert any("who-operator" in li.get_attribute("class") and reply in li.text for li in lines)
    assert len(customer.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot")) == \
        bot_turns_after_handoff
    assert servers.tracker(_conversation_id(operator))["paused"] is True

    # Resolves it through the status form; a closed ticket offers no further transitions.
    Select(operator.find_element(By.CSS_SELECTOR, "form[action$='/status'] select")) \
        .select_by_value("resolved")
    submit(operator.find_element(By.CSS_SELECTOR, "form[action$='/status']"))
    done_message(operator, "状態を変更しました。")
    assert badge(operator) == "完了"
    assert not operator.find_elements(By.CSS_SELECTOR, "form[action$='/status']")
    history = operator.find_element(By.ID, "audit").text
    assert "状態: 新規 → 対応中" in history and "状態: 対応中 → 完了" in history
    assert "お客様へ送信" in history

    # It has left the open queue, and is there among all tickets, resolved.
    operator.get(f"{desk.base}/desk")
    wait(operator).until(ec.presence_of_element_located((By.ID, "queue-rows")))
    assert not operator.find_elements(By.CSS_SELECTOR, row_selector)
    operator.get(f"{desk.base}/desk?status=all")
    resolved = wait(operator).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, row_selector)))
    assert "完了" in resolved.text


def _conversation_id(operator: WebDriver) -> str:
    """The conversation id the ticket page shows (the customer's socket.io session)."""
    return operator.find_element(By.CSS_SELECTOR, "#request code").text
