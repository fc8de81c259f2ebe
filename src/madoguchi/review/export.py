"""Export for supervisors: JSONL or CSV, one row per conversation or one per turn, masked.

Rows are produced in batches (a week of conversations never sits in memory at once). CSV cells
that a spreadsheet would run as a formula (= + - @, tab, carriage return first) get a leading
apostrophe, so an export opened in Excel computes nothing a customer typed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

CONVERSATION_COLUMNS = [
    "id", "started_at", "last_at", "day", "turns", "first_words", "handed_off", "fell_back",
    "fallback_turns", "min_confidence", "low_confidence", "operator_turns", "ticket_reference",
    "turns_to_ticket", "reviewed", "reviewed_by", "anonymised", "intents", "request_types",
    "sections", "tags",
]
TURN_COLUMNS = [
    "conversation_id", "turn", "at", "text", "intent", "confidence", "runner_up",
    "runner_up_confidence", "entities", "fell_back", "low_confidence", "actions", "replies",
    "operator", "slots", "paused", "resumed",
]
ROW_KINDS = ("conversations", "turns")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def turn_rows(conversation_id: str, turns: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for turn in turns:
        customer = turn["customer"] or {}
        replies = [r for r in turn["replies"] if r["who"] != "system"]
        events = {r.get("event") for r in turn["replies"]}
        yield {
            "conversation_id": conversation_id,
            "turn": turn["turn"],
            "at": customer.get("at") or (turn["replies"][0]["at"] if turn["replies"] else None),
            "text": customer.get("text"),
            "intent": customer.get("intent"),
            "confidence": customer.get("confidence"),
            "runner_up": customer.get("runner_up"),
            "runner_up_confidence": customer.get("runner_up_confidence"),
            "entities": customer.get("entities", []),
            "fell_back": turn["fell_back"],
            "low_confidence": customer.get("low_confidence", False),
            "actions": [a["name"] for a in turn["actions"]],
            "replies": [r["text"] for r in replies],
            "operator": next((r["operator"] for r in replies if r["operator"]), None),
            "slots": {s["name"]: s["value"] for s in turn["slots"]},
            "paused": "pause" in events,
            "resumed": "resume" in events,
        }


def jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def safe_cell(value: Any) -> str:
    """A CSV cell: lists and objects as JSON, and never a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_lines(rows: Iterator[dict[str, Any]], columns: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # A byte order mark: Excel then reads the Japanese as UTF-8.
    writer.writerow(columns)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(row.get(c)) for c in columns])
        yield buffer.getvalue()
