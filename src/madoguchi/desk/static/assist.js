// 窓口デスク, operator assist on the ticket page: the suggestions panel follows the conversation
// (desk.js announces each transcript change), a suggestion goes into the reply box with one
// click, "/" in the reply box searches the canned replies, and a reply with a {placeholder}
// left unfilled cannot be sent. Everything from the server is put in with textContent.
(function () {
  "use strict";

  var panel = document.getElementById("assist");
  if (!panel) { return; }
  var body = document.getElementById("assist-body");
  var box = document.getElementById("text");
  var form = box ? box.form : null;
  var sendButton = form ? form.querySelector("button[type=submit]") : null;
  var PLACEHOLDER = /\{([a-z][a-z0-9_]*)\}/g;
  var LABELS = {
    customer_name: "お客様のお名前", reference: "受付番号", due_date: "対応期限",
    request_type: "請求の種類", operator_name: "担当者名", channels: "停止するご案内",
    recipients: "提供先", correction_item: "訂正する項目"
  };

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.href = "/desk/login"; return null; }
        return r.ok ? r.json() : null;
      });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  // --- the reply box ---------------------------------------------------------------------

  var warning = null;
  var menu = null;
  if (box) {
    warning = el("p", "placeholder-warning");
    warning.id = "placeholder-warning";
    warning.hidden = true;
    menu = el("ul", "canned-menu");
    menu.id = "canned-menu";
    menu.hidden = true;
    menu.setAttribute("role", "listbox");
    box.parentNode.insertBefore(menu, box.nextSibling);
    box.parentNode.insertBefore(warning, menu.nextSibling);
  }

  function checkPlaceholders() {
    if (!box) { return; }
    var left = [];
    var found;
    PLACEHOLDER.lastIndex = 0;
    while ((found = PLACEHOLDER.exec(box.value)) !== null) {
      if (left.indexOf(found[1]) < 0) { left.push(found[1]); }
    }
    if (left.length) {
      warning.textContent = "未入力の項目があります: " + left.map(function (name) {
        return "{" + name + "}" + (LABELS[name] ? "（" + LABELS[name] + "）" : "（不明な項目）");
      }).join("、") + "。書き換えてから送信してください。";
      warning.hidden = false;
    } else {
      warning.hidden = true;
    }
    if (sendButton) { sendButton.disabled = left.length > 0; }
  }

  function put(text) {
    if (!box) { return; }
    box.value = text;
    box.rows = Math.min(12, Math.max(3, text.split("\n").length + 1));  // the whole reply shows
    closeMenu();
    checkPlaceholders();
    box.focus();
    var first = text.search(/\{[a-z]/);  // the first blank to fill is selected
    if (first >= 0) {
      box.setSelectionRange(first, text.indexOf("}", first) + 1);
    }
  }

  // --- the panel ---------------------------------------------------------------------------

  function insertButton(label, text) {
    var button = el("button", "insert secondary", label);
    button.type = "button";
    button.setAttribute("data-text", text);
    return button;
  }

  function draw(data) {
    if (!data) { return; }
    body.textContent = "";
    if (data.transcript_error) { body.appendChild(el("p", "error", data.transcript_error)); return; }
    if (data.empty) { body.appendChild(el("p", "muted assist-empty", data.empty_text)); return; }
    data.messages.forEach(function (m) {
      var block = el("div", "assist-message" + (m.latest ? " latest" : ""));
      var said = el("p", "said");
      said.appendChild(el("span", "who", "お客様" + (m.latest ? "（最新）" : "")));
      said.appendChild(document.createTextNode(" " + m.text));
      block.appendChild(said);
      if (!m.passages.length) {
        block.appendChild(el("p", "muted", m.reason_text || "該当する項はありません。"));
      }
      var cannedShown = false;
      var showCanned = function () {
        cannedShown = true;
        m.canned.forEach(function (c) {
          var item = el("div", "canned");
          item.setAttribute("data-id", c.id);
          item.appendChild(el("span", "canned-title", "定型文: " + c.title));
          if (c.missing.length) {
            item.appendChild(document.createTextNode(" "));
            item.appendChild(el("span", "missing", "未入力: " + c.missing_labels.join("、")));
          }
          item.appendChild(insertButton("定型文を返信欄に入れる", c.text));
          block.appendChild(item);
        });
      };
      m.passages.forEach(function (p, index) {
        if (index === 1) { showCanned(); }  // the canned replies right after the best passage
        var item = el("div", "passage");
        item.setAttribute("data-section", p.section_id);
        var head = el("div", "passage-head");
        head.appendChild(el("span", "section", p.section_id));
        head.appendChild(document.createTextNode(" " + p.title + " "));
        var confidence = el("span", "confidence", Math.round(p.confidence * 100) + "%");
        confidence.title = "確からしさ";
        head.appendChild(confidence);
        item.appendChild(head);
        item.appendChild(el("blockquote", "quote", p.quote));
        item.appendChild(insertButton("回答文を返信欄に入れる", p.reply));
        block.appendChild(item);
      });
      if (!cannedShown) { showCanned(); }
      body.appendChild(block);
    });
    panel.classList.toggle("no-reply-box", !box);
  }

  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    getJSON(panel.getAttribute("data-url")).then(draw).then(function () { pending = false; },
      function () { pending = false; });
  }

  panel.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.insert") : null;
    if (button) { put(button.getAttribute("data-text")); }
  });
  document.addEventListener("madoguchi:transcript", refresh);

  // --- "/" searches the canned replies -----------------------------------------------------

  var results = [];
  var chosen = 0;

  function closeMenu() {
    if (menu) { menu.hidden = true; menu.textContent = ""; }
    results = [];
  }

  function highlight() {
    Array.prototype.forEach.call(menu.children, function (item, i) {
      item.classList.toggle("active", i === chosen);
      item.setAttribute("aria-selected", i === chosen ? "true" : "false");
    });
  }

  function choose(reply) {
    getJSON(panel.getAttribute("data-fill-url") + encodeURIComponent(reply.id)).then(function (filled) {
      if (filled) { put(filled.text); }
    });
  }

  function search(query) {
    getJSON(panel.getAttribute("data-canned-url") + "?q=" + encodeURIComponent(query))
      .then(function (data) {
        // Answers may come back out of order while the operator types: only the current one.
        if (!data || !/^[/／]/.test(box.value) || box.value.slice(1) !== query) { return; }
        results = data.replies.slice(0, 8);
        chosen = 0;
        menu.textContent = "";
        if (!results.length) {
          menu.appendChild(el("li", "none", "「" + query + "」に合う定型文はありません"));
        }
        results.forEach(function (reply, i) {
          var item = el("li", "canned-option");
          item.setAttribute("role", "option");
          item.setAttribute("data-id", reply.id);
          item.appendChild(el("strong", null, reply.title));
          item.appendChild(el("span", "muted", " /" + reply.id));
          item.addEventListener("mousedown", function (e) { e.preventDefault(); choose(reply); });
          item.addEventListener("mouseenter", function () { chosen = i; highlight(); });
          menu.appendChild(item);
        });
        menu.hidden = false;
        highlight();
      });
  }

  if (box) {
    box.addEventListener("input", function () {
      var value = box.value;
      if ((value.charAt(0) === "/" || value.charAt(0) === "／") && value.indexOf("\n") < 0) {
        search(value.slice(1));
      } else {
        closeMenu();
      }
      checkPlaceholders();
    });
    box.addEventListener("keydown", function (event) {
      if (!results.length || menu.hidden) { return; }
      if (event.key === "ArrowDown") { chosen = (chosen + 1) % results.length; highlight(); event.preventDefault(); }
      else if (event.key === "ArrowUp") { chosen = (chosen + results.length - 1) % results.length; highlight(); event.preventDefault(); }
      else if (event.key === "Enter" && !event.isComposing) { choose(results[chosen]); event.preventDefault(); }
      else if (event.key === "Escape") { closeMenu(); }
    });
    box.addEventListener("blur", function () { window.setTimeout(closeMenu, 150); });
    form.addEventListener("submit", function (event) {
      checkPlaceholders();
      if (sendButton && sendButton.disabled) { event.preventDefault(); }
    });
    checkPlaceholders();
  }
})();
