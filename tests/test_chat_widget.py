"""The customer's web chat (issue 5, item 6): the widget, its demo page and the notice it links
to, served by a real desk; the widget itself run in Node against madoguchi's socket.io channel.

What runs where:
- the desk is the real uvicorn process (madoguchi.runtime.launcher), on a throwaway SQLite database;
- the socket.io side is a small Sanic server with madoguchi's own channel class and a scripted
  bot (no model: Rasa's dialogue is tested in tests/e2e);
- the widget bundle runs in Node (>= 20, its WebSocket) on a minimal DOM stub that throws on
  any HTML parsing. A real browser (headless Chromium) is not installed yet: layout, CSS and
  real focus handling are not covered here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, Service, desk_service, free_port

ROOT = project_root()
CHAT = ROOT / "src" / "madoguchi" / "desk" / "static" / "chat"
WIDGET = CHAT / "madoguchi-chat.js"
VENDOR = CHAT / "vendor" / "socket.io.min.js"
PUBLIC_RASA = "http://chat.example.test:5005"
# Ways to put markup into a page; the widget uses none of them (text goes in as textContent).
HTML_SINKS = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write")

CHAT_SERVER = r'''
"""A stand-in for Rasa's web chat side: madoguchi's socket.io channel, a scripted bot."""

import asyncio
import os
import sys
import uuid
from typing import Any

from sanic import Sanic, response

from madoguchi.rasa_adapters.channels import GuardedSocketIOInput

port = int(sys.argv[1])


channel = GuardedSocketIOInput(session_persistence=True)  # the channel credentials.yml names
seen: dict[str, list[str]] = {}


async def on_new_message(message) -> None:
    seen.setdefault(message.sender_id, []).append(message.text)
    out, to, text = message.output_channel, message.sender_id, message.text
    if text == "/greet":
        await out.send_response(to, {"text": "こんにちは。ご用件をどうぞ。"})
    elif text == "ボタン":
        await out.send_response(to, {"text": "どちらに近いでしょうか。", "buttons": [
            {"title": "訂正", "payload": "/request_correction"},
            {"title": "利用停止", "payload": "/request_suspension"},
        ]})
    else:
        await out.send_response(to, {"text": f"受信: {text}"})


app = Sanic("madoguchi_chat_test")
app.blueprint(channel.blueprint(on_new_message))


@app.get("/operator")
async def operator(request):
    # As Rasa does for POST .../tracker/events?output_channel=latest: BotUttered.message()
    await channel.get_output_channel().send_response(
        request.args.get("session"), {"text": request.args.get("text"), "operator": "sato"})
    return response.json({"ok": True})


@app.get("/seen")
async def seen_messages(request):
    return response.json(seen.get(request.args.get("session"), []))


@app.get("/exit")
async def exit_soon(request):
    # A network blip: the server goes away and comes back (the test runs it in a loop).
    asyncio.get_running_loop().call_later(0.2, os._exit, 0)
    return response.json({"ok": True})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=port, access_log=False, debug=False)
'''

HARNESS = r'''// The served widget bundle in Node, on a minimal DOM, against a socket.io server.
// node --experimental-websocket harness.js BUNDLE SERVER_URL; prints "ALL OK" on success.
"use strict";
const fs = require("fs");
const vm = require("vm");
const [bundlePath, server] = process.argv.slice(2);
const bundle = fs.readFileSync(bundlePath, "utf8");
const DESK = "http://desk.test:8000";

// --- a minimal DOM: only what the widget uses; anything that parses HTML throws -----------
class Node_ {
  constructor() { this.childNodes = []; this.parentNode = null; }
  get firstChild() { return this.childNodes[0] || null; }
  appendChild(c) {
    if (c.parentNode) c.parentNode.removeChild(c);
    c.parentNode = this;
    this.childNodes.push(c);
    return c;
  }
  removeChild(c) {
    const i = this.childNodes.indexOf(c);
    if (i >= 0) this.childNodes.splice(i, 1);
    c.parentNode = null;
    return c;
  }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(""); }
  set textContent(v) {
    this.childNodes.forEach((c) => { c.parentNode = null; });
    this.childNodes = [];
    if (String(v)) this.appendChild(new Text_(String(v)));
  }
}
class Text_ extends Node_ {
  constructor(t) { super(); this.data = t; }
  get textContent() { return this.data; }
  set textContent(v) { this.data = String(v); }
}
class Element_ extends Node_ {
  constructor(tag, doc) {
    super();
    Object.assign(this, { tagName: tag.toUpperCase(), ownerDocument: doc, attrs: {},
      listeners: {}, className: "", hidden: false, disabled: false, value: "" });
  }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  get classList() {
    const el = this;
    const list = () => el.className.split(/\s+/).filter(Boolean);
    const add = (n) => { if (!list().includes(n)) el.className = list().concat(n).join(" "); };
    const remove = (n) => { el.className = list().filter((x) => x !== n).join(" "); };
    return {
      contains: (n) => list().includes(n), add, remove,
      toggle: (n, force) => {
        const on = force === undefined ? !list().includes(n) : !!force;
        if (on) add(n); else remove(n);
        return on;
      },
    };
  }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type, props) {
    const ev = Object.assign({ type, target: this, defaultPrevented: false,
      preventDefault() { this.defaultPrevented = true; } }, props);
    (this.listeners[type] || []).forEach((fn) => fn(ev));
    return ev;
  }
  focus() { this.ownerDocument.activeElement = this; }
  click() { if (!this.disabled) this.fire("click"); }
  get elements() { return this.childNodes.filter((c) => c instanceof Element_); }
  all() { return this.elements.flatMap((c) => [c, ...c.all()]); }
  byClass(name) { return this.all().filter((e) => e.classList.contains(name)); }
  querySelectorAll(sel) {
    if (!/^\.[\w-]+$/.test(sel)) throw new Error("selector not in the stub: " + sel);
    return this.byClass(sel.slice(1));
  }
}
for (const name of ["innerHTML", "outerHTML"]) {
  const used = () => { throw new Error(name + " used"); };
  Object.defineProperty(Element_.prototype, name, { get: used, set: used });
}
Element_.prototype.insertAdjacentHTML = () => { throw new Error("insertAdjacentHTML used"); };

function makeDocument() {
  const doc = { readyState: "complete", activeElement: null };
  doc.createElement = (t) => new Element_(t, doc);
  doc.createTextNode = (t) => new Text_(t);
  doc.head = doc.createElement("head");
  doc.body = doc.createElement("body");
  const script = doc.body.appendChild(doc.createElement("script"));
  script.src = DESK + "/chat/madoguchi-chat.js";
  script.setAttribute("data-rasa-url", server);
  doc.currentScript = script;
  doc.querySelector = (sel) => (sel.startsWith("script") ? script : null);
  doc.querySelectorAll = (sel) => {
    if (sel !== 'link[rel="stylesheet"]') throw new Error("selector not in the stub: " + sel);
    return doc.head.elements.filter((e) => e.tagName === "LINK");
  };
  doc.addEventListener = () => {};
  doc.write = () => { throw new Error("document.write used"); };
  return doc;
}

class Store_ {
  constructor() { this.map = new Map(); }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { this.map.set(k, String(v)); }
  removeItem(k) { this.map.delete(k); }
}

// Node has no XMLHttpRequest: a small one on fetch, so that socket.io starts with
// long-polling and upgrades to WebSocket as it does in a browser.
class XHR_ {
  constructor() {
    Object.assign(this, { readyState: 0, status: 0, responseText: "", responseType: "",
      withCredentials: false, headers: {}, ctl: new AbortController() });
  }
  open(method, url) { this.method = method; this.url = url; this.readyState = 1; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  send(body) {
    const init = { method: this.method, headers: this.headers, signal: this.ctl.signal,
      body: body == null ? undefined : body };
    fetch(this.url, init)
      .then(async (r) => { this.status = r.status; this.responseText = await r.text(); })
      .catch(() => { this.status = 0; })
      .finally(() => {
        if (this.aborted) return;
        this.readyState = 4;
        if (this.onreadystatechange) this.onreadystatechange();
      });
  }
  abort() { this.aborted = true; this.ctl.abort(); }
}

const local = new Store_();
const tab = new Store_();
Object.assign(globalThis, {
  window: globalThis, localStorage: local, sessionStorage: tab, XMLHttpRequest: XHR_,
  location: new URL("http://shop.test/index.html"), confirm: () => true,
});

// A page load; `session` is the tab's sessionStorage (the same one: a reload in that tab).
function loadPage(session = tab) {
  globalThis.sessionStorage = session;
  const doc = makeDocument();
  globalThis.document = doc;
  delete globalThis.__madoguchiChat;
  vm.runInThisContext(bundle, { filename: "madoguchi-chat.js" });
  const root = doc.body.byClass("mdg-root")[0];
  return { doc, root, one: (name) => root.byClass(name)[0], msgs: () => root.byClass("mdg-msg") };
}

// --- checks ---------------------------------------------------------------------------------
function check(cond, what) {
  if (!cond) throw new Error("FAILED: " + what);
  console.log("ok  " + what);
}
async function until(pred, what, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) { console.log("ok  " + what); return; }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("TIMEOUT: " + what);
}
const last = (p) => p.msgs()[p.msgs().length - 1];
const get = (path) => fetch(server + path).then((r) => r.json());
const operator = (session, text) =>
  get(`/operator?session=${session}&text=${encodeURIComponent(text)}`);
function type(p, text) {
  p.one("mdg-input").value = text;
  p.one("mdg-input").fire("input");
}

(async () => {
  // What an earlier version of the widget left: a conversation kept in localStorage for 7 days.
  local.setItem("madoguchi-chat:v1:session", JSON.stringify("f".repeat(32)));
  local.setItem("madoguchi-chat:v1:token", JSON.stringify("1.deadbeef"));
  const p = loadPage();
  check(local.getItem("madoguchi-chat:v1:session") === null &&
    local.getItem("madoguchi-chat:v1:token") === null,
    "a conversation an earlier version kept in localStorage is dropped");
  check(!!p.root, "one widget root on the page");
  const css = p.doc.head.elements.find((e) => e.tagName === "LINK");
  check(css && css.href === DESK + "/chat/madoguchi-chat.css", "stylesheet from the desk");
  check(p.one("mdg-title").textContent === "個人情報に関するお問い合わせ窓口", "title");
  check(p.one("mdg-notice").textContent === "このチャットの内容は記録されます。" +
    "個人情報の取扱いについては同意事項をご覧ください。", "the line that the chat is logged");
  const link = p.one("mdg-notice").elements[0];
  check(link.href === DESK + "/chat/notice" && link.textContent === "同意事項", "notice link");
  const log = p.one("mdg-log");
  check(log.getAttribute("role") === "log" && log.getAttribute("aria-live") === "polite",
    "the log is a live region");
  check(p.one("mdg-panel").hidden &&
    p.one("mdg-launcher").getAttribute("aria-expanded") === "false", "closed at first");

  p.one("mdg-launcher").click();
  check(!p.one("mdg-panel").hidden &&
    p.one("mdg-launcher").getAttribute("aria-expanded") === "true", "the launcher opens it");
  check(p.doc.activeElement === p.one("mdg-input"), "focus moves to the input");
  check(p.one("mdg-input").placeholder !== "" && p.one("mdg-send").textContent === "送信",
    "placeholder and send button");
  await until(() => p.msgs().length === 1 && last(p).classList.contains("mdg-bot") &&
    last(p).textContent.includes("こんにちは"), "the assistant greets a new conversation");
  const session = JSON.parse(tab.getItem("madoguchi-chat:v1:session"));
  check(/^[0-9a-f]{32}$/.test(session) && session !== "f".repeat(32),
    "a new conversation's id kept in this tab (sessionStorage)");
  check(typeof JSON.parse(tab.getItem("madoguchi-chat:v1:token")) === "string",
    "its session token kept in this tab");
  check(local.map.size === 0, "nothing kept in localStorage (it outlives the tab)");

  check(p.one("mdg-send").disabled, "empty input: send disabled");
  type(p, "   \n ");
  p.one("mdg-form").fire("submit");
  check(p.msgs().length === 1 && p.one("mdg-send").disabled, "a blank message is not sent");

  type(p, "ボタン");
  check(p.one("mdg-count").textContent === "3 / 2,000" && !p.one("mdg-send").disabled,
    "counter; send enabled");
  const ime = p.one("mdg-input").fire("keydown", { key: "Enter", isComposing: true,
    keyCode: 229 });
  check(!ime.defaultPrevented && p.msgs().length === 1, "Enter while the IME composes: no send");
  p.one("mdg-input").fire("keydown", { key: "Enter", isComposing: false, keyCode: 13 });
  check(last(p).classList.contains("mdg-customer") && last(p).textContent.endsWith("ボタン"),
    "the customer's bubble");
  check(p.one("mdg-input").value === "" && !p.one("mdg-typing").hidden,
    "input cleared, typing indicator shown");
  await until(() => p.root.byClass("mdg-choice").length === 2, "quick replies as buttons");
  check(p.one("mdg-typing").hidden, "typing indicator gone with the reply");
  const choice = p.root.byClass("mdg-choice")[0];
  check(choice.textContent === "訂正", "a button shows its title");
  choice.click();
  check(last(p).classList.contains("mdg-customer") && last(p).textContent.endsWith("訂正"),
    "a choice shows its title as the customer's bubble");
  check(p.root.byClass("mdg-choice").every((b) => b.disabled), "choices are answered once");
  await until(() => last(p).textContent.includes("受信: /request_correction"),
    "the payload is what was sent");

  const hostile = "<img src=x onerror=alert(1)>\n二行目 https://example.jp/a?b=1";
  type(p, hostile);
  p.one("mdg-form").fire("submit");
  await until(() => last(p).classList.contains("mdg-bot") &&
    last(p).textContent.includes("受信: <img"), "markup comes back");
  const bubble = last(p).byClass("mdg-bubble")[0];
  check(bubble.textContent === "受信: " + hostile, "markup and line break kept as text");
  check(bubble.elements.length === 1 && bubble.elements[0].tagName === "A" &&
    bubble.elements[0].href === "https://example.jp/a?b=1", "only the URL became a link");

  await operator(session, "担当の者です。\nご用件を伺います。");
  await until(() => last(p).classList.contains("mdg-operator"), "an operator's message");
  check(last(p).byClass("mdg-who")[0].textContent === "担当者", "labelled 担当者");
  check(last(p).byClass("mdg-bubble")[0].textContent === "担当の者です。\nご用件を伺います。",
    "the operator's text intact");

  check(p.one("mdg-input").maxLength === 2000, "input limited to 2,000 characters");
  type(p, "あ".repeat(2001));
  check(p.one("mdg-send").disabled && p.one("mdg-count").classList.contains("mdg-over"),
    "over 2,000: not sendable");
  type(p, "");

  p.one("mdg-panel").fire("keydown", { key: "Escape" });
  check(p.one("mdg-panel").hidden && p.doc.activeElement === p.one("mdg-launcher"),
    "Escape closes and gives the focus back");
  await operator(session, "お待たせしました。");
  await until(() => !p.one("mdg-badge").hidden && p.one("mdg-badge").textContent === "1",
    "unread badge while closed");
  p.one("mdg-launcher").click();

  // A reload: a new page on the same storage.
  const q = loadPage();
  const texts = (page) => page.msgs().map((m) => m.textContent).join("|");
  check(q.msgs().length === p.msgs().length && texts(q) === texts(p),
    "the history is shown again after a reload");
  check(!q.one("mdg-panel").hidden, "still open after the reload");
  await until(() => q.one("mdg-status").hidden, "connected after the reload");
  check(JSON.parse(tab.getItem("madoguchi-chat:v1:session")) === session,
    "the same conversation after the reload");
  const seen = await get(`/seen?session=${session}`);
  check(seen.filter((m) => m === "/greet").length === 1, "no second greeting after the reload");

  // A network blip: the server goes away and comes back.
  await get("/exit").catch(() => null);
  await until(() => q.one("mdg-status").textContent === "再接続しています…" &&
    !q.one("mdg-status").hidden, "「再接続しています…」 is shown");
  type(q, "切断中の送信");
  q.one("mdg-form").fire("submit");
  await until(() => q.one("mdg-status").hidden, "reconnected", 60000);
  await until(() => last(q).textContent.includes("受信: 切断中の送信"),
    "a message typed while disconnected is sent after the reconnect");
  await operator(session, "再接続後のご連絡です。");
  await until(() => last(q).textContent.includes("再接続後のご連絡です。"),
    "an operator's message after the reconnect");

  // The next person at this shared computer opens the shop in a new tab (the first customer's
  // tab closed or not): its own sessionStorage, the same localStorage.
  const nextTab = new Store_();
  const r = loadPage(nextTab);
  check(r.msgs().length === 0, "a new tab shows none of the earlier conversation");
  r.one("mdg-launcher").click();
  await until(() => r.msgs().length === 1 && last(r).textContent.includes("こんにちは"),
    "a new tab greets a new conversation");
  const other = JSON.parse(nextTab.getItem("madoguchi-chat:v1:session"));
  check(/^[0-9a-f]{32}$/.test(other) && other !== session, "a new tab is a new conversation");
  await operator(session, "前のお客様へのご連絡です。");
  await operator(other, "新しいお客様へのご連絡です。");
  await until(() => last(r).textContent.includes("新しいお客様へのご連絡です。"),
    "the new tab gets its own conversation's operator message");
  check(!texts(r).includes("前のお客様へのご連絡です。"),
    "the operator's later reply to the earlier customer is not shown in the new tab");
  console.log("ALL OK");
  process.exit(0);
})().catch((e) => {
  console.log(e.stack || String(e));
  process.exit(1);
});
'''

PROBE = r'''
// The vendored socket.io client against the channel, as configured (no patch).
// node probe.js CLIENT SERVER reply|operator: exit 0 when the reply (or a marked operator
// message) reaches the conversation, 1 otherwise.
"use strict";
const io = require(process.argv[2]);
const [server, what] = process.argv.slice(3);
const socket = io(server, { transports: ["websocket"], forceNew: true });
const fail = setTimeout(() => { console.log("nothing arrived"); process.exit(1); }, 15000);
socket.on("connect", () => socket.emit("session_request", { session_id: null }));
socket.on("session_confirm", (id) => {
  if (what === "reply") {
    socket.emit("user_uttered", { message: "/greet", session_id: id });
  } else {
    fetch(`${server}/operator?session=${id}&text=${encodeURIComponent("担当者です")}`);
  }
});
socket.on("bot_uttered", (data) => {
  console.log("bot_uttered " + JSON.stringify(data));
  clearTimeout(fail);
  const marked = !!(data.metadata && data.metadata.operator);
  process.exit(what === "reply" || marked ? 0 : 1);
});
'''


# --- servers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("chat-desk")
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": f"sqlite:///{work / 'madoguchi.db'}",
        "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{free_port()}",  # the desk's own view: unused
        "MADOGUCHI_PUBLIC_RASA_URL": PUBLIC_RASA,  # the browser's view
        "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{free_port()}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        launcher.stop_all()


def _node_argv() -> list[str] | None:
    """node with a WebSocket global (Node 22 has it, Node 20 behind a flag), else None."""
    node = shutil.which("node")
    if node is None:
        return None
    for argv in ([node], [node, "--experimental-websocket"]):
        probe = subprocess.run(
            [*argv, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
            capture_output=True, timeout=30, check=False,
        )
        if probe.returncode == 0:
            return argv
    return None


@pytest.fixture(scope="module")
def node() -> list[str]:
    argv = _node_argv()
    if argv is None:
        pytest.skip("no Node.js with WebSocket (>= 20) on this machine")
    return argv


def _chat_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("chat")
    script = work / "chat_server.py"
    script.write_text(CHAT_SERVER, encoding="utf-8")
    port = free_port()
    # Restarted whenever it exits: GET /exit is a network blip.
    loop = f"while :; do {sys.executable} {script} {port}; sleep 0.3; done"
    launcher = Launcher(ROOT, work / "logs", env={"TF_CPP_MIN_LOG_LEVEL": "3"})
    service = launcher.start(Service("chat", ["bash", "-c", loop],
                                     f"http://127.0.0.1:{port}/seen"))
    try:
        launcher.wait_ready([service], timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        launcher.stop_all()


@pytest.fixture(scope="module")
def chat_channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The socket.io channel credentials.yml names, behind a tiny scripted bot."""
    yield from _chat_server(tmp_path_factory)


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


# --- what the desk serves --------------------------------------------------------------------


def test_demo_page_embeds_the_chat_with_one_script_tag(desk: str) -> None:
    response = requests.get(desk + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = _Scripts()
    page.feed(response.text)
    assert page.title == "ジュピターショップ（デモ）"
    assert len(page.scripts) == 1
    (script,) = page.scripts
    assert script["src"] == "/chat/madoguchi-chat.js"
    assert script["data-rasa-url"] == PUBLIC_RASA  # MADOGUCHI_PUBLIC_RASA_URL wins
    assert "defer" in script
    # The page allows its own script and style and a connection to Rasa, nothing else.
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert f"connect-src 'self' {PUBLIC_RASA} ws://chat.example.test:5005;" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<style nonce="{nonce}">' in response.text


def test_widget_script_is_served_as_javascript_with_its_socketio_client(desk: str) -> None:
    response = requests.get(desk + "/chat/madoguchi-chat.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    body = response.text
    assert "Socket.IO v4.7.5" in body and "/chat/vendor/LICENSE" in body
    assert "個人情報に関するお問い合わせ窓口" in body
    assert "sourceMappingURL" not in body  # the map is not vendored
    assert requests.head(desk + "/chat/madoguchi-chat.js", timeout=10).status_code == 200


def test_widget_style_and_vendor_license_are_served(desk: str) -> None:
    css = requests.get(desk + "/chat/madoguchi-chat.css", timeout=10)
    assert css.status_code == 200
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    assert ".mdg-root" in css.text
    license_ = requests.get(desk + "/chat/vendor/LICENSE", timeout=10)
    assert license_.status_code == 200
    assert license_.headers["content-type"] == "text/plain; charset=utf-8"
    assert "Guillermo Rauch" in license_.text and "MIT" in license_.text


def test_notice_link_serves_the_notice_text(desk: str) -> None:
    response = requests.get(desk + "/chat/notice", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    expected = (ROOT / "data" / "notice" / "privacy_notice_ja.txt").read_text(encoding="utf-8")
    assert response.content.decode("utf-8") == expected
    assert "WEB 会員登録に関する個人情報の同意事項" in response.text


def test_public_rasa_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from madoguchi.desk.chat import public_rasa_url

    monkeypatch.delenv("MADOGUCHI_PUBLIC_RASA_URL", raising=False)
    monkeypatch.setenv("MADOGUCHI_RASA_URL", "http://10.0.0.5:5005")
    assert public_rasa_url() == "http://10.0.0.5:5005"
    monkeypatch.setenv("MADOGUCHI_PUBLIC_RASA_URL", "https://chat.example.jp/")
    assert public_rasa_url() == "https://chat.example.jp"
    monkeypatch.setenv("MADOGUCHI_PUBLIC_RASA_URL", "javascript:alert(1)")
    with pytest.raises(ValueError):
        public_rasa_url()


# --- the script itself -----------------------------------------------------------------------


def test_widget_never_writes_html(desk: str) -> None:
    source = WIDGET.read_text(encoding="utf-8")
    assert not HTML_SINKS.search(source)
    assert not re.search(r"\beval\s*\(|new\s+Function\b", source)
    # The vendored client neither (the bundle is what pages load).
    served = requests.get(desk + "/chat/madoguchi-chat.js", timeout=10).text
    assert not HTML_SINKS.search(served)


def test_widget_and_bundle_parse_with_node(desk: str, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    bundle = tmp_path / "bundle.js"
    bundle.write_text(requests.get(desk + "/chat/madoguchi-chat.js", timeout=10).text,
                      encoding="utf-8")
    for path in (WIDGET, bundle):
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, result.stderr


def test_widget_runs_against_the_socketio_channel(
    desk: str, node: list[str], chat_channel: str, tmp_path: Path,
) -> None:
    """Open, greet, buttons, markup as text, operator label, limits, reload, reconnect."""
    bundle = tmp_path / "bundle.js"
    bundle.write_text(requests.get(desk + "/chat/madoguchi-chat.js", timeout=10).text,
                      encoding="utf-8")
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    result = subprocess.run([*node, str(harness), str(bundle), chat_channel],
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0 and "ALL OK" in result.stdout, result.stdout + result.stderr


# --- the channel as configured today (credentials.yml: madoguchi.rasa_adapters.channels) ----


def _probe(node: list[str], server: str, what: str, tmp_path: Path) -> subprocess.CompletedProcess:
    probe = tmp_path / "probe.js"
    probe.write_text(PROBE, encoding="utf-8")
    return subprocess.run([*node, str(probe), str(VENDOR), server, what],
                          capture_output=True, text=True, timeout=60, check=False)


def test_channel_as_configured_delivers_replies(
    node: list[str], chat_channel: str, tmp_path: Path,
) -> None:
    result = _probe(node, chat_channel, "reply", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_channel_as_configured_marks_operator_messages(
    node: list[str], chat_channel: str, tmp_path: Path,
) -> None:
    result = _probe(node, chat_channel, "operator", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
