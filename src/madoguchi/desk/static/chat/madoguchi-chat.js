/*
 * madoguchi web chat: the customer's window to the assistant, embedded with one script tag:
 *
 *   <script src="https://DESK/chat/madoguchi-chat.js" data-rasa-url="https://RASA" defer></script>
 *
 * It talks to Rasa's socket.io channel (events user_uttered / bot_uttered, session persistence:
 * session_request / session_confirm). The server issues the conversation id together with a
 * session token (an HMAC of the id); only the pair lets this browser back into the conversation,
 * so the id alone (on the desk, in an export, in a webhook) opens nothing. The desk serves this file bundled with socket.io-client 4
 * in one scope, so `io` below is the bundled client and nothing leaks into the host page.
 *
 * Every piece of text goes into the page with textContent, never as HTML: a message that
 * contains markup shows as text.
 */
/* global io */
(function () {
  "use strict";

  if (typeof window === "undefined" || typeof document === "undefined") {
    return;
  }
  if (window.__madoguchiChat) {
    return; // already on this page (the tag was included twice)
  }

  var MAX_CHARS = 2000;
  var MAX_HISTORY = 100;
  var TYPING_TIMEOUT_MS = 20000; // after a handoff the bot stays silent: stop "typing" then
  var KEY = "madoguchi-chat:v1:";
  var T = {
    title: "個人情報に関するお問い合わせ窓口",
    open: "チャットで問い合わせる",
    close: "チャットを閉じる",
    restart: "最初から",
    restartConfirm: "これまでの会話をこの画面から消去して、新しいお問い合わせを始めますか。",
    placeholder: "ご質問やご用件を入力してください",
    send: "送信",
    inputLabel: "メッセージ",
    logLabel: "会話",
    you: "あなた",
    bot: "自動応答",
    operator: "担当者",
    typing: "入力中です",
    connecting: "接続しています…",
    reconnecting: "再接続しています…",
    offline: "チャットサーバーに接続できません。しばらくしてから、もう一度お試しください。",
    queued: "接続が戻りしだい送信します。",
    tooLong: "2,000文字以内で入力してください。",
    logged: "このチャットの内容は記録されます。個人情報の取扱いについては",
    noticeLink: "同意事項",
    loggedTail: "をご覧ください。",
    unread: "新しいメッセージがあります",
    image: "画像",
    masked: "［番号は伏せ字にしました］"
  };

  // --- where things are -------------------------------------------------------------------

  var script = document.currentScript ||
    document.querySelector('script[src*="madoguchi-chat.js"]');
  var scriptUrl = new URL((script && script.src) || "/chat/madoguchi-chat.js", location.href);
  var base = scriptUrl.origin;
  var rasaUrl = (function () {
    var given = script && script.getAttribute("data-rasa-url");
    if (given) {
      return new URL(given, location.href).origin;
    }
    // Default: Rasa beside the desk, on its usual port.
    return scriptUrl.protocol + "//" + scriptUrl.hostname + ":5005";
  })();

  // --- storage (may be unavailable: private mode, blocked cookies) ---------------------------

  function storage(kind) {
    try {
      var s = window[kind];
      s.setItem(KEY + "probe", "1");
      s.removeItem(KEY + "probe");
      return s;
    } catch (e) {
      return null;
    }
  }
  // Everything stays in this tab only (sessionStorage): the conversation id, its session token
  // and the messages. A reload in the tab continues the conversation; closing the tab ends it
  // for this browser, so the next person at a shared computer neither continues it nor reads
  // the operator's later replies (issue 15, item 6).
  var tab = storage("sessionStorage");
  // Earlier versions kept the id and its token in localStorage for 7 days: drop what they left.
  (function () {
    var local = storage("localStorage");
    if (!local) return;
    try {
      local.removeItem(KEY + "session");
      local.removeItem(KEY + "token");
    } catch (e) { /* ignore */ }
  })();

  function load(store, name, fallback) {
    if (!store) return fallback;
    try {
      var raw = store.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }
  function save(store, name, value) {
    if (!store) return;
    try {
      store.setItem(KEY + name, JSON.stringify(value));
    } catch (e) {
      // full or blocked: the chat still works, only without history
    }
  }
  function forget(store, name) {
    if (store) {
      try { store.removeItem(KEY + name); } catch (e) { /* ignore */ }
    }
  }

  // Card-like digit runs are not kept in the browser's storage (the server masks them too).
  function scrub(text) {
    return String(text).replace(/(?:[0-9０-９][ 　\-－‐]?){12,}/g, T.masked);
  }

  // --- state -------------------------------------------------------------------------------

  var state = {
    sessionId: load(tab, "session", null),
    sessionToken: load(tab, "token", null),
    issuedToken: null, // {session_id, session_token} from the server's session_token event
    history: load(tab, "history", []),
    open: load(tab, "open", false),
    socket: null,
    confirmed: false, // session_confirm received on the current connection
    pending: [], // messages typed while disconnected
    typingTimer: null,
    everConnected: false,
    unread: 0
  };
  if (!Array.isArray(state.history)) state.history = [];

  // --- DOM helpers (textContent only) ----------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Plain text with http(s) links made clickable; everything else stays text.
  function appendText(parent, text) {
    var re = /https?:\/\/[^\s<>"'「」（）()、。]+/g;
    var last = 0;
    var match;
    text = String(text);
    while ((match = re.exec(text)) !== null) {
      if (match.index > last) {
        parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      }
      var a = el("a", "mdg-link", match[0]);
      a.href = match[0];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.appendChild(a);
      last = match.index + match[0].length;
    }
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  // --- the widget's elements ---------------------------------------------------------------

  function stylesheet() {
    var href = base + "/chat/madoguchi-chat.css";
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (links[i].href === href) return;
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = href;
    document.head.appendChild(link);
  }

  var ui = {};

  function build() {
    var root = el("div", "mdg-root");
    root.setAttribute("data-connected", state.confirmed ? "true" : "false");
    root.setAttribute("data-madoguchi-chat", "");
    root.lang = "ja";

    var launcher = el("button", "mdg-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-controls", "mdg-panel");
    launcher.setAttribute("aria-expanded", "false");
    launcher.appendChild(el("span", "mdg-launcher-icon", "💬")).setAttribute("aria-hidden", "true");
    launcher.appendChild(el("span", "mdg-launcher-text", T.open));
    var badge = el("span", "mdg-badge");
    badge.hidden = true;
    launcher.appendChild(badge);

    var panel = el("section", "mdg-panel");
    panel.id = "mdg-panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-labelledby", "mdg-title");

    var header = el("header", "mdg-header");
    var title = el("h2", "mdg-title", T.title);
    title.id = "mdg-title";
    var restart = el("button", "mdg-restart", T.restart);
    restart.type = "button";
    var close = el("button", "mdg-close");
    close.type = "button";
    close.setAttribute("aria-label", T.close);
    close.appendChild(el("span", null, "×")).setAttribute("aria-hidden", "true");
    header.appendChild(title);
    header.appendChild(restart);
    header.appendChild(close);

    var notice = el("p", "mdg-notice");
    notice.appendChild(document.createTextNode(T.logged));
    var link = el("a", "mdg-link", T.noticeLink);
    link.href = base + "/chat/notice";
    link.target = "_blank";
    link.rel = "noopener";
    notice.appendChild(link);
    notice.appendChild(document.createTextNode(T.loggedTail));

    var status = el("p", "mdg-status");
    status.setAttribute("role", "status");
    status.hidden = true;

    var log = el("div", "mdg-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-relevant", "additions");
    log.setAttribute("aria-label", T.logLabel);
    log.tabIndex = 0;

    var typing = el("div", "mdg-typing");
    typing.hidden = true;
    typing.setAttribute("role", "status");
    typing.appendChild(el("span", "mdg-visually-hidden", T.typing));
    for (var i = 0; i < 3; i++) {
      typing.appendChild(el("span", "mdg-dot")).setAttribute("aria-hidden", "true");
    }

    var form = el("form", "mdg-form");
    form.noValidate = true;
    var label = el("label", "mdg-visually-hidden", T.inputLabel);
    label.htmlFor = "mdg-input";
    var input = el("textarea", "mdg-input");
    input.id = "mdg-input";
    input.rows = 2;
    input.maxLength = MAX_CHARS;
    input.placeholder = T.placeholder;
    input.setAttribute("aria-describedby", "mdg-count");
    var count = el("span", "mdg-count", "0 / " + MAX_CHARS.toLocaleString("ja-JP"));
    count.id = "mdg-count";
    count.setAttribute("aria-live", "off");
    var send = el("button", "mdg-send", T.send);
    send.type = "submit";
    send.disabled = true;
    form.appendChild(label);
    form.appendChild(input);
    var row = el("div", "mdg-form-row");
    row.appendChild(count);
    row.appendChild(send);
    form.appendChild(row);

    panel.appendChild(header);
    panel.appendChild(notice);
    panel.appendChild(status);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    ui = {
      root: root, launcher: launcher, badge: badge, panel: panel, restart: restart,
      close: close, status: status, log: log, typing: typing, form: form, input: input,
      count: count, send: send
    };

    launcher.addEventListener("click", function () { setOpen(!state.open, true); });
    close.addEventListener("click", function () { setOpen(false, true); });
    restart.addEventListener("click", restartConversation);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        setOpen(false, true);
      }
    });
    input.addEventListener("input", updateInput);
    input.addEventListener("keydown", function (event) {
      // Enter sends, Shift+Enter breaks the line; never while an IME is composing (Japanese).
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing &&
          event.keyCode !== 229) {
        event.preventDefault();
        submit();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit();
    });
  }

  function updateInput() {
    var length = ui.input.value.length;
    ui.count.textContent = length.toLocaleString("ja-JP") + " / " +
      MAX_CHARS.toLocaleString("ja-JP");
    var over = length > MAX_CHARS;
    ui.count.classList.toggle("mdg-over", over);
    ui.send.disabled = over || ui.input.value.trim() === "";
    if (over) {
      ui.count.textContent += "（" + T.tooLong + "）";
    }
  }

  // Whether the chat has joined its conversation (the server confirmed it): until then nothing
  // sent to the conversation reaches this tab. Shown on the root for the host page's styles
  // and for tests, as data-connected="true" or "false".
  function setConfirmed(value) {
    state.confirmed = value;
    if (ui.root) ui.root.setAttribute("data-connected", value ? "true" : "false");
  }

  function setStatus(text) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
  }

  function setOpen(open, moveFocus) {
    state.open = open;
    save(tab, "open", open);
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
    ui.root.classList.toggle("mdg-is-open", open);
    if (open) {
      state.unread = 0;
      showUnread();
      connect();
      scrollToEnd();
      if (moveFocus) ui.input.focus();
    } else if (moveFocus) {
      ui.launcher.focus();
    }
  }

  function showUnread() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = state.unread ? String(state.unread) : "";
    if (state.unread) {
      ui.badge.setAttribute("aria-label", T.unread);
    }
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  // --- messages ----------------------------------------------------------------------------

  // One entry: {who: "customer"|"bot"|"operator", text, buttons?, used?, image?}
  function render(entry, index) {
    var who = entry.who === "customer" || entry.who === "operator" ? entry.who : "bot";
    var item = el("div", "mdg-msg mdg-" + who);
    var speaker = who === "customer" ? T.you : who === "operator" ? T.operator : T.bot;
    if (who === "operator") {
      item.appendChild(el("span", "mdg-who", speaker));
    } else {
      item.appendChild(el("span", "mdg-visually-hidden", speaker + "："));
    }
    if (entry.text) {
      var bubble = el("div", "mdg-bubble");
      appendText(bubble, entry.text);
      item.appendChild(bubble);
    }
    if (entry.image) {
      var img = el("img", "mdg-image");
      img.alt = T.image;
      img.src = entry.image;
      item.appendChild(img);
    }
    if (entry.buttons && entry.buttons.length) {
      var group = el("div", "mdg-buttons");
      group.setAttribute("role", "group");
      entry.buttons.forEach(function (button) {
        var b = el("button", "mdg-choice", button.title);
        b.type = "button";
        b.disabled = !!entry.used;
        b.addEventListener("click", function () {
          choose(index, button);
        });
        group.appendChild(b);
      });
      item.appendChild(group);
    }
    ui.log.appendChild(item);
    return item;
  }

  function renderAll() {
    while (ui.log.firstChild) ui.log.removeChild(ui.log.firstChild);
    state.history.forEach(render);
    scrollToEnd();
  }

  function remember(entry) {
    var stored = {
      who: entry.who,
      text: entry.who === "customer" ? scrub(entry.text) : entry.text
    };
    if (entry.buttons) stored.buttons = entry.buttons;
    if (entry.image) stored.image = entry.image;
    state.history.push(stored);
    var dropped = 0;
    while (state.history.length > MAX_HISTORY) {
      state.history.shift();
      dropped++;
    }
    save(tab, "history", state.history);
    if (dropped) {
      renderAll();
      return null;
    }
    return render(entry, state.history.length - 1);
  }

  // Quick replies are answered once: after the customer speaks, older choices are disabled.
  function retireChoices() {
    var changed = false;
    state.history.forEach(function (entry) {
      if (entry.buttons && !entry.used) {
        entry.used = true;
        changed = true;
      }
    });
    if (changed) {
      save(tab, "history", state.history);
      var buttons = ui.log.querySelectorAll(".mdg-choice");
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }
  }

  function choose(index, button) {
    var entry = state.history[index];
    if (!entry || entry.used) return;
    say(button.title, button.payload);
    ui.input.focus(); // the clicked button is now disabled and would drop the focus
  }

  function submit() {
    var text = ui.input.value;
    if (text.trim() === "" || text.length > MAX_CHARS) {
      updateInput();
      return;
    }
    ui.input.value = "";
    updateInput();
    say(text, text);
    ui.input.focus();
  }

  // Shows `shown` as the customer's bubble and sends `message` to Rasa.
  function say(shown, message) {
    retireChoices();
    remember({ who: "customer", text: shown });
    scrollToEnd();
    deliver(message);
  }

  function deliver(message) {
    connect();
    if (state.socket && state.socket.connected && state.confirmed && state.sessionId) {
      state.socket.emit("user_uttered", { message: message, session_id: state.sessionId });
      showTyping(true);
    } else {
      state.pending.push(message);
      setStatus(state.socket && state.socket.connected ? T.connecting : T.queued);
    }
  }

  function flushPending() {
    var queue = state.pending;
    state.pending = [];
    queue.forEach(deliver);
  }

  function showTyping(on) {
    clearTimeout(state.typingTimer);
    ui.typing.hidden = !on;
    if (on) {
      state.typingTimer = setTimeout(function () { showTyping(false); }, TYPING_TIMEOUT_MS);
      scrollToEnd();
    }
  }

  // A bot_uttered payload as Rasa's socket.io channel sends it.
  function received(data) {
    if (!data || typeof data !== "object") return;
    var meta = data.metadata && typeof data.metadata === "object" ? data.metadata : {};
    var operator = !!(meta.operator || data.operator);
    var buttons = [];
    [data.quick_replies, data.buttons].forEach(function (list) {
      if (!Array.isArray(list)) return;
      list.forEach(function (b) {
        if (b && typeof b.title === "string" && typeof b.payload === "string") {
          buttons.push({ title: b.title, payload: b.payload });
        }
      });
    });
    var image = null;
    var attachment = data.attachment;
    if (attachment && attachment.type === "image" && attachment.payload &&
        /^https?:\/\//.test(String(attachment.payload.src))) {
      image = String(attachment.payload.src);
    }
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && !buttons.length && !image) return;

    showTyping(false);
    var entry = { who: operator ? "operator" : "bot", text: text };
    if (buttons.length) entry.buttons = buttons;
    if (image) entry.image = image;
    remember(entry);
    scrollToEnd();
    if (!state.open) {
      state.unread++;
      showUnread();
    }
  }

  // --- the connection ----------------------------------------------------------------------

  function connect() {
    if (state.socket) return;
    if (typeof io !== "function") {
      setStatus(T.offline);
      return;
    }
    setStatus(T.connecting);
    var socket = io(rasaUrl, {
      path: "/socket.io",
      forceNew: true,
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000
    });
    state.socket = socket;

    socket.on("connect", function () {
      state.everConnected = true;
      // A new connection is a new socket id: ask to join our conversation's room again.
      setConfirmed(false);
      socket.emit("session_request", {
        session_id: state.sessionId,
        session_token: state.sessionToken
      });
    });
    socket.on("session_confirm", function (data) {
      var id = typeof data === "string" ? data : data && data.session_id;
      if (!id) return;
      var first = state.sessionId !== String(id);
      if (first && state.history.length) {
        // The old conversation could not be entered again (its token ran out): a new one.
        state.history = [];
        forget(tab, "history");
        renderAll();
      }
      state.sessionId = String(id);
      state.sessionToken = state.issuedToken && state.issuedToken.session_id === state.sessionId
        ? state.issuedToken.session_token : null;
      save(tab, "session", state.sessionId);
      save(tab, "token", state.sessionToken);
      setConfirmed(true);
      setStatus("");
      if (first && state.history.length === 0 && state.pending.length === 0) {
        // A new conversation: let the assistant greet (its wording lives in Rasa's domain).
        socket.emit("user_uttered", { message: "/greet", session_id: state.sessionId });
        showTyping(true);
      }
      flushPending();
    });
    // Sent just before session_confirm: the token that lets this browser back in later.
    socket.on("session_token", function (data) {
      if (data && typeof data.session_id === "string" && typeof data.session_token === "string") {
        state.issuedToken = { session_id: data.session_id, session_token: data.session_token };
      }
    });
    socket.on("bot_uttered", received);
    socket.on("disconnect", function (reason) {
      setConfirmed(false);
      showTyping(false);
      if (reason !== "io client disconnect") {
        setStatus(T.reconnecting);
      }
      if (reason === "io server disconnect") {
        socket.connect(); // the server closed us: socket.io does not retry on its own then
      }
    });
    socket.on("connect_error", function () {
      setStatus(state.everConnected ? T.reconnecting : T.connecting);
    });
    socket.io.on("reconnect_attempt", function (attempt) {
      // Never connected after a while: say so, and keep trying in the background.
      setStatus(state.everConnected ? T.reconnecting : attempt >= 5 ? T.offline : T.connecting);
    });
  }

  function restartConversation() {
    if (!window.confirm(T.restartConfirm)) return;
    forget(tab, "session");
    forget(tab, "token");
    forget(tab, "history");
    state.sessionId = null;
    state.sessionToken = null;
    state.history = [];
    state.pending = [];
    renderAll();
    showTyping(false);
    if (state.socket) {
      // The old socket still sits in the old conversation's room: leave it entirely.
      var old = state.socket;
      state.socket = null;
      setConfirmed(false);
      old.off();
      old.io.off();
      old.disconnect();
      connect();
    }
    ui.input.focus();
  }

  // --- start -------------------------------------------------------------------------------

  function start() {
    stylesheet();
    build();
    renderAll();
    updateInput();
    if (state.open) {
      setOpen(true, false);
    } else if (state.sessionId) {
      // A conversation is under way: listen, so that an operator's reply shows as unread.
      connect();
    }
  }

  window.__madoguchiChat = {
    version: 1,
    rasaUrl: rasaUrl,
    open: function () { setOpen(true, true); },
    close: function () { setOpen(false, false); }
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
