"""What the desk shows: Japanese labels, JST times, hours left, and the JSON shape of tickets.

The request type labels come from data/requests/types.yml, so the desk says what the chat says.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from madoguchi.requests.types import load_catalogue, load_types
from madoguchi.tickets import Ticket, workflow
from madoguchi.tickets.service_target import JST

STATUS_LABELS: dict[str, str] = {
    "new": "新規",
    "assigned": "対応中",
    "waiting_customer": "お客様の回答待ち",
    "resolved": "完了",
    "rejected": "却下",
    "withdrawn": "取り下げ",
}

PRIORITY_LABELS: dict[str, str] = {"urgent": "至急", "high": "高", "normal": "通常"}

FIELD_LABELS: dict[str, str] = {
    "customer_name": "お名前",
    "customer_phone": "電話番号",
    "customer_email": "メールアドレス",
    "customer_postal_address": "住所",
    "customer_member_number": "会員番号",
    "preferred_contact": "希望の連絡方法",
    "preferred_time": "希望の連絡時間帯",
    "request_types": "請求の種類",
    "status": "状態",
    "priority": "優先度",
    "assignee": "担当者",
    "due_at": "対応期限",
    "details": "請求の詳細",
    "is_agent": "代理人による請求",
    "next_steps": "お客様にお伝えした今後の流れ",
    "notice_sections": "引用した通知の項",
    "note": "メモ",
    "message": "お客様へのメッセージ",
    "conversation": "会話",
}

ACTION_LABELS: dict[str, str] = {
    "created": "受付",
    "claimed": "担当",
    "status_changed": "状態の変更",
    "updated": "内容の変更",
    "note_added": "メモの追加",
    "contact_purged": "連絡先の削除（保存期間）",
    "message_sent": "お客様へ送信",
    "handed_back": "ボットに戻す",
    "status_checked": "お客様による状況の確認",
}

DETAIL_LABELS: dict[str, str] = {
    "item": "訂正等をご希望の項目",
    "value": "訂正後の内容",
    "channels": "停止をご希望のご案内",
    "recipients": "提供の停止を希望される提供先",
    "scope": "利用停止・消去の範囲",
    "scope_detail": "範囲の詳細",
    "cancel_membership": "WEB会員の退会",
    "details": "お伺いした内容",
}

CONTACT_LABELS: dict[str, str] = {"phone": "電話", "email": "メール", "post": "郵便"}

# Hours left before the due date below which the queue shows amber (and red when overdue).
SOON_HOURS = 24.0


@lru_cache(maxsize=1)
def type_labels() -> dict[str, str]:
    """Request type id → Japanese label, in notice order (raw ids if types.yml is unreadable)."""
    try:
        return {tid: rtype.label for tid, rtype in load_types().items()}
    except Exception:  # the desk must still open; ids are readable enough
        return {tid: tid for tid in workflow.REQUEST_TYPES}


@lru_cache(maxsize=1)
def channel_labels() -> dict[str, str]:
    try:
        return dict(load_catalogue().channel_labels)
    except Exception:
        return {}


def type_label(type_id: str) -> str:
    return type_labels().get(type_id, type_id)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def hours_left(ticket: Ticket, now: datetime | None = None) -> float | None:
    """Hours until the due date (negative when overdue); None for closed tickets."""
    if ticket.status not in workflow.OPEN_STATUSES or ticket.due_at is None:
        return None
    seconds = (ticket.due_at - (now or now_utc())).total_seconds()
    return round(seconds / 3600, 1)


def due_class(hours: float | None) -> str:
    if hours is None:
        return "due-closed"
    if hours < 0:
        return "due-over"
    if hours < SOON_HOURS:
        return "due-soon"
    return "due-ok"


def queue_item(ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """One queue row: enough to choose what to work on, and only the name of the customer."""
    return {
        "reference": ticket.reference,
        "request_types": list(ticket.request_types or []),
        "request_type_labels": [type_label(t) for t in ticket.request_types or []],
        "status": ticket.status,
        "priority": ticket.priority,
        "created_at": ticket.created_at.isoformat(),
        "due_at": ticket.due_at.isoformat(),
        "hours_left": hours_left(ticket, now),
        "assignee": ticket.assignee,
        "customer_name": ticket.customer_name,
    }


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    """The whole ticket with its audit log and notes (the transcript is added by the caller)."""
    data = ticket.to_dict(history=True)
    data["request_type_labels"] = [type_label(t) for t in ticket.request_types or []]
    data["hours_left"] = hours_left(ticket)
    data["allowed_transitions"] = sorted(workflow.TRANSITIONS.get(ticket.status, ()))
    return data


# --- formatting for the pages ---------------------------------------------------------------


def jst(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def age(value: datetime, now: datetime | None = None) -> str:
    minutes = int(((now or now_utc()) - value).total_seconds() // 60)
    if minutes < 1:
        return "1分未満"
    if minutes < 60:
        return f"{minutes}分"
    if minutes < 48 * 60:
        return f"{minutes // 60}時間"
    return f"{minutes // (24 * 60)}日"


def hours_text(hours: float | None) -> str:
    if hours is None:
        return ""
    if hours < 0:
        return f"{-hours:.0f}時間超過"
    if hours < 1:
        return "1時間以内"
    return f"残り{hours:.0f}時間"


def value_text(value: Any) -> str:
    """A stored value as a person reads it (lists joined, booleans as はい/いいえ)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, list):
        return "、".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def detail_rows(details: dict[str, Any] | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The request details grouped by request type: [(type label, [(label, value)])]."""
    rows: list[tuple[str, list[tuple[str, str]]]] = []
    channels = channel_labels()
    for type_id, detail in (details or {}).items():
        if not isinstance(detail, dict):
            rows.append(("", [(DETAIL_LABELS.get(type_id, type_id), value_text(detail))]))
            continue
        items: list[tuple[str, str]] = []
        for key, value in detail.items():
            if key == "channels" and isinstance(value, list):
                value = [channels.get(str(v), str(v)) for v in value]
            elif key == "scope":
                value = {"all": "すべて", "specific": "一部"}.get(str(value), value)
            items.append((DETAIL_LABELS.get(key, key), value_text(value)))
        rows.append((type_label(type_id), items))
    return rows


def change_rows(changes: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """An audit entry's changes as (field label, old, new)."""
    out: list[tuple[str, str, str]] = []
    for name, change in (changes or {}).items():
        old, new = (change.get("old"), change.get("new")) if isinstance(change, dict) else (
            None,
            change,
        )
        if name == "status":
            old, new = STATUS_LABELS.get(old, old), STATUS_LABELS.get(new, new)
        elif name == "priority":
            old, new = PRIORITY_LABELS.get(old, old), PRIORITY_LABELS.get(new, new)
        elif name == "request_types":
            old = [type_label(t) for t in old or []]
            new = [type_label(t) for t in new or []]
        elif name == "due_at":
            old, new = jst(old), jst(new)
        elif name == "note":
            old, new = None, f"#{new}"
        out.append((FIELD_LABELS.get(name, name), value_text(old), value_text(new)))
    return out
