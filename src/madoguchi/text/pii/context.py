"""What stands around a number: the nearest label before it, an address after it.

The nearest label before a number in the same sentence (at most 40 characters back) decides;
with a comma between them it is only a weak hint (it still labels a postal code or a member
number, but no longer stops a phone number).
"""

from __future__ import annotations

import re

from madoguchi.text.normalize import normalize_text

from .kinds import MEMBER_NUMBER, PHONE, POSTAL_CODE
from .vocabulary import PREFECTURES

OTHER = "OTHER"  # a label naming a number that is not personal data

_LABEL_WORDS = {
    PHONE: [
        "電話番号",
        "電話",
        "携帯番号",
        "携帯",
        "ケータイ",
        "連絡先",
        "TEL",
        "Tel",
        "tel",
        "℡",
        "FAX",
        "Fax",
        "fax",
        "ファックス",
        "ファクス",
    ],
    POSTAL_CODE: ["郵便番号", "郵便", "〒", "〠", "〶", "住所", "ZIP", "Zip", "zip", "postal"],
    MEMBER_NUMBER: [
        "会員番号",
        "会員ID",
        "会員id",
        "会員No",
        "会員NO",
        "会員no",
        "会員コード",
        "お客様番号",
        "お客さま番号",
        "メンバー番号",
        "メンバーID",
        "membership",
    ],
    # Numbers that are not personal data, so a phone-shaped one is no phone. (Not a bare 注文:
    # 「注文した件で090-…に電話ください」 gives a phone number.)
    OTHER: [
        "注文番号",
        "注文No",
        "注文NO",
        "注文ID",
        "オーダー番号",
        "オーダーNo",
        "受注番号",
        "伝票番号",
        "問い合わせ番号",
        "問合せ番号",
        "お問合せ番号",
        "受付番号",
        "追跡番号",
        "お荷物番号",
        "商品番号",
        "商品コード",
        "品番",
        "型番",
        "請求番号",
        "管理番号",
        "整理番号",
        "予約番号",
        "Order No",
        "order no",
        "Order number",
        "order number",
    ],
}
_LABEL_KIND = {word: kind for kind, words in _LABEL_WORDS.items() for word in words}
_LABEL_RE = re.compile("|".join(re.escape(w) for w in sorted(_LABEL_KIND, key=len, reverse=True)))
_SENTENCE_BREAK_RE = re.compile(r"[。!?\n]")
_COMMA_RE = re.compile(r"[、,，]")
_CONTEXT_CHARS = 40

_ADDRESS_AFTER_RE = re.compile(
    rf"^[\s、,:]*(?:(?:{'|'.join(PREFECTURES)})[都道府県]?|[\u4e00-\u9fffぁ-んァ-ヶ]{{1,6}}?[市区町村郡])"
)


def label_before(text: str, start: int) -> tuple[str | None, bool]:
    """Kind of the nearest label before `start` in the same sentence (None if none), and
    whether a comma stands between them, which makes the label a weaker hint
    (「郵便番号が123-4567になってますが、正しくは123-4576です」 still labels the second)."""
    before = normalize_text(text[max(0, start - _CONTEXT_CHARS) : start])
    breaks = list(_SENTENCE_BREAK_RE.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    labels = list(_LABEL_RE.finditer(before))
    if not labels:
        return None, False
    last = labels[-1]
    return _LABEL_KIND[last.group()], bool(_COMMA_RE.search(before[last.end() :]))


def address_after(text: str, end: int) -> bool:
    """Whether an address (a prefecture, or a city/ward/town/village) follows `end`."""
    return bool(_ADDRESS_AFTER_RE.match(normalize_text(text[end : end + 16])))
