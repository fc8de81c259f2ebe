"""What the desk shows: Japanese labels, JST times, hours left, and the JSON shape of tickets.

The request type labels come from data/requests/types.yml, so the desk says what the chat says.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from madoguchi.requests.life import disclosure_coverage
from madoguchi.requests.types import load_catalogue, load_types
from madoguchi.tickets import Ticket, load_rules, manual_transitions, workflow
from madoguchi.tickets.service_target import JST, jst_date

STATUS_LABELS: dict[str, str] = {
    "new": "新規",
    "assigned": "対応中",
    "waiting_customer": "お客様の回答待ち",
    "pending_approval": "承認待ち",
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
    "received_at": "請求の到達日",
    "notice_version": "お客様がご覧になった通知の版",
    "agent_kind": "代理人の種類",
    "agent_relation": "ご本人との関係",
    "disclosure_kind": "開示の種類",
    "delivery_method": "開示の方法",
    "disclosure_scope": "開示の範囲",
    "disclosure_items": "開示をご希望の項目",
    "fee_amount": "手数料（円）",
    "fee_told_at": "手数料をお伝えした日時",
    "identity_method": "本人確認の方法",
    "identity_received": "受領したもの",
    "identity_received_at": "受領日時",
    "decision_outcome": "判断",
    "decision_ground": "根拠",
    "decision_approved_by": "承認者",
    "decision_returned_by": "差し戻した人",
    "decision_return_reason": "差し戻しの理由",
    "attempted": "試みた操作",
    "reason": "理由",
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
    "received_at_changed": "到達日の変更",
    "identity_recorded": "本人確認の記録",
    "agent_recorded": "代理人の記録",
    "disclosure_recorded": "開示の方法等の記録",
    "fee_recorded": "手数料の記録",
    "fee_cleared": "手数料の取り消し",
    "decision_made": "判断（請求どおり対応）",
    "decision_proposed": "判断の起案（承認待ち）",
    "decision_approved": "判断の承認",
    "decision_returned": "判断の差し戻し",
    "status_checked": "お客様による状況の確認",
    "attempt_refused": "受け付けなかった操作",
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
    horizon = legal_horizon(ticket, now)
    return {
        "received_at": ticket.received_at.isoformat() if ticket.received_at else None,
        "legal_horizon": horizon["date"] if horizon else None,
        "horizon_days_left": horizon["days_left"] if horizon else None,
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
    data["allowed_transitions"] = manual_transitions(ticket, load_rules())
    data["lifecycle"] = lifecycle(ticket)
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
        elif name in ("due_at", "received_at", "fee_told_at", "identity_received_at"):
            old, new = jst(old), jst(new)
        elif name.startswith(("agent_", "disclosure_", "identity_", "decision_")) or name in (
            "delivery_method",
        ):
            old, new = lifecycle_label(name, old), lifecycle_label(name, new)
        elif name == "note":
            old, new = None, f"#{new}"
        out.append((FIELD_LABELS.get(name, name), value_text(old), value_text(new)))
    return out


# --- the law's steps (data/requests/lifecycle.yml) ------------------------------------------

# Days left on Art. 39's horizon at or below which the desk shows amber.
SOON_DAYS = 3

DECISION_STATE_LABELS: dict[str, str] = {
    "effective": "確定",
    "pending": "承認待ち",
    "approved": "承認済み（確定）",
    "returned": "差し戻し",
}


def legal_horizon(ticket: Ticket, now: datetime | None = None) -> dict[str, Any] | None:
    """Art. 39's two weeks for a request of ②–⑤: their last day and the days left (negative:
    the person may already sue; None once the ticket is closed); None when it does not apply."""
    rules = load_rules()
    if ticket.received_at is None or not rules.has_horizon(ticket.request_types or []):
        return None
    day = rules.horizon(ticket.received_at)
    closed = ticket.status in workflow.CLOSED_STATUSES
    left = None if closed else (day - jst_date(now or now_utc())).days
    return {"date": day.isoformat(), "days": rules.horizon_days, "days_left": left}


def horizon_class(days_left: int | None) -> str:
    if days_left is None:
        return "due-closed"
    if days_left < 0:
        return "due-over"
    if days_left <= SOON_DAYS:
        return "due-soon"
    return "due-ok"


def horizon_text(days_left: int | None) -> str:
    if days_left is None:
        return ""
    if days_left < 0:
        return f"{-days_left}日超過"
    if days_left == 0:
        return "本日まで"
    return f"残り{days_left}日"


def is_overdue(row: dict[str, Any]) -> bool:
    """A queue row past its internal target or its legal horizon."""
    hours, days = row.get("hours_left"), row.get("horizon_days_left")
    return (hours is not None and hours < 0) or (days is not None and days < 0)


def lifecycle(ticket: Ticket, now: datetime | None = None) -> dict[str, Any]:
    """Each of the law's steps on this ticket, with the choices the desk offers for it."""
    rules = load_rules()
    types = list(ticket.request_types or [])
    agent = rules.agent_kinds.get(ticket.agent_kind or "")
    identity = ticket.identity
    decision = ticket.decision
    return {
        "decides": rules.decides(types),
        "received_at": ticket.received_at.isoformat() if ticket.received_at else None,
        "legal_horizon": legal_horizon(ticket, now),
        # What was received and the letter are the ticket's `identity` and `decision` (the
        # desk masks them for operators who do not hold the ticket); here only the steps.
        "identity": {
            **{k: v for k, v in identity.to_dict().items() if k != "received"},
            "method_label": _label(rules.identity_methods, identity.method),
        } if identity else None,
        "agent": {
            "kind": ticket.agent_kind, "label": agent.label, "basis": agent.basis,
            "relation": ticket.agent_relation, "documents": list(agent.documents),
        } if agent else None,
        "disclosure": {
            "applies": "disclosure" in types,
            "kind": ticket.disclosure_kind,
            "kind_label": _label(rules.disclosure_kinds, ticket.disclosure_kind),
            "delivery_method": ticket.delivery_method,
            "delivery_label": _label(rules.delivery_methods, ticket.delivery_method),
            "scope": ticket.disclosure_scope,
            "scope_label": _label(rules.disclosure_scopes, ticket.disclosure_scope),
            "items": list(ticket.disclosure_items or []),
            # What disclosure covers (lifecycle.yml: data to be deleted within six months too).
            "covers": disclosure_coverage()["desk"] if "disclosure" in types else None,
        },
        "fee": {
            "allowed": rules.fee_allowed(types),
            "amount": ticket.fee_amount,
            "told_at": ticket.fee_told_at.isoformat() if ticket.fee_told_at else None,
            "default_amount": rules.fee_default(types),
        },
        "decision": _decision(decision) if decision else None,
        "history": [_decision(d) for d in ticket.decisions],
        "grounds": [{"code": code, "label": g.label}
                    for code, g in rules.grounds_for(types).items()],
        "outcomes": [{"id": o.id, "label": o.label, "needs_ground": o.needs_ground,
                      "needs_approval": o.needs_approval} for o in rules.outcomes.values()],
    }


def _decision(decision: Any) -> dict[str, Any]:
    data = {k: v for k, v in decision.to_dict().items() if k != "letter"}
    data["outcome_label"] = lifecycle_label("decision_outcome", decision.outcome)
    data["ground_label"] = lifecycle_label("decision_ground", decision.ground)
    data["state_label"] = DECISION_STATE_LABELS.get(decision.state, decision.state)
    return data


def _label(options: Any, key: str | None) -> str | None:
    option = options.get(key or "")
    return option.label if option is not None else None


def lifecycle_label(name: str, value: Any) -> Any:
    """A lifecycle id (agent kind, method, outcome, ground …) as the label people read."""
    rules = load_rules()
    table = {
        "agent_kind": rules.agent_kinds, "disclosure_kind": rules.disclosure_kinds,
        "delivery_method": rules.delivery_methods, "disclosure_scope": rules.disclosure_scopes,
        "identity_method": rules.identity_methods, "decision_outcome": rules.outcomes,
    }.get(name)
    if table is not None and isinstance(value, str):
        return _label(table, value) or value
    if name == "decision_ground" and isinstance(value, str):
        grounds = rules.grounds_for(list(rules.grounds))
        return grounds[value].label if value in grounds else value
    return value
