"""Operator assist through the real desk (uvicorn, SQLite; Rasa is test_desk_api's fake): the
passages and canned reply per customer message, the empty state, the `/` search and filling of
canned replies, placeholders that block sending, the summary on the ticket page, and the
supervisor's quality figures and their export.
"""

from __future__ import annotations

import csv
import io

from tests.test_desk_api import T0, Desk, canned_tracker
from tests.test_desk_api import desk as desk  # the module's desk server, as a fixture here


def _conversation(desk: Desk, ticket, *said: str) -> None:
    """The customer's words in (fake) Rasa, and the ticket claimed by sato: only its holder
    and supervisors see the conversation, and so the suggestions."""
    assert desk.call("POST", f"/api/tickets/{ticket.reference}/claim").status_code == 200
    tracker = {"sender_id": ticket.conversation_id, "paused": True, "events": [
        {"event": "action", "timestamp": T0, "name": "action_session_start"}]}
    for i, text in enumerate(said):
        tracker["events"].append({"event": "user", "timestamp": T0 + i + 1, "text": text})
    desk.rasa.trackers[ticket.conversation_id] = tracker


def test_assist_suggests_notice_passages_and_a_canned_reply_per_customer_message(
    desk: Desk
) -> None:
    ticket = desk.ticket(customer_name="山田 花子", request_types=["disclosure"])
    _conversation(desk, ticket, "こんにちは", "開示の請求には手数料がかかりますか")
    answer = desk.call("GET", f"/api/tickets/{ticket.reference}/assist")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["empty"] is False
    newest, greeting = data["messages"]
    assert newest["latest"] and newest["text"] == "開示の請求には手数料がかかりますか"
    top = newest["passages"][0]
    assert top["section_id"].startswith("4")
    assert "手数料" in top["quote"] and 0 < top["confidence"] <= 1
    assert [p["confidence"] for p in newest["passages"]] == sorted(
        [p["confidence"] for p in newest["passages"]], reverse=True)
    assert any(c["id"] == "fee" for c in newest["canned"])
    assert greeting["passages"] == [] and greeting["reason_text"]
    assert data["summary"]["headline"].startswith("［氏名］様")
    assert "山田" not in data["summary"]["text"]


def test_a_conversation_without_a_customer_message_is_a_clear_empty_state(desk: Desk) -> None:
    ticket = desk.ticket()
    assert desk.call("GET", f"/api/tickets/{ticket.reference}/assist").status_code == 403
    _conversation(desk, ticket)
    data = desk.call("GET", f"/api/tickets/{ticket.reference}/assist").json()
    assert data["empty"] is True and data["messages"] == []
    assert data["empty_reason"] == "no_customer_message"
    assert "まだありません" in data["empty_text"]
    page = desk.page("GET", f"/desk/tickets/{ticket.reference}")
    assert "お客様のメッセージはまだありません" in page.text
    assert desk.call("GET", "/api/tickets/PRV-20991231-9999/assist").status_code == 404


def test_slash_search_and_filling_from_the_ticket_leaves_missing_values_visible(
    desk: Desk
) -> None:
    found = desk.call("GET", "/api/canned", params={"q": "てすうりょう"}).json()
    assert found["replies"][0]["id"] == "fee"
    assert len(desk.call("GET", "/api/canned").json()["replies"]) > 10
    ticket = desk.ticket(customer_name=None, request_types=["disclosure"])
    assert desk.call("GET", f"/api/tickets/{ticket.reference}/canned/greeting").status_code \
        == 403  # not the holder: not its data
    _conversation(desk, ticket)
    filled = desk.call("GET", f"/api/tickets/{ticket.reference}/canned/request_received").json()
    assert ticket.reference in filled["text"] and "開示" in filled["text"]
    assert filled["missing"] == ["customer_name"] and "{customer_name}" in filled["text"]
    assert filled["complete"] is False and filled["missing_labels"] == ["お客様のお名前"]
    assert desk.call("GET", f"/api/tickets/{ticket.reference}/canned/nope").status_code == 404


def test_a_message_with_a_placeholder_left_is_never_sent(desk: Desk) -> None:
    ticket = desk.ticket(customer_name=None)
    _conversation(desk, ticket)
    desk.rasa.trackers[ticket.conversation_id] = canned_tracker(ticket.conversation_id)
    for text, expected in [("{customer_name}様、お待たせいたしました。", "未入力"),
                           ("{customer_nmae}様、お待たせいたしました。", "不明なプレースホルダー")]:
        refused = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                            json={"text": text})
        assert refused.status_code == 422 and expected in refused.json()["detail"]
    assert desk.rasa.events_for(ticket.conversation_id) == []
    sent = desk.call("POST", f"/api/tickets/{ticket.reference}/messages",
                     json={"text": "山田様、お待たせいたしました。"})
    assert sent.status_code == 201


def test_the_ticket_page_shows_the_summary_on_top_and_the_assist_panel(desk: Desk) -> None:
    ticket = desk.ticket(request_types=["correction"])
    _conversation(desk, ticket, "至急！住所を訂正してください。何度も連絡しています")
    page = desk.page("GET", f"/desk/tickets/{ticket.reference}").text
    summary = page.index('id="ticket-summary"')
    assert summary < page.index('class="summary"')  # above everything else about the ticket
    assert "お急ぎ" in page and "お怒りの様子" in page
    assert 'id="assist"' in page and "回答文を返信欄に入れる" in page


def test_supervisor_figures_page_and_export(desk: Desk) -> None:
    assert desk.call("GET", "/api/figures").status_code == 403  # operators: no
    figures = desk.call("GET", "/api/figures", user="boss").json()
    assert {"today", "this_week", "weeks", "csat_by_request_type", "csat_by_operator",
            "worst_rated"} <= figures.keys()
    page = desk.page("GET", "/desk/review/metrics", user="boss").text
    for chart in ("chart-csat-weekly", "chart-containment-weekly", "chart-claim-weekly",
                  "chart-response-weekly", "chart-target-weekly", "chart-csat-type",
                  "chart-csat-operator"):
        assert f'id="{chart}"' in page
    assert "今日" in page and "今週" in page
    exported = desk.call("GET", "/api/export/figures.csv", user="boss")
    assert exported.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0]["period"] == "today" and rows[1]["period"] == "this_week"
    bad = desk.call("GET", "/api/figures", user="boss", params={"since": "yesterday"})
    assert bad.status_code == 422


def test_the_export_holds_the_charts_as_svg_for_supervisors_only(desk: Desk) -> None:
    """/api/export/figures.html: the figures page's charts (inline SVG) and today's and this
    week's figures in one self-contained file; a rating given now shows in it."""
    import re
    import xml.etree.ElementTree as ET

    from madoguchi.review.csat import CsatBook

    ticket = desk.ticket(request_types=["correction"])
    book = CsatBook(desk.sessions)
    book.ask(ticket.conversation_id, "resolved", ticket_reference=ticket.reference,
             operator="sato", request_types=["correction"])
    book.rate(ticket.conversation_id, 4)

    assert desk.call("GET", "/api/export/figures.html").status_code == 403  # operators: no
    assert desk.call("GET", "/api/export/figures.html", user=None).status_code == 401
    assert desk.call("GET", "/api/export/figures.html", user="boss",
                     params={"since": "yesterday"}).status_code == 422
    exported = desk.call("GET", "/api/export/figures.html", user="boss")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/html")
    assert exported.headers["content-disposition"] == 'attachment; filename="figures.html"'
    assert "default-src 'none'" in exported.headers["content-security-policy"]
    html = exported.text
    for chart in ("chart-csat-weekly", "chart-containment-weekly", "chart-claim-weekly",
                  "chart-response-weekly", "chart-target-weekly", "chart-csat-type",
                  "chart-csat-operator", "chart-csat-distribution"):
        assert f'id="{chart}"' in html, chart
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 8
    for svg in svgs:  # each chart stands alone as an SVG document
        assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    operators = ET.fromstring(next(s for s in svgs if "担当者別" in s))
    labels = [t.text for t in operators.iter("{http://www.w3.org/2000/svg}text")]
    assert "sato" in labels
    assert "<script" not in html and 'href="/' not in html and 'src="' not in html
    assert 'id="figures-summary"' in html and "今日" in html and "今週" in html

    page = desk.page("GET", "/desk/review/metrics", user="boss").text
    assert 'id="export-charts" href="/api/export/figures.html' in page
