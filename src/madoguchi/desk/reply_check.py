"""What an operator sends is checked for canned-reply placeholders: a {placeholder} the ticket
had no value for is never sent blank, and a {name} no reply knows is a typo to fix first.

Its own module because the desk's service (which sends) and the assist API (which fills) both
need it, and the API imports the service.
"""

from __future__ import annotations

from madoguchi.assist import canned
from madoguchi.tickets import InvalidField

PLACEHOLDER_LABELS = {
    "customer_name": "お客様のお名前",
    "reference": "受付番号",
    "due_date": "対応期限",
    "request_type": "請求の種類",
    "operator_name": "担当者名",
    "channels": "停止するご案内",
    "recipients": "提供先",
    "correction_item": "訂正する項目",
}


def require_filled(text: str) -> None:
    """An operator's message is sent only with every placeholder filled (never blank)."""
    known, unknown = canned.placeholders_left(text)
    if unknown:
        raise InvalidField(
            "不明なプレースホルダーがあります: " + "、".join("{" + n + "}" for n in unknown)
            + f" (unknown placeholder; known: {', '.join(canned.PLACEHOLDERS)})")
    if known:
        raise InvalidField(
            "未入力の項目があります: " + "、".join(
                f"{{{n}}}（{PLACEHOLDER_LABELS.get(n, n)}）" for n in known)
            + " を書き換えてから送信してください (placeholders left to fill)")
