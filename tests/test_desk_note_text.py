"""Notes and messages take their words as `text`; a note's old `body` still works for one
release and the OpenAPI schema marks it deprecated."""

from __future__ import annotations

import requests

from tests.test_desk_api import CSRF, Desk, desk  # noqa: F401 (the fixture)


def test_a_note_takes_text_and_still_accepts_the_old_body(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket()
    path = f"/api/tickets/{ticket.reference}/notes"
    added = desk.call("POST", path, json={"text": "  18時に折り返し予定  "})
    assert added.status_code == 201 and added.json()["body"] == "18時に折り返し予定"
    old = desk.call("POST", path, json={"body": "旧クライアントから"})
    assert old.status_code == 201 and old.json()["body"] == "旧クライアントから"
    preferred = desk.call("POST", path, json={"text": "新しい名前", "body": "古い名前"})
    assert preferred.json()["body"] == "新しい名前"
    refused = desk.call("POST", path, json={"text": " "})
    assert refused.status_code == 422 and "text" in refused.json()["detail"]


def test_the_schema_documents_text_and_marks_body_deprecated(desk: Desk) -> None:  # noqa: F811
    schema = requests.get(desk.base + "/api/openapi.json", timeout=20).json()
    paths = schema["paths"]

    def properties(path: str) -> dict:
        body = paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        return body["properties"]

    note = properties("/api/tickets/{reference}/notes")
    assert note["text"]["type"] == "string" and note["body"]["deprecated"] is True
    message = properties("/api/tickets/{reference}/messages")
    assert set(message) == {"text"}


def test_the_ticket_page_sends_a_note_as_text(desk: Desk) -> None:  # noqa: F811
    ticket = desk.ticket()
    base = f"/desk/tickets/{ticket.reference}"
    page = desk.page("GET", base).text
    assert 'id="note-text" name="text"' in page
    csrf = CSRF.search(page).group(1)
    assert desk.page("POST", base + "/notes",
                     data={"csrf": csrf, "text": "ページから"}).status_code == 303
    too_long = "あ" * 2001
    refused = desk.page("POST", base + "/notes", data={"csrf": csrf, "text": too_long})
    assert refused.status_code == 422 and too_long in refused.text
    notes = desk.call("GET", f"/api/tickets/{ticket.reference}").json()["notes"]
    assert [n["body"] for n in notes] == ["ページから"]
