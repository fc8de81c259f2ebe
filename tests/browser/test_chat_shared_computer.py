"""A shared computer (issue 15, item 6): the web chat's conversation ends with the browser tab.

The widget keeps the conversation id, its session token and the messages in the tab's
sessionStorage, nothing in localStorage: a reload in the tab continues the conversation, while
the next person who opens the shop in a new tab of the same browser starts a new one and never
sees the operator's later replies to the first. Real Chromium, real Rasa socket.io channel, the
operator's words delivered as the desk delivers them (Rasa's API, `output_channel=latest`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from madoguchi.conversation.events import operator_turn
from madoguchi.desk.rasa import RasaClient
from madoguchi.runtime.launcher import run_secrets
from tests.browser.conftest import DeskServer
from tests.e2e.conftest import Servers

pytestmark = [pytest.mark.browser, pytest.mark.server]

REFERENCE = re.compile(r"PRV-\d{8}-\d{4}")
WAIT = 60  # an upper bound for waiting, never a measurement
KEY = "madoguchi-chat:v1:"


def wait(driver: WebDriver) -> WebDriverWait:
    return WebDriverWait(driver, WAIT, poll_frequency=0.2,
                         ignored_exceptions=(WebDriverException,))


def chat_texts(driver: WebDriver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.mdg-msg .mdg-bubble'), e => e.innerText);")


def stored(driver: WebDriver, kind: str) -> dict[str, str]:
    """The widget's entries in the page's localStorage or sessionStorage."""
    return driver.execute_script(
        "const s = window[arguments[0]]; const out = {};"
        "for (let i = 0; i < s.length; i++) { const k = s.key(i);"
        "  if (k.startsWith(arguments[1])) out[k] = s.getItem(k); }"
        "return out;", kind, KEY)


def conversation_id(driver: WebDriver) -> str:
    """The conversation the widget is in, wherever it keeps it."""
    return driver.execute_script(
        "const k = arguments[0];"
        "return JSON.parse(sessionStorage.getItem(k) || localStorage.getItem(k));",
        KEY + "session")


def open_chat(driver: WebDriver, desk: DeskServer) -> None:
    driver.get(f"{desk.base}/")
    wait(driver).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".mdg-launcher"))).click()
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".mdg-msg.mdg-bot"))


def operator_says(servers: Servers, conversation: str, text: str) -> None:
    """The operator's words into the customer's chat, as the desk sends them."""
    RasaClient(servers.rasa_url, run_secrets().rasa_token).append_event(
        conversation, operator_turn(text, "hanako"), deliver=True)


def test_the_conversation_ends_with_the_tab_and_survives_a_reload(
    browser: Callable[[str], WebDriver], desk: DeskServer, servers: Servers
) -> None:
    shared = browser("shared-computer")

    # The first customer asks for a person.
    open_chat(shared, desk)
    box = shared.find_element(By.ID, "mdg-input")
    box.send_keys("人間の担当者と話したいです")
    box.send_keys(Keys.ENTER)
    wait(shared).until(lambda d: any(REFERENCE.search(t) for t in chat_texts(d)))
    first = conversation_id(shared)
    assert first

    # A reload in the same tab continues the conversation: history, id, operator's words.
    shared.refresh()
    wait(shared).until(lambda d: any(REFERENCE.search(t) for t in chat_texts(d)))
    assert conversation_id(shared) == first
    # The history shows at once; the operator's next words reach the tab once it has joined
    # the conversation again (words sent while a tab reloads are not replayed to it).
    wait(shared).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, ".mdg-root[data-connected='true']"))
    operator_says(servers, first, "担当の花子です。ご用件を伺います。")
    wait(shared).until(lambda d: "担当の花子です。ご用件を伺います。" in chat_texts(d))

    # The customer closes the tab; the next person opens the shop in a new one.
    first_tab = shared.current_window_handle
    shared.switch_to.new_window("tab")
    next_tab = shared.current_window_handle
    shared.switch_to.window(first_tab)
    shared.close()
    shared.switch_to.window(next_tab)
    open_chat(shared, desk)
    second = conversation_id(shared)
    assert second and second != first
    assert not any(REFERENCE.search(t) or "花子" in t for t in chat_texts(shared))

    # The operator's later reply to the first customer does not reach the next person.
    operator_says(servers, first, "先ほどのご住所の件で、折り返しご連絡いたします。")
    operator_says(servers, second, "新しいお問い合わせの担当です。")
    wait(shared).until(lambda d: "新しいお問い合わせの担当です。" in chat_texts(d))
    assert "先ほどのご住所の件で、折り返しご連絡いたします。" not in chat_texts(shared)
    # Nothing of either conversation outlives its tab.
    assert stored(shared, "localStorage") == {}
    assert set(stored(shared, "sessionStorage")) >= {KEY + "session", KEY + "token"}
