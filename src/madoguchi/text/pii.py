"""Find and mask personal data in chat messages: spaCy `Matcher` patterns plus checks in code.

Patterns run on `token.norm_` of the shared fugashi pipeline (`madoguchi.text.spacy_ja`),
so ０９０ー１２３４ー５６７８ typed through an IME matches like 090-1234-5678; offsets
always point into the customer's original text. Patterns only propose candidates on word
boundaries; code then checks what patterns cannot (digit counts, number plans, check digits,
labels nearby).

Kinds (labels):

PHONE
    Japanese numbers: landlines (10 digits, 0 + area code, e.g. 03-1234-5678, 045-123-4567,
    0466-12-3456), mobile and IP phones 070/080/090/050/060/020 (11 digits), 0120/0570/0990/0180
    (10 digits) and 0800 (11 digits) numbers; with hyphens (any dash an IME produces), spaces,
    parentheses (03(1234)5678, (03)1234-5678) or none; the +81 form drops the leading 0.
    Not a phone when the nearest label names another number (注文番号, 商品コード …), or
    会員番号 on a member-number-shaped number.
POSTAL_CODE
    〒123-4567, 〒1234567, 〒 123 4567 (the 〒 belongs to the span); a bare 123-4567 or 1234567
    only after a label (郵便番号, 〒, 住所, ZIP) or when an address (a prefecture or a
    city/ward/town/village) follows it.
EMAIL
    local@domain.tld in ASCII or full-width letters; the domain needs a dot and a 2+ letter TLD.
MEMBER_NUMBER
    Our member number is printed on the card and in e-mails as "M" followed by 8 digits
    (M12345678; full-width and lower case accepted). A bare number of 8-10 digits (or two
    hyphenated groups of 4-5 digits) counts only when its nearest label is 会員番号 / 会員ID /
    会員No / お客様番号 / メンバー番号.
CREDIT_CARD
    13-19 digits, plain or grouped 4-4-4-4 / 4-6-5 / 4-6-4 / 4-4-4-4-3 (last group shorter
    allowed) with spaces or hyphens, passing the Luhn check. Never stored: a labelled
    "注文番号" does not exempt a Luhn-valid card-shaped number.
MY_NUMBER
    The individual number (個人番号): 12 digits, plain or 4-4-4, whose last digit is the check
    digit of the official algorithm (総務省令). Never stored, label or not. A 4-4-4
    window inside a longer run of 4-digit groups (a 16-digit number that failed Luhn) is not one.

Labels: the nearest label before a number in the same sentence (at most 40 characters back)
decides; with a comma between them it is only a weak hint (it still labels a postal code or a
member number, but no longer stops a phone number).

Overlaps: the longer span wins, then the more sensitive kind. A valid card or individual number
that loses to a longer span (say an e-mail local part) still forces that span to be fully
replaced by its label, and is still reported by `contains_forbidden`.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span, Token

from madoguchi.text.normalize import normalize_text
from madoguchi.text.spacy_ja import make_nlp

PHONE = "PHONE"
POSTAL_CODE = "POSTAL_CODE"
EMAIL = "EMAIL"
MEMBER_NUMBER = "MEMBER_NUMBER"
CREDIT_CARD = "CREDIT_CARD"
MY_NUMBER = "MY_NUMBER"

FORBIDDEN = frozenset({CREDIT_CARD, MY_NUMBER})

LABELS = {
    PHONE: "［電話番号］",
    EMAIL: "［メールアドレス］",
    POSTAL_CODE: "［郵便番号］",
    MEMBER_NUMBER: "［会員番号］",
    CREDIT_CARD: "［カード番号］",
    MY_NUMBER: "［個人番号］",
}

# On equal length the more sensitive kind wins.
_RANK = {MY_NUMBER: 0, CREDIT_CARD: 1, EMAIL: 2, MEMBER_NUMBER: 3, PHONE: 4, POSTAL_CODE: 5}


@dataclass(frozen=True)
class PiiSpan:
    """A piece of personal data: kind, offsets into the original text, and that text."""

    label: str
    start: int
    end: int
    text: str


# --------------------------------------------------------------------------- check digits


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by every card brand."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def my_number_check_digit(first11: str) -> int:
    """Check digit of an individual number from its first 11 digits (the 総務省令 formula)."""
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])  # n-th digit counted from the right
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def my_number_valid(digits: str) -> bool:
    """12 digits whose last is the check digit of the first 11."""
    return (
        len(digits) == 12
        and digits.isascii()
        and digits.isdigit()
        and my_number_check_digit(digits[:11]) == int(digits[11])
    )


# --------------------------------------------------------------------------- patterns

_DASH_NORMS = ["-", "ー", "‐", "‑", "‒", "–", "—", "―", "−"]
_POSTAL_MARKS = ["〒", "〠", "〶"]


def _num(regex: str) -> dict:
    # (?a): \d means 0-9 only; NFKC leaves other scripts' digits (٣, ३) as they are.
    return {"NORM": {"REGEX": "(?a)" + regex}}


_SEP = {"NORM": {"IN": [*_DASH_NORMS, " "]}, "OP": "?"}  # " ": a U+3000 / multi-space gap
_DASH = {"NORM": {"IN": _DASH_NORMS}}
_WS = {"NORM": " ", "OP": "?"}
_D4 = _num(r"^\d{4}$")

_PATTERNS: dict[str, list[list[dict]]] = {
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
        [{"NORM": {"IN": _POSTAL_MARKS}}, _WS, _num(r"^\d{3}$"), _SEP, _D4],
        [{"NORM": {"IN": _POSTAL_MARKS}}, _WS, _num(r"^\d{7}$")],
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
# code then grows the span over the glued address characters (a Matcher pattern with bounded
# repetition is exponential in spaCy 3.4 and "+" is quadratic on long runs).
_EMAIL_PATTERN = [
    {"NORM": {"REGEX": r"^[A-Za-z0-9._%+\-]+$"}, "SPACY": False},
    {"NORM": "@", "SPACY": False},
    {"NORM": {"REGEX": r"^[A-Za-z0-9\-]+$"}},
]
_LOCAL_TOKEN_RE = re.compile(r"[A-Za-z0-9._%+\-]+")
_DOMAIN_TOKEN_RE = re.compile(r"[A-Za-z0-9.\-]+")
_LOCAL_RE = re.compile(r"[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]*")
_DOMAIN_RE = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}")
_MAX_EMAIL_TOKENS = 64


# --------------------------------------------------------------------------- context labels

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
    "OTHER": [
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

_PREFECTURES = (
    "北海道|青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉|東京|神奈川|新潟|富山|石川|"
    "福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|京都|大阪|兵庫|奈良|和歌山|鳥取|島根|岡山|広島|山口|"
    "徳島|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄"
)
_ADDRESS_AFTER_RE = re.compile(
    rf"^[\s、,:]*(?:(?:{_PREFECTURES})[都道府県]?|[\u4e00-\u9fffぁ-んァ-ヶ]{{1,6}}?[市区町村郡])"
)


def _label_before(text: str, start: int) -> tuple[str | None, bool]:
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


def _address_after(text: str, end: int) -> bool:
    return bool(_ADDRESS_AFTER_RE.match(normalize_text(text[end : end + 16])))


# --------------------------------------------------------------------------- token helpers


def _is_digits(token: Token) -> bool:
    norm = token.norm_
    return norm.isascii() and norm.isdigit()


def _digit_groups(tokens: Iterable[Token]) -> list[str]:
    return [t.norm_ for t in tokens if _is_digits(t)]


def _glued_before(doc: Doc, i: int) -> Token | None:
    """The token right before doc[i] with no white space in between."""
    if i > 0 and not doc[i - 1].whitespace_:
        return doc[i - 1]
    return None


def _glued_after(doc: Doc, end: int) -> Token | None:
    if end < len(doc) and not doc[end - 1].whitespace_:
        return doc[end]
    return None


_JOINERS = frozenset([*_DASH_NORMS, ".", ",", "/", ":"])


def _runs_on(doc: Doc, start: int, end: int) -> bool:
    """Whether the digits continue outside [start, end) (03-1234-5678-9, 2024/03-…, 1.5)."""
    before = _glued_before(doc, start)
    if before is not None:
        if _is_digits(before):
            return True
        if before.norm_ in _JOINERS:
            further = _glued_before(doc, before.i)
            if further is not None and _is_digits(further):
                return True
    after = _glued_after(doc, end)
    if after is not None:
        if _is_digits(after):
            return True
        if after.norm_ in _JOINERS:
            further = _glued_after(doc, after.i + 1)
            if further is not None and _is_digits(further):
                return True
    return False


def _more_groups_of_four(doc: Doc, start: int, end: int) -> bool:
    """Whether a space-grouped 4-4-4 sits inside a longer run of 4-digit groups."""
    if start > 0 and doc[start - 1].whitespace_ == " " and _is_digits(doc[start - 1]):
        if len(doc[start - 1].norm_) == 4:
            return True
    if end < len(doc) and doc[end - 1].whitespace_ == " " and _is_digits(doc[end]):
        return len(doc[end].norm_) == 4
    return False


# --------------------------------------------------------------------------- validators

# Validators see the original text and the matched token span [start, end) and say whether it
# is that kind of PII.
Validator = Callable[[str, Doc, int, int], bool]

_MOBILE_LIKE_RE = re.compile(r"0[256789]0\d{8}|0800\d{7}")
_SPECIAL_10_RE = re.compile(r"0(?:120|570|990|180)\d{6}")
_LANDLINE_RE = re.compile(r"0[1-9][1-9]\d{7}")


def _valid_phone_digits(groups: list[str]) -> bool:
    digits = "".join(groups)
    if len(digits) == 11:
        ok = bool(_MOBILE_LIKE_RE.fullmatch(digits))
    elif len(digits) == 10:
        ok = bool(_SPECIAL_10_RE.fullmatch(digits) or _LANDLINE_RE.fullmatch(digits))
    else:
        ok = False
    if not ok or len(groups) == 1:
        return ok
    # Grouped: area code 2-5 digits (with its 0), the subscriber part ends in a 4-digit group
    # (3 for 0120-123-456 style numbers).
    last_min = 3 if _SPECIAL_10_RE.fullmatch(digits) else 4
    return 2 <= len(groups[0]) <= 5 and len(groups[-1]) >= last_min


def _phone(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    groups = _digit_groups(span)
    if span[0].norm_ == "+":
        if groups[0] == "81":
            groups = groups[1:]
        else:
            groups[0] = groups[0][2:]
        if not groups or groups[0].startswith("0"):
            return False
        groups[0] = "0" + groups[0]
    if not _valid_phone_digits(groups) or _runs_on(doc, start, end):
        return False
    label, weak = _label_before(text, span.start_char)
    if weak:
        return True
    # An order number is no phone; a labelled member number is a member number. Other labels
    # (住所 …) cannot make a 10-11 digit number anything but a phone.
    return label != "OTHER" and not (label == MEMBER_NUMBER and _member_shaped(span))


def _postal(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    if _runs_on(doc, start, end):
        return False
    if span[0].norm_ in _POSTAL_MARKS:
        return True
    label, weak = _label_before(text, span.start_char)
    if label == POSTAL_CODE:
        return True
    if label is not None and not weak:
        return False  # 注文番号123-4567, 電話は123-4567
    return _address_after(text, span.end_char)


def _member_shaped(span: Span) -> bool:
    """8-10 digits, alone or as two hyphenated groups: what a labelled member number is."""
    groups = [len(g) for g in _digit_groups(span)]
    if len(span) == 1:
        return groups == [groups[0]] and 8 <= groups[0] <= 10
    return len(span) == 3 and len(groups) == 2 and all(4 <= n <= 5 for n in groups)


def _member(text: str, doc: Doc, start: int, end: int) -> bool:
    span = doc[start:end]
    label, weak = _label_before(text, span.start_char)
    if span[0].norm_ in ("M", "m"):
        before = _glued_before(doc, start)
        if before is not None and before.norm_.isascii() and before.norm_.isalnum():
            return False
        return not (label == "OTHER" and not weak) and not _runs_on(doc, start + 1, end)
    return label == MEMBER_NUMBER and not _runs_on(doc, start, end)


def _card(text: str, doc: Doc, start: int, end: int) -> bool:
    digits = "".join(_digit_groups(doc[start:end]))
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _my_number(text: str, doc: Doc, start: int, end: int) -> bool:
    digits = "".join(_digit_groups(doc[start:end]))
    if not my_number_valid(digits):
        return False
    before = _glued_before(doc, start)
    if before is not None and before.norm_ == "+" and digits.startswith("81"):
        return False  # +819012345678 is a phone number
    if end - start == 1:
        return True
    return not _runs_on(doc, start, end) and not _more_groups_of_four(doc, start, end)


_VALIDATORS: dict[str, Validator] = {
    PHONE: _phone,
    POSTAL_CODE: _postal,
    MEMBER_NUMBER: _member,
    CREDIT_CARD: _card,
    MY_NUMBER: _my_number,
}


def _email_span(doc: Doc, at: int) -> tuple[int, int] | None:
    """The address around the "@" at doc[at]: the glued address characters on both sides,
    trimmed to a valid local part (no leading dot) and domain (ends in a TLD)."""
    start = at
    while (
        start > 0
        and at - start < _MAX_EMAIL_TOKENS
        and not doc[start - 1].whitespace_
        and _LOCAL_TOKEN_RE.fullmatch(doc[start - 1].norm_)
    ):
        start -= 1
    end = at + 1
    while (
        end < len(doc)
        and end - at < _MAX_EMAIL_TOKENS
        and not doc[end - 1].whitespace_
        and _DOMAIN_TOKEN_RE.fullmatch(doc[end].norm_)
    ):
        end += 1
    start = next((s for s in range(start, at) if _LOCAL_RE.fullmatch(_norm_text(doc, s, at))), None)
    end = next(
        (e for e in range(end, at + 1, -1) if _DOMAIN_RE.fullmatch(_norm_text(doc, at + 1, e))),
        None,
    )
    if start is None or end is None:
        return None
    return start, end


def _norm_text(doc: Doc, start: int, end: int) -> str:
    return "".join(t.norm_ for t in doc[start:end])


# --------------------------------------------------------------------------- matcher

_build_lock = threading.Lock()
_matcher: Matcher | None = None


def _get_matcher() -> Matcher:
    global _matcher
    if _matcher is None:
        with _build_lock:
            if _matcher is None:
                matcher = Matcher(make_nlp().vocab, validate=True)
                for label, patterns in _PATTERNS.items():
                    matcher.add(label, patterns)
                matcher.add(EMAIL, [_EMAIL_PATTERN])
                _matcher = matcher
    return _matcher


# Texts without an ASCII digit or "@" after NFKC hold none of our kinds: skip spaCy entirely.
_MAYBE_PII_RE = re.compile(r"[0-9@]")


@dataclass(frozen=True)
class _Found:
    span: PiiSpan
    hides_forbidden: bool  # a valid card / individual number lost to this longer span


def _candidates(text: str, doc: Doc) -> set[tuple[str, int, int]]:
    strings = doc.vocab.strings
    found: set[tuple[str, int, int]] = set()
    for match_id, start, end in _get_matcher()(doc):
        label = strings[match_id]
        if label == EMAIL:
            span = _email_span(doc, start + 1)
            if span is not None:
                found.add((EMAIL, *span))
        elif _VALIDATORS[label](text, doc, start, end):
            found.add((label, start, end))
    return found


@lru_cache(maxsize=64)
def _find(text: str) -> tuple[tuple[_Found, ...], frozenset[str]]:
    """Spans and the forbidden kinds seen. Cached: callers typically ask
    `contains_forbidden(text)` and then `mask(text)` for the same message."""
    if not text or not _MAYBE_PII_RE.search(unicodedata.normalize("NFKC", text)):
        return (), frozenset()
    doc = make_nlp().make_doc(text)
    # Longest first, then the more sensitive kind; a token belongs to at most one span.
    ordered = sorted(_candidates(text, doc), key=lambda c: (c[1] - c[2], _RANK[c[0]], c[1]))
    owner: dict[int, int] = {}  # token index -> index into taken
    taken: list[tuple[str, int, int]] = []
    hides: set[int] = set()
    forbidden_seen: set[str] = set()
    for label, start, end in ordered:
        clash = next((owner[i] for i in range(start, end) if i in owner), None)
        if label in FORBIDDEN:
            forbidden_seen.add(label)
        if clash is not None:
            if label in FORBIDDEN:
                hides.add(clash)
            continue
        for i in range(start, end):
            owner[i] = len(taken)
        taken.append((label, start, end))

    found = []
    for k, (label, start, end) in enumerate(taken):
        span = doc[start:end]
        s, e = span.start_char, span.end_char
        found.append(_Found(PiiSpan(label, s, e, text[s:e]), k in hides))
    found.sort(key=lambda f: f.span.start)
    return tuple(found), frozenset(forbidden_seen)


def find_pii(text: str) -> list[PiiSpan]:
    """Personal data in `text`: non-overlapping spans, sorted, offsets into `text`."""
    return [f.span for f in _find(text)[0]]


def contains_forbidden(text: str) -> set[str]:
    """{"CREDIT_CARD", "MY_NUMBER"} ∩ what `text` contains: these must never be stored, and
    the caller should tell the customer not to send them."""
    return set(_find(text)[1])


# --------------------------------------------------------------------------- masking

_STAR = "*"


def _ascii_digit(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return len(folded) == 1 and folded.isascii() and folded.isdigit()


def _star_digits(text: str, keep: Callable[[int, int], bool]) -> str:
    """Replace digits with "*" unless keep(index among digits, digit count) says otherwise;
    everything else (〒, separators as the customer typed them, M) stays."""
    total = sum(1 for ch in text if _ascii_digit(ch))
    out = []
    i = 0
    for ch in text:
        if _ascii_digit(ch):
            out.append(ch if keep(i, total) else _STAR)
            i += 1
        else:
            out.append(ch)
    return "".join(out)


def _phone_prefix_digits(text: str) -> int:
    """How many leading digits a partially masked phone number shows: the first group."""
    norm = normalize_text(text)
    groups = re.findall(r"[0-9]+", norm)
    if norm.startswith("+"):
        return 2 + (len(groups[1]) if len(groups) > 2 else 0)  # +81 and the next group
    if len(groups) > 1:
        return len(groups[0])
    digits = groups[0] if groups else ""
    if _SPECIAL_10_RE.fullmatch(digits) or digits.startswith("0800"):
        return 4
    if _MOBILE_LIKE_RE.fullmatch(digits):
        return 3
    return 2


def _mask_partial(span: PiiSpan) -> str:
    if span.label == PHONE:
        head = _phone_prefix_digits(span.text)
        return _star_digits(span.text, lambda i, n: i < head or i >= n - 4)
    if span.label == EMAIL:
        at = next(i for i, ch in enumerate(span.text) if unicodedata.normalize("NFKC", ch) == "@")
        return span.text[0] + _STAR * 3 + span.text[at:]
    if span.label == POSTAL_CODE:
        return _star_digits(span.text, lambda i, n: i >= n - 2)
    if span.label == MEMBER_NUMBER:
        return _star_digits(span.text, lambda i, n: i >= n - 4)
    return LABELS[span.label]


def _mask_once(text: str, style: str) -> str:
    found, _ = _find(text)
    if not found:
        return text
    out: list[str] = []
    pos = 0
    for f in found:
        span = f.span
        out.append(text[pos : span.start])
        if style == "label" or span.label in FORBIDDEN or f.hides_forbidden:
            # A span hiding a card or individual number is replaced whole, like those are.
            out.append(LABELS[span.label])
        else:
            out.append(_mask_partial(span))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


_MAX_MASK_PASSES = 3


def mask(text: str, *, style: str = "partial") -> str:
    """Text with personal data hidden.

    style="partial" keeps enough for an operator to recognise the data (090-****-5678,
    t***@example.com, 〒***-**67, M****5678); style="label" replaces every span with its label
    (［電話番号］ …). Card and individual numbers are always replaced by their label.

    Masking repeats until nothing more is found, so that masking is idempotent: hiding one
    number can expose its neighbour (「4111…1111-090-1234-5678」: once the card is a label,
    the phone number no longer runs on from other digits).
    """
    if style not in ("partial", "label"):
        raise ValueError(f"unknown mask style {style!r}; use 'partial' or 'label'")
    result = _mask_once(text, style)
    for _ in range(_MAX_MASK_PASSES - 1):
        again = _mask_once(result, style)
        if again == result:
            break
        result = again
    return result


def mask_forbidden(text: str) -> tuple[str, set[str]]:
    """Text with only card and individual numbers replaced by their labels, and their kinds.

    For what is stored as the customer typed it (the chat log, a ticket's free text): the
    phone number or address a customer gives for the ticket stays, the numbers that must never
    be stored do not.
    """
    kinds = contains_forbidden(text)
    result = text
    for _ in range(_MAX_MASK_PASSES if kinds else 0):
        found, _ = _find(result)
        hits = [f for f in found if f.span.label in FORBIDDEN or f.hides_forbidden]
        if not hits:
            break
        out: list[str] = []
        pos = 0
        for f in hits:
            out.append(result[pos : f.span.start])
            out.append(LABELS[f.span.label])
            pos = f.span.end
        out.append(result[pos:])
        result = "".join(out)
    return result, kinds
