// 窓口デスク: the queue refreshes itself (server-sent events, polling as the fallback) and
// the ticket page keeps the conversation current. Rows come from the server already escaped;
// transcript lines are built with textContent.
(function () {
  "use strict";

  function get(url, accept) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: accept } }).then(function (r) {
      if (r.status === 401) { window.location.href = "/desk/login"; return null; }
      return r.ok ? r : null;
    });
  }

  function liveQueue(table) {
    var body = document.getElementById("queue-rows");
    var note = document.getElementById("live");
    var refs = function () {
      return Array.prototype.map.call(body.querySelectorAll("tr[data-reference]"), function (row) {
        return row.getAttribute("data-reference");
      });
    };
    var known = refs();
    var refresh = function () {
      get(table.getAttribute("data-rows-url"), "text/html").then(function (r) {
        return r && r.text();
      }).then(function (html) {
        if (typeof html !== "string") { return; }
        body.innerHTML = html;
        Array.prototype.forEach.call(body.querySelectorAll("tr[data-reference]"), function (row) {
          if (known.indexOf(row.getAttribute("data-reference")) < 0) { row.classList.add("arrived"); }
        });
        known = refs();
      });
    };
    var timer = null;
    var poll = function () {
      if (timer === null) {
        timer = window.setInterval(refresh, 5000);
        note.textContent = "5秒ごとに自動で更新しています。";
      }
    };
    if (!window.EventSource) { poll(); return; }
    var source = new EventSource(table.getAttribute("data-stream-url"));
    var failures = 0;
    var alive = function () { failures = 0; note.textContent = "新しい受付は自動で表示されます（接続中）。"; };
    source.addEventListener("ready", alive);
    source.addEventListener("queue", function () { alive(); refresh(); });
    source.onerror = function () {
      failures += 1;  // the server ends each stream after a while; the browser reconnects
      if (failures > 3) { source.close(); poll(); }
    };
  }

  var WHO = { customer: "お客様", bot: "ボット", operator: "担当者", system: "記録" };

  function jst(iso) {
    if (!iso) { return ""; }
    var d = new Date(new Date(iso).getTime() + 9 * 3600 * 1000);
    return d.toISOString().slice(0, 16).replace("T", " ");
  }

  function liveTranscript(list) {
    var error = document.getElementById("transcript-error");
    var state = document.getElementById("chat-state");
    var last = null;
    var render = function (data) {
      if (data.transcript_error) { error.textContent = data.transcript_error; error.hidden = false; return; }
      error.hidden = true;
      if (data.conversation_paused === true) { state.textContent = "担当者の対応中です（ボットは停止しています）。"; }
      if (data.conversation_paused === false) { state.textContent = "ボットが応答しています。"; }
      var lines = data.transcript || [];
      var key = JSON.stringify(lines);
      if (key === last) { return; }
      document.dispatchEvent(new CustomEvent("madoguchi:transcript"));  // assist.js listens
      var atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
      last = key;
      list.textContent = "";
      lines.forEach(function (line) {
        var item = document.createElement("li");
        item.className = "line who-" + line.who;
        var who = document.createElement("span");
        who.className = "who";
        who.textContent = (WHO[line.who] || line.who) + (line.name ? "（" + line.name + "）" : "");
        var time = document.createElement("time");
        time.textContent = jst(line.at);
        var text = document.createElement("div");
        text.className = "text";
        text.textContent = line.text;
        item.appendChild(who); item.appendChild(document.createTextNode(" "));
        item.appendChild(time); item.appendChild(text);
        list.appendChild(item);
      });
      if (atBottom) { list.scrollTop = list.scrollHeight; }
    };
    list.scrollTop = list.scrollHeight;
    window.setInterval(function () {
      if (document.hidden) { return; }
      get(list.getAttribute("data-url"), "application/json").then(function (r) {
        return r && r.json();
      }).then(function (data) { if (data) { render(data); } });
    }, 4000);
  }

  var table = document.getElementById("queue");
  if (table) { liveQueue(table); }
  var transcript = document.getElementById("transcript");
  if (transcript) { liveTranscript(transcript); }
})();
