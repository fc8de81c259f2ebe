"""spaCy `Matcher` patterns that propose candidates on word boundaries (checked in finder.py).

Patterns run on `token.norm_` of the shared fugashi pipeline, so ０９０ー１２３４ー５６７８ typed
through an IME matches like 090-1234-5678.
"""

from __future__ import annotations

import re

from .kinds import CREDIT_CARD, MEMBER_NUMBER, MY_NUMBER, PHONE, POSTAL_CODE
from .vocabulary import DASH_NORMS, POSTAL_MARKS

_DASH_LIST = sorted(DASH_NORMS)


def _num(regex: str) -> dict:
    # (?a): \d means 0-9 only; NFKC leaves other scripts' digits (٣, ३) as they are.
    return {"NORM": {"REGEX": "(?a)" + regex}}


_SEP = {"NORM": {"IN": [*_DASH_LIST, " "]}, "OP": "?"}  # " ": a U+3000 / multi-space gap
_DASH = {"NORM": {"IN": _DASH_LIST}}
_WS = {"NORM": " ", "OP": "?"}
_D4 = _num(r"^\d{4}$")

PATTERNS: dict[str, list[list[dict]]] = {
    PHONE: [
        [_num(r"^0\d{9,10}$")],
        [_num(r"^0\d{1,4}$"), _SEP, _num(r"^\d{1,4}$"), _SEP, _num(r"^\d{3,4}$")],
        [_num(r"^0\d{1,4}$"), _SEP, _num(r"^\d{5,8}$")],
        [
            {"NORM": "("},
            _num(r"^0\d{1,4}$"),
            {"NORM": ")"},
            _SEP,
            _num(r"^\d{1,4}$"),
            _SEP,
            _num(r"^\d{3,4}$"),
        ],
        [{"NORM": "("}, _num(r"^0\d{1,4}$"), {"NORM": ")"}, _SEP, _num(r"^\d{5,8}$")],
        [_num(r"^0\d{1,4}$"), {"NORM": "("}, _num(r"^\d{1,4}$"), {"NORM": ")"}, _num(r"^\d{3,4}$")],
        [{"NORM": "+"}, _num(r"^81[1-9]\d{8,9}$")],
        [{"NORM": "+"}, {"NORM": "81"}, _SEP, _num(r"^[1-9]\d{8,9}$")],
        [
            {"NORM": "+"},
            {"NORM": "81"},
            _SEP,
            _num(r"^[1-9]\d{0,3}$"),
            _SEP,
            _num(r"^\d{1,4}$"),
            _SEP,
            _num(r"^\d{3,4}$"),
        ],
    ],
    POSTAL_CODE: [
        [{"NORM": {"IN": list(POSTAL_MARKS)}}, _WS, _num(r"^\d{3}$"), _SEP, _D4],
        [{"NORM": {"IN": list(POSTAL_MARKS)}}, _WS, _num(r"^\d{7}$")],
        [_num(r"^\d{3}$"), _DASH, _D4],
        [_num(r"^\d{7}$")],
    ],
    MEMBER_NUMBER: [
        [{"NORM": {"IN": ["M", "m"]}, "SPACY": False}, _num(r"^\d{8}$")],
        [_num(r"^\d{8,10}$")],
        [_num(r"^\d{4,5}$"), _DASH, _num(r"^\d{4,5}$")],
    ],
    CREDIT_CARD: [
        [_num(r"^\d{13,19}$")],
        [_D4, _SEP, _D4, _SEP, _D4, _SEP, _num(r"^\d{1,7}$")],
        [_D4, _SEP, _D4, _SEP, _D4, _SEP, _D4, _SEP, _num(r"^\d{1,3}$")],
        [_D4, _SEP, _num(r"^\d{6}$"), _SEP, _num(r"^\d{4,5}$")],
    ],
    MY_NUMBER: [
        [_num(r"^\d{12}$")],
        [_D4, _SEP, _D4, _SEP, _D4],
    ],
}

# E-mail: the pattern anchors on "@" between an address-like word on either side, glued;
# the finder then grows the span over the glued address characters (a Matcher pattern with
# bounded repetition is exponential in spaCy 3.4 and "+" is quadratic on long runs).
EMAIL_PATTERN = [
    {"NORM": {"REGEX": r"^[A-Za-z0-9._%+\-]+$"}, "SPACY": False},
    {"NORM": "@", "SPACY": False},
    {"NORM": {"REGEX": r"^[A-Za-z0-9\-]+$"}},
]
LOCAL_TOKEN_RE = re.compile(r"[A-Za-z0-9._%+\-]+")
DOMAIN_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]+")
LOCAL_RE = re.compile(r"[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]*")
DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
MAX_EMAIL_TOKENS = 64

# Japanese number plans (digits only, national form).
MOBILE_LIKE_RE = re.compile(r"0[256789]0\d{8}|0800\d{7}")
SPECIAL_10_RE = re.compile(r"0(?:120|570|990|180)\d{6}")
LANDLINE_RE = re.compile(r"0[1-9][1-9]\d{7}")
