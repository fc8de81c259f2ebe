"""Operator assist and CSAT in real browsers (issue 17): a customer in the web chat, an operator
and a supervisor in the desk, each in their own headless Chromium, through the real Rasa,
action server and desk.

The operator watches the suggestions change as the customer writes, inserts one, edits and
sends it, finds a canned reply with "/" (its blank placeholder blocks sending until filled),
hands the conversation back; the customer is asked 「今回の対応はいかがでしたか」, rates it and
comments; the supervisor's figures show the rating. The screenshots the README shows are taken
here (docs/screenshots/), with the Japanese font the set-up installs (fonts-noto-cjk).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from madoguchi.infra.settings import project_root
from tests.browser.conftest import DeskServer, add_user
from tests.browser.test_handoff_in_browser import (
    REFERENCE,
    customer_says,
    done_message,
    one_text_matching,
    submit,
    texts_of,
    wait,
)
from tests.e2e.conftest import Servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

SCREENSHOTS = project_root() / "docs" / "screenshots"
FEE_QUESTION = "開示をお願いする場合、手数料はかかりますか"
OVERSEAS_QUESTION = "私の個人データを海外で扱うことはありますか"


def log_in(driver: WebDriver, desk: DeskServer, token: str, path: str) -> None:
    driver.get(f"{desk.base}{path}")
    wait(driver).until(ec.url_contains("/desk/login"))
    driver.find_element(By.ID, "token").send_keys(token)
    submit(driver.find_element(By.CSS_SELECTOR, "form[action='/desk/login']"))


def latest_suggestion(driver: WebDriver) -> tuple[str, list[str]]:
    """(the newest customer message the panel shows, its passages' section ids)."""
    return driver.execute_script("""
        const m = document.querySelector('#assist-body .assist-message.latest');
        if (!m) return ['', []];
        return [m.querySelector('.said').innerText,
                Array.from(m.querySelectorAll('.passage'), p => p.dataset.section)];""")


def screenshot(driver: WebDriver, name: str, selector: str) -> Path:
    """The element `selector` alone (the page around it is long), at the browser's width."""
    height = driver.execute_script(
        "return Math.ceil(document.documentElement.scrollHeight);")
    driver.set_window_size(1280, max(900, min(int(height) + 140, 6000)))
    time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.find_element(By.CSS_SELECTOR, selector).screenshot(str(path))
    driver.set_window_size(1280, 900)
    return path


def test_assist_follows_the_customer_and_the_rating_reaches_the_supervisor(
    browser: Callable[[str], WebDriver], desk: DeskServer, servers: Servers
) -> None:
    operator = browser("operator")
    customer = browser("customer")

    # The customer asks for a person in the chat and gets a reference number.
    customer.get(f"{desk.base}/")
    wait(customer).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".mdg-launcher"))).click()
    wait(customer).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot"))
    customer_says(customer, "担当者と話したいです")
    handoff = wait(customer).until(
        lambda d: one_text_matching(d, ".mdg-msg.mdg-bot .mdg-bubble", REFERENCE))
    reference = REFERENCE.search(handoff).group(0)

    # The operator opens the ticket and claims it; the panel follows the conversation.
    log_in(operator, desk, desk.operator_token, f"/desk/tickets/{reference}")
    wait(operator).until(ec.text_to_be_present_in_element((By.ID, "top"), reference))
    assert operator.find_element(By.ID, "ticket-summary").text.startswith("お客様")
    submit(operator.find_element(By.CSS_SELECTOR, "form[action$='/claim']"))
    done_message(operator, "この受付の担当になりました。")
    operator.execute_script("window.__sameTicketPage = true;")

    customer_says(customer, FEE_QUESTION)
    wait(operator).until(lambda d: FEE_QUESTION in latest_suggestion(d)[0])
    sections = latest_suggestion(operator)[1]
    assert sections and sections[0].startswith("4"), sections
    fee = operator.find_element(By.CSS_SELECTOR, "#assist-body .latest .passage")
    assert "手数料" in fee.find_element(By.CSS_SELECTOR, ".quote").text
    assert re.fullmatch(r"\d{1,3}%", fee.find_element(By.CSS_SELECTOR, ".confidence").text)

    # The customer writes again: the suggestions change, without a reload.
    customer_says(customer, OVERSEAS_QUESTION)
    wait(operator).until(lambda d: OVERSEAS_QUESTION in latest_suggestion(d)[0])
    assert latest_suggestion(operator)[1][0] == "6.7"
    assert operator.execute_script("return window.__sameTicketPage === true;")
    assert FEE_QUESTION in texts_of(operator, "#assist-body .assist-message:not(.latest) .said")[0]

    # One click puts the passage's answer in the reply box; the operator edits it and sends.
    passage = operator.find_element(By.CSS_SELECTOR, "#assist-body .latest .passage")
    passage.find_element(By.CSS_SELECTOR, "button.insert").click()
    box = operator.find_element(By.ID, "text")
    inserted = box.get_attribute("value")
    assert "外国" in inserted and "出典" in inserted
    box.send_keys(Keys.END, "\nほかにご不明な点がございましたら、お知らせください。")
    sent = box.get_attribute("value")
    screenshot(operator, "ticket-assist", "#chat")
    submit(operator.find_element(By.CSS_SELECTOR, "form.message"))
    done_message(operator, "お客様に送信しました。")
    wait(customer).until(lambda d: any(
        "ほかにご不明な点がございましたら" in t and "外国" in t
        for t in texts_of(d, ".mdg-msg.mdg-operator .mdg-bubble")))
    assert sent.startswith(inserted)

    # "/" searches the canned replies; a blank placeholder blocks sending until filled.
    box = operator.find_element(By.ID, "text")
    box.send_keys("/受付")
    # The list narrows as the characters arrive; the reply about the reference comes first.
    wait(operator).until(lambda d: d.execute_script(
        "const o = document.querySelector('#canned-menu li.canned-option');"
        "return o && o.offsetParent !== null && o.dataset.id === 'request_received';"))
    box.send_keys(Keys.ENTER)
    wait(operator).until(lambda d: reference in d.find_element(By.ID, "text").get_attribute(
        "value"))
    send = operator.find_element(By.CSS_SELECTOR, "form.message button[type=submit]")
    assert not send.is_enabled()  # the handoff ticket has no name yet: {customer_name} is left
    assert "お客様のお名前" in operator.find_element(By.ID, "placeholder-warning").text
    filled = re.sub(r"\{[a-z_]+\}", "〇〇", box.get_attribute("value"))
    box.clear()
    box.send_keys(filled)
    assert send.is_enabled()
    box.clear()

    # The operator hands back: the customer is asked, rates, and comments.
    submit(operator.find_element(By.CSS_SELECTOR, "form.handback"))
    done_message(operator, "会話をボットに戻しました。")
    wait(customer).until(lambda d: one_text_matching(
        d, ".mdg-msg.mdg-bot .mdg-bubble", re.compile("今回の対応はいかがでしたか")))
    buttons = wait(customer).until(lambda d: [b for b in d.find_elements(
        By.CSS_SELECTOR, ".mdg-msg.mdg-bot .mdg-choice") if b.is_enabled()])
    assert [b.text for b in buttons][:5] == ["5 満足", "4 やや満足", "3 ふつう", "2 やや不満",
                                             "1 不満"]
    next(b for b in buttons if b.text == "2 やや不満").click()
    wait(customer).until(lambda d: one_text_matching(
        d, ".mdg-msg.mdg-bot .mdg-bubble", re.compile("ご意見やご感想")))
    customer_says(customer, "説明は丁寧でしたが、時間がかかりました。電話は090-1111-2222です")
    wait(customer).until(lambda d: one_text_matching(
        d, ".mdg-msg.mdg-bot .mdg-bubble", re.compile("貴重なご意見")))

    # The supervisor's figures show it: this week's average, the operator, the comment masked.
    supervisor = browser("supervisor")
    name = f"kyoko{int(time.time())}"
    log_in(supervisor, desk, add_user(desk.database_url, name, "supervisor"),
           "/desk/review/metrics")
    wait(supervisor).until(ec.presence_of_element_located((By.ID, "quality")))
    this_week = supervisor.find_elements(By.CSS_SELECTOR, ".kpi-group")[1].text
    assert "2" in this_week and "1件" in this_week
    bars = supervisor.execute_script(  # SVG text has no innerText
        "return Array.from(document.querySelectorAll('#chart-csat-operator text'),"
        " t => t.textContent);")
    assert desk.operator in bars and any(t.startswith("2（1件）") for t in bars)
    worst = supervisor.find_element(By.ID, "worst-rated").text
    assert reference in worst and "［電話番号" in worst and "090-1111-2222" not in worst
    screenshot(supervisor, "supervisor-figures", "#quality")
