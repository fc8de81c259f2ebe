"""The supervisors' review through a real desk server (uvicorn) over HTTP, on real tracker
events: roles, list and transcript, masking of everything a supervisor reads, the audited
reveal, tags / reviewed / comments, "add to training data", figures, export, pages.

The story of the issue runs through it: find yesterday's conversations that fell back, read
why, label the misread message for training, export the week, without seeing contact data.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from madoguchi.infra.db import make_engine, session_factory, upgrade
from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from madoguchi.tickets import ServiceTarget, TicketDraft, UserRepository
from madoguchi.tickets import TicketService as TicketRepository
from tests.test_review_support import (
    JST,
    MY_NUMBER,
    NAME,
    PHONE,
    SECRETS,
    fixed_now,
    save,
    start,
    tracker_store,
    ts,
    user,
    write_scenarios,
)

ROOT = project_root()
NOW = fixed_now()
YESTERDAY = (NOW.astimezone(JST) - timedelta(days=1)).date().isoformat()
WEEK_AGO = (NOW.astimezone(JST) - timedelta(days=6)).date().isoformat()
TODAY = NOW.astimezone(JST).date().isoformat()
FORMULA = "=HYPERLINK(\"http://evil.example\",\"click\")"


@dataclass
class Desk:
    base: str
    tokens: dict[str, str]
    review_file: Path
    database_url: str
    logins: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, user: str | None = "boss",
             **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        return requests.request(method, self.base + path, headers=headers, timeout=60,
                                allow_redirects=False, **kwargs)

    def page(self, method: str, path: str, user: str = "boss",
             **kwargs: Any) -> requests.Response:
        if user not in self.logins:  # one console session per user: its pages' CSRF values
            self.logins[user] = requests.post(
                self.base + "/desk/login", data={"token": self.tokens[user]}, timeout=60,
                allow_redirects=False).cookies["madoguchi_desk"]
        return requests.request(method, self.base + path, timeout=60, allow_redirects=False,
                                cookies={"madoguchi_desk": self.logins[user]}, **kwargs)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    work = tmp_path_factory.mktemp("review")
    database_url = f"sqlite:///{work / 'madoguchi.db'}"
    upgrade(database_url)
    write_scenarios(database_url, NOW)
    store = tracker_store(database_url)
    save(store, "formula", [*start(ts(NOW, -7200)),
                            user(FORMULA, "out_of_scope", 0.7, ts(NOW, -7199))])
    store.engine.dispose()
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    users = UserRepository(sessions)
    tokens = {name: users.create_user(name, role)[1]
              for name, role in [("boss", "supervisor"), ("sato", "operator")]}
    TicketRepository(sessions, service_target=ServiceTarget(business_days=3)).create(TicketDraft(
        request_types=["disclosure"], customer_name=NAME, customer_phone=PHONE,
        customer_words="開示してほしい", nlu_intent="request_disclosure", nlu_confidence=0.91,
        notice_sections=["4.1"], conversation_id="disclosure-today"))
    engine.dispose()
    review_file = work / "nlu_review.yml"
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": database_url,
        "MADOGUCHI_RASA_URL": f"http://127.0.0.1:{free_port()}",
        "MADOGUCHI_ACTION_URL": f"http://127.0.0.1:{free_port()}",
        "MADOGUCHI_REVIEW_NLU_FILE": str(review_file),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=120)
        yield Desk(f"http://127.0.0.1:{port}", tokens, review_file, database_url)
    finally:
        launcher.stop_all()


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def customer_turn(conversation: dict[str, Any], intent: str) -> dict[str, Any]:
    return next(t["customer"] for t in conversation["transcript"]
                if t["customer"] and t["customer"]["intent"] == intent)


# --- roles -------------------------------------------------------------------------------------

SUPERVISOR_CALLS = [
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/disclosure-today"),
    ("POST", "/api/conversations/disclosure-today/tags"),
    ("POST", "/api/conversations/disclosure-today/comments"),
    ("POST", "/api/conversations/disclosure-today/reveal"),
    ("POST", "/api/conversations/disclosure-today/training"),
    ("GET", "/api/metrics"),
    ("GET", "/api/export/conversations.jsonl"),
    ("GET", "/api/export/conversations.csv"),
]


@pytest.mark.parametrize(("method", "path"), SUPERVISOR_CALLS)
def test_operators_get_403_and_strangers_401(desk: Desk, method: str, path: str) -> None:
    assert desk.call(method, path, user="sato", json={}).status_code == 403
    assert desk.call(method, path, user=None, json={}).status_code == 401


def test_operator_pages_are_refused(desk: Desk) -> None:
    for path in ("/desk/review", "/desk/review/metrics",
                 "/desk/review/conversations/disclosure-today"):
        response = desk.page("GET", path, user="sato")
        assert response.status_code == 403
        assert "スーパーバイザー" in response.text and "［" not in response.text


# --- the story ---------------------------------------------------------------------------------


def test_find_yesterdays_fallbacks_read_why_label_and_export_the_week(desk: Desk) -> None:
    found = ok(desk.call("GET", "/api/conversations",
                         params={"since": YESTERDAY, "until": YESTERDAY, "fallback": "true"}))
    assert [c["id"] for c in found["conversations"]] == ["fallback-yesterday"]
    assert found["conversations"][0]["fallback_turns"] == 2

    why = ok(desk.call("GET", "/api/conversations/fallback-yesterday"))
    first = why["transcript"][0]
    assert first["customer"]["intent"] == "nlu_fallback"
    assert first["customer"]["runner_up"] == "out_of_scope"
    assert first["customer"]["runner_up_confidence"] == pytest.approx(0.22)
    assert [a["name"] for a in first["actions"]] == ["action_fallback"]
    assert first["fell_back"] is True
    assert "［カード番号］" in first["customer"]["text"]

    misread = why["transcript"][1]["customer"]
    labelled = ok(desk.call("POST", "/api/conversations/fallback-yesterday/training",
                            json={"event_id": misread["event_id"], "intent": "out_of_scope"}),
                  201)
    assert labelled["added"] is True and labelled["text"] == "ふにゃふにゃ"
    examples = yaml.safe_load(desk.review_file.read_text(encoding="utf-8"))["nlu"]
    assert {"intent": "out_of_scope", "examples": "- ふにゃふにゃ\n"} in examples

    week = desk.call("GET", "/api/export/conversations.jsonl",
                     params={"since": WEEK_AGO, "until": TODAY})
    rows = [json.loads(line) for line in week.text.splitlines()]
    assert {r["id"] for r in rows} >= {"fallback-yesterday", "disclosure-today",
                                       "notice-earlier"}
    assert "attachment" in week.headers["content-disposition"]


# --- transcript --------------------------------------------------------------------------------


def test_transcript_shows_every_decision_masked(desk: Desk) -> None:
    c = ok(desk.call("GET", "/api/conversations/disclosure-today"))
    assert c["handed_off"] and c["ticket_reference"] == "PRV-20261126-0001"
    assert c["turns_to_ticket"] == 3 and c["operator_turns"] == 1
    first = customer_turn(c, "request_disclosure")
    assert first["confidence"] == pytest.approx(0.91)
    assert first["runner_up"] == "request_correction"
    assert first["text"] == (
        "個人情報を開示してほしい。電話は［電話番号］、メールは［メールアドレス］です")
    assert first["entities"] == [{"entity": "phone", "value": "［電話番号］", "confidence": None,
                                  "extractor": "RegexEntityExtractor"}]
    turn1 = c["transcript"][0]
    assert [a["name"] for a in turn1["actions"]] == ["action_start_request"]
    assert {"name": "request_type", "value": "disclosure"} in [
        {k: s[k] for k in ("name", "value")} for s in turn1["slots"]]
    answer = customer_turn(c, "inform")
    assert answer["text"] == "［氏名］" and answer["low_confidence"] is True
    replies = [r for t in c["transcript"] for r in t["replies"]]
    assert [r.get("event") for r in replies if r["who"] == "system"] == ["pause", "resume"]
    operator = next(r for r in replies if r["who"] == "operator")
    assert operator["operator"] == "sato" and "［電話番号］" in operator["text"]
    summary = next(r for r in replies if r["text"].endswith("で承ります"))
    assert summary["text"] == "［氏名］様、ご住所 ［住所］、お電話 ［電話番号］ で承ります"
    assert [t["reference"] for t in c["tickets"]] and "customer_phone" not in c["tickets"][0]


def test_unknown_conversation_is_404(desk: Desk) -> None:
    assert desk.call("GET", "/api/conversations/nobody").status_code == 404


# --- masking -----------------------------------------------------------------------------------


def test_no_personal_data_in_any_supervisor_response_or_export(desk: Desk) -> None:
    bodies = [desk.call("GET", "/api/conversations").text,
              desk.call("GET", "/api/metrics").text]
    for cid in ("fallback-yesterday", "disclosure-today", "handoff-today"):
        bodies.append(desk.call("GET", f"/api/conversations/{cid}").text)
    for fmt in ("jsonl", "csv"):
        for rows in ("conversations", "turns"):
            bodies.append(desk.call("GET", f"/api/export/conversations.{fmt}",
                                    params={"rows": rows}).text)
    bodies.append(desk.page("GET", "/desk/review").text)
    bodies.append(desk.page("GET", "/desk/review/conversations/disclosure-today").text)
    bodies.append(desk.page("GET", "/desk/review/conversations/handoff-today").text)
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body


# --- reveal ------------------------------------------------------------------------------------


def test_reveal_needs_a_reason_and_is_audited(desk: Desk) -> None:
    c = ok(desk.call("GET", "/api/conversations/disclosure-today"))
    message = customer_turn(c, "request_disclosure")
    path = "/api/conversations/disclosure-today/reveal"
    before = len(c["audit"])
    for body in ({"event_id": message["event_id"], "field": "text"},
                 {"event_id": message["event_id"], "field": "text", "reason": " "},
                 {"event_id": message["event_id"], "field": "everything",
                  "reason": "本人確認のため"}):
        assert desk.call("POST", path, json=body).status_code == 422
    assert len(ok(desk.call("GET", "/api/conversations/disclosure-today"))["audit"]) == before

    shown = ok(desk.call("POST", path, json={"event_id": message["event_id"], "field": "text",
                                             "reason": "お客様からの折り返し依頼の確認"}))
    assert PHONE in shown["value"]
    audit = ok(desk.call("GET", "/api/conversations/disclosure-today"))["audit"]
    entry = audit[-1]
    assert entry["actor"] == "boss" and entry["action"] == "reveal" and entry["at"]
    assert entry["details"] == {"event_id": message["event_id"], "field": "text",
                                "reason": "お客様からの折り返し依頼の確認"}
    # Another conversation's event cannot be revealed through this one.
    other = ok(desk.call("GET", "/api/conversations/handoff-today"))
    foreign = customer_turn(other, "human_handoff")["event_id"]
    assert desk.call("POST", path, json={"event_id": foreign, "field": "text",
                                         "reason": "確認のため"}).status_code == 404


# --- review work -------------------------------------------------------------------------------


def test_tags_reviewed_mark_and_comments(desk: Desk) -> None:
    path = "/api/conversations/notice-earlier"
    tagged = ok(desk.call("POST", f"{path}/tags", json={"tags": ["要改善", "faq"],
                                                        "reviewed": True}))
    assert tagged["tags"] == ["faq", "要改善"] and tagged["reviewed_by"] == "boss"
    assert desk.call("POST", f"{path}/tags", json={"tags": ["bad tag!"]}).status_code == 422
    assert desk.call("POST", f"{path}/tags", json={}).status_code == 422
    listed = ok(desk.call("GET", "/api/conversations", params={"tag": "要改善",
                                                               "reviewed": "true"}))
    assert [c["id"] for c in listed["conversations"]] == ["notice-earlier"]

    c = ok(desk.call("GET", path))
    event_id = c["transcript"][0]["customer"]["event_id"]
    note = ok(desk.call("POST", f"{path}/comments",
                        json={"event_id": event_id, "body": f"2.と4.の取り違え。{PHONE}"}), 201)
    assert note["body"] == "2.と4.の取り違え。［電話番号］" and note["author"] == "boss"
    assert desk.call("POST", f"{path}/comments", json={"event_id": event_id,
                                                       "body": ""}).status_code == 422
    c = ok(desk.call("GET", path))
    assert c["comments"][0]["event_id"] == event_id
    assert [a["action"] for a in c["audit"]] == ["review", "comment"]


def test_training_examples_are_masked_checked_and_valid_for_rasa(desk: Desk) -> None:
    c = ok(desk.call("GET", "/api/conversations/disclosure-today"))
    first = customer_turn(c, "request_disclosure")
    path = "/api/conversations/disclosure-today/training"
    added = ok(desk.call("POST", path, json={"event_id": first["event_id"],
                                             "intent": "request_disclosure"}), 201)
    assert added["text"] == first["text"] and PHONE not in desk.review_file.read_text("utf-8")
    again = ok(desk.call("POST", path, json={"event_id": first["event_id"],
                                             "intent": "request_disclosure"}), 201)
    assert again["added"] is False
    conflict = desk.call("POST", path, json={"event_id": first["event_id"],
                                             "intent": "complaint"})
    assert conflict.status_code == 409 and "request_disclosure" in conflict.json()["detail"]
    assert desk.call("POST", path, json={"event_id": first["event_id"],
                                         "intent": "no_such_intent"}).status_code == 422
    name_answer = customer_turn(c, "inform")
    masked = ok(desk.call("POST", path, json={"event_id": name_answer["event_id"],
                                              "intent": "affirm"}), 201)
    assert masked["text"] == "［氏名］"
    text = desk.review_file.read_text("utf-8")
    for secret in SECRETS:
        assert secret not in text
    actions = [a["action"] for a in ok(desk.call("GET", "/api/conversations/disclosure-today"))
               ["audit"]]
    assert actions.count("training_example") >= 3

    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "rasa"), "data", "validate", "--domain", "domain.yml",
         "--data", "data/nlu", "data/core", str(desk.review_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


# --- figures -----------------------------------------------------------------------------------


def test_metrics_in_total_and_per_day(desk: Desk) -> None:
    m = ok(desk.call("GET", "/api/metrics", params={"since": WEEK_AGO, "until": TODAY}))
    assert m["conversations"] == 6 and m["handed_off"] == 2
    assert m["containment"] == pytest.approx(4 / 6, abs=1e-4)
    # 2 of 10 customer messages fell back.
    assert m["fallback_rate"] == pytest.approx(0.2)
    assert m["handoffs_by_request_type"] == {"disclosure": 1, "none": 1}
    assert {s["section"]: s["conversations"] for s in m["top_sections"]} == {"2": 1, "5": 1}
    assert m["median_turns_to_ticket"] == 3.0 and m["tickets"] == 1
    days = {d["day"]: d for d in m["days"]}
    assert days[YESTERDAY]["conversations"] == 2 and days[YESTERDAY]["fell_back"] == 1
    assert days[TODAY]["handed_off"] == 2
    only_yesterday = ok(desk.call("GET", "/api/metrics",
                                  params={"since": YESTERDAY, "until": YESTERDAY}))
    assert only_yesterday["conversations"] == 2 and only_yesterday["containment"] == 1.0


def test_metrics_page_draws_svg_charts(desk: Desk) -> None:
    page = desk.page("GET", "/desk/review/metrics")
    assert page.status_code == 200
    # The conversation figures' five charts (the quality section above them: test_desk_assist).
    conversations = page.text.split("<h2>会話の集計</h2>")[1]
    assert conversations.count("<svg") == 5 and "<script" not in page.text.split("</main>")[0]
    assert "開示" in page.text  # handoffs by request type, labelled in Japanese


# --- export ------------------------------------------------------------------------------------


def test_export_one_row_per_conversation_or_turn(desk: Desk) -> None:
    convs = desk.call("GET", "/api/export/conversations.jsonl").text.splitlines()
    turns = [json.loads(line) for line in
             desk.call("GET", "/api/export/conversations.jsonl",
                       params={"rows": "turns"}).text.splitlines()]
    assert len(convs) == 6
    assert len([t for t in turns if t["text"] is not None]) == 10  # every customer message
    row = next(t for t in turns if t["intent"] == "request_disclosure")
    assert row["runner_up"] == "request_correction" and "action_start_request" in row["actions"]
    assert desk.call("GET", "/api/export/conversations.jsonl",
                     params={"rows": "everything"}).status_code == 422


def test_csv_export_cannot_run_formulas(desk: Desk) -> None:
    for rows in ("conversations", "turns"):
        response = desk.call("GET", "/api/export/conversations.csv", params={"rows": rows})
        assert response.headers["content-type"].startswith("text/csv")
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        cells = [cell for line in table[1:] for cell in line]
        assert "'" + FORMULA in cells
        assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_export_is_audited(desk: Desk) -> None:
    desk.call("GET", "/api/export/conversations.csv", params={"since": YESTERDAY})
    from madoguchi.review.service import SupervisorReview

    review = SupervisorReview.from_url(desk.database_url)
    exports = [a for a in review.audit() if a["action"] == "export"]
    review.engine.dispose()
    assert exports and exports[0]["actor"] == "boss"
    assert exports[0]["details"]["filters"]["since"].startswith(YESTERDAY)


# --- pages -------------------------------------------------------------------------------------


def test_list_page_filters_and_links_to_transcripts(desk: Desk) -> None:
    page = desk.page("GET", "/desk/review", params={"fallback": "true"})
    assert page.status_code == 200
    assert "/desk/review/conversations/fallback-yesterday" in page.text
    assert "/desk/review/conversations/disclosure-today" not in page.text
    bad = desk.page("GET", "/desk/review", params={"since": "きのう"})
    assert bad.status_code == 422 and "since" in bad.text


def test_page_forms_need_csrf_and_reveal_shows_once(desk: Desk) -> None:
    import re

    page = desk.page("GET", "/desk/review/conversations/handoff-today")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    event_id = re.search(r'name="event_id" value="(\d+)"', page.text).group(1)
    base = "/desk/review/conversations/handoff-today"
    refused = desk.page("POST", f"{base}/tags", data={"add": "x", "csrf": "wrong"})
    assert refused.status_code == 403
    done = desk.page("POST", f"{base}/tags", data={"add": "確認中", "csrf": csrf})
    assert done.status_code == 303 and done.headers["location"].startswith(base)
    assert "確認中" in desk.page("GET", base).text
    shown = desk.page("POST", f"{base}/reveal", data={
        "csrf": csrf, "event_id": event_id, "field": "text", "reason": "監査のための確認"})
    assert shown.status_code == 200 and "監査記録済み" in shown.text
    # Never shown, even revealed: an individual number must not be stored or seen.
    assert "［個人番号］" in shown.text and MY_NUMBER.replace(" ", "") not in shown.text
    assert "監査のための確認" in desk.page("GET", base).text


def test_console_links_supervisors_to_the_review(desk: Desk) -> None:
    assert 'href="/desk/review"' in desk.page("GET", "/desk", user="boss").text
    assert 'href="/desk/review"' not in desk.page("GET", "/desk", user="sato").text


# --- order of a conversation's intents ----------------------------------------------------------

SPOKEN = ["thanks", "notice_6_7", "request_correction", "greet", "affirm", "notice_2", "goodbye"]


def test_intents_are_listed_in_the_order_the_conversation_reached_them(desk: Desk) -> None:
    # The projector kept a conversation's new facets in a set, so the list, the transcript and
    # the exports named them in an order that changed from run to run.
    two_days_ago = NOW - timedelta(days=2)
    store = tracker_store(desk.database_url)
    spoken = [*SPOKEN[:4], "thanks", *SPOKEN[4:], "greet"]  # repeats keep their first place
    save(store, "intents-in-order", [
        *start(ts(two_days_ago)),
        *(user(f"{n}番目の発言", intent, 0.9, ts(two_days_ago, n + 1))
          for n, intent in enumerate(spoken))])
    store.engine.dispose()

    listed = ok(desk.call("GET", "/api/conversations", params={"intent": "notice_6_7"}))
    assert [c["intents"] for c in listed["conversations"]] == [SPOKEN]
    assert ok(desk.call("GET", "/api/conversations/intents-in-order"))["intents"] == SPOKEN
    exported = [json.loads(line) for line in desk.call(
        "GET", "/api/export/conversations.jsonl", params={"intent": "notice_6_7"}
    ).text.splitlines()]
    assert [r["intents"] for r in exported] == [SPOKEN]
    assert ok(desk.call("GET", "/api/conversations/disclosure-today"))["intents"] == [
        "request_disclosure", "inform"]
    shown = ", ".join(SPOKEN)
    assert f"<td>{shown}</td>" in desk.page("GET", "/desk/review",
                                            params={"intent": "notice_6_7"}).text
    assert f"<dd>{shown}</dd>" in desk.page(
        "GET", "/desk/review/conversations/intents-in-order").text
