"""Validators for the answers a request form collects, one per form slot.

Each `validate_<slot>(text)` returns `Valid(value)` with the value to store, or `Invalid(reason)`
with a code from REASONS; the Rasa layer re-asks with the response `utter_invalid_<slot>`, or
`utter_forbidden_number` when a card number or an individual number (マイナンバー) was typed
(`response_name`). Those two numbers are never accepted in any field, whatever the field: the
ticket must not store them (the PII gate, madoguchi.text.pii, decides). Validators never raise on
what a customer can type (empty, huge, emoji, HTML, control characters).

A validator is registered by its name with `@validator(...)`, which also runs the opening every
field shares (`_precheck`): a new form slot needs its entry in data/requests/types.yml, its slot
and responses in domain.yml, and its `validate_<slot>` here.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Any, ClassVar

from madoguchi.requests.classify import (
    PhraseMatcher,
    extract_channels,
    extract_recipients,
    is_punctuation,
    load_cues,
    says_all,
    text_lemmas,
)
from madoguchi.text import pii
from madoguchi.text.normalize import normalize_text
from madoguchi.text.pii.gate import Gate, load_finder
from madoguchi.text.pii.vocabulary import DASHES, PREFECTURES
from madoguchi.text.tokenize import Word, tokenize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Valid:
    value: Any
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Invalid:
    reason: str
    ok: ClassVar[bool] = False


Result = Valid | Invalid

# Every reason a validator gives; the Rasa layer's re-ask responses are keyed by slot, and the
# reason is kept in the tracker for the supervisor's figures.
REASONS: dict[str, str] = {
    "empty": "nothing (or only spaces, emoji or symbols) was typed",
    "too_short": "shorter than the field allows",
    "too_long": "longer than the field allows",
    "forbidden_number": "a credit card number or an individual number (マイナンバー) was typed",
    "markup": "HTML or other markup instead of an answer",
    "not_a_name": "digits, an e-mail address or a phone number where a name was asked",
    "sentence": "a sentence (a demand, a wish, a refusal) or too many words where a name or an "
    "address was asked",
    "question": "a question where a name or an address was asked",
    "bad_phone": "not a Japanese phone number",
    "bad_email": "not one e-mail address",
    "bad_address": "no prefecture, city or postal code, or not an address",
    "bad_member_number": "not a member number, nor 「なし」",
    "unclear": "could not tell yes from no (or all from part)",
    "no_channel": "no known way of contacting (電話, メール, 郵便, カタログ, SMS) named",
}
FORBIDDEN_RESPONSE = "utter_forbidden_number"


def response_name(slot: str, reason: str) -> str:
    """The Rasa response that re-asks for `slot` after `reason`."""
    return FORBIDDEN_RESPONSE if reason == "forbidden_number" else f"utter_invalid_{slot}"


# --- never store card numbers or individual numbers ----------------------------------------


def pii_module() -> ModuleType | None:
    """madoguchi.text.pii once its spaCy finder has loaded, or None when the finder cannot load
    (the gate then checks by check digits alone)."""
    return pii if load_finder() is not None else None


def _gate() -> Gate:
    return Gate(load_finder() if pii_module() is not None else None)


def contains_forbidden(text: str) -> set[str]:
    """Labels of the numbers that must never be stored (CREDIT_CARD, MY_NUMBER) in text."""
    return _gate().contains(text)


def scrub_forbidden(text: str) -> str:
    """The text with card numbers and individual numbers replaced by their label."""
    return _gate().mask(text)[0]


# --- shared cleaning ------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?][^<>]*>|&(?:[A-Za-z]+|#\d+);")


def _as_text(text: Any) -> str:
    if text is None:
        return ""
    return text if isinstance(text, str) else str(text)


def _clean(text: str) -> str:
    """NFKC, dashes unified, control characters gone, white space collapsed."""
    return _SPACES.sub(" ", normalize_text(text)).strip()


def _clean_as_typed(text: str, keep_newlines: bool = False) -> str:
    """The customer's own characters, without control characters and with tidy white space."""
    out = []
    for ch in text:
        if ch in "\r\n\u2028\u2029":
            out.append("\n" if keep_newlines else " ")
        elif ch == "\t" or unicodedata.category(ch) == "Zs":
            out.append(" ")
        elif unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            continue
        else:
            out.append(ch)
    joined = "".join(out)
    if keep_newlines:
        lines = [re.sub(r" +", " ", line).strip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return _SPACES.sub(" ", joined).strip()


def _strip_symbols(text: str) -> str:
    """Without emoji and other pictographs (So, variation selectors), spaces collapsed."""
    kept = [
        ch
        for ch in text
        if unicodedata.category(ch) not in {"So", "Sk", "Me"}
        and not 0xFE00 <= ord(ch) <= 0xFE0F
        and not 0x1F3FB <= ord(ch) <= 0x1F3FF
    ]
    return _SPACES.sub(" ", "".join(kept)).strip()


def _has_word(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in {"L", "N"} for ch in text)


def _precheck(text: Any, max_len: int, *, markup_ok: bool = False) -> str | Invalid:
    """The raw answer as text, or the reason it cannot be used whatever the field."""
    raw = _as_text(text)
    if contains_forbidden(raw):
        return Invalid("forbidden_number")
    if not _has_word(_strip_symbols(_clean(raw))):
        return Invalid("empty")
    if len(raw.strip()) > max_len * 4 + 100:  # far too long to be this answer; skip the work
        return Invalid("too_long")
    if not markup_ok and _MARKUP.search(raw):
        return Invalid("markup")
    return raw


def _length(value: str, low: int, high: int) -> Invalid | None:
    if len(value) < low:
        return Invalid("too_short" if value else "empty")
    if len(value) > high:
        return Invalid("too_long")
    return None


# --- one validator per slot ----------------------------------------------------------------

# Slot name -> its validator (`validate_<slot>`, registered by @validator).
VALIDATORS: dict[str, Callable[[Any], Result]] = {}
_ANY_WORDS: set[str] = set()


def validator(
    *, max_len: int, markup_ok: bool = False, any_words: bool = False
) -> Callable[[Callable[[str], Result]], Callable[[Any], Result]]:
    """Register `validate_<slot>` as the validator of <slot>, behind the opening every field
    shares: the answer reaches it as text, already refused when it holds a forbidden number,
    has no word, is far longer than `max_len` or is markup (unless `markup_ok`).

    `any_words`: the validator accepts almost any words, so the form looks for an interruption
    (a notice question, a wish for a person) before taking them as the answer.
    """

    def register(read: Callable[[str], Result]) -> Callable[[Any], Result]:
        slot = read.__name__.removeprefix("validate_")
        if slot == read.__name__ or slot in VALIDATORS:
            raise ValueError(f"{read.__name__}: a validator is named validate_<slot>, once")

        @functools.wraps(read)
        def validate_answer(text: Any) -> Result:
            raw = _precheck(text, max_len, markup_ok=markup_ok)
            return raw if isinstance(raw, Invalid) else read(raw)

        VALIDATORS[slot] = validate_answer
        if any_words:
            _ANY_WORDS.add(slot)
        return validate_answer

    return register


def accepts_any_words(slot: str) -> bool:
    """Whether the slot's validator takes almost any words (see `validator`)."""
    return slot in _ANY_WORDS


def _words(raw: str, high: int) -> Result:
    """The answer in the customer's words, tidied, 1 to `high` characters."""
    value = _clean(raw)
    return _length(value, 1, high) or Valid(value)


# --- lemma cues and polarity ----------------------------------------------------------------


@lru_cache(maxsize=1)
def _negations() -> frozenset[str]:
    return frozenset(seq[0] for seq, _ in load_cues().answers["negation"].phrases())


_NEGATION_WINDOW = 5


def _polarities(seq: Sequence[str], matcher: PhraseMatcher, positive: str) -> list[bool]:
    """One vote per cue: True for a `positive` cue, False otherwise; turned round by a negation
    within a few words after it in the same clause (希望しません, 本人ではなく)."""
    negations = _negations()
    votes: list[bool] = []
    for m in matcher.find(seq):
        vote = m.label == positive
        for lemma in seq[m.end : m.end + _NEGATION_WINDOW]:
            if is_punctuation(lemma):
                break
            if lemma in negations:
                vote = not vote
                break
        votes.append(vote)
    return votes


def _answer_seq(text: str) -> tuple[str, ...]:
    return text_lemmas(_clean(text)[:500])


def _mentions_unknown(seq: Sequence[str]) -> bool:
    return bool(load_cues().answers["unknown"].find(seq))


def parse_yes_no(text: str) -> bool | None:
    """はい/ええ/お願いします/そうです/OK → True; いいえ/違います/結構です → False; else None."""
    raw = _as_text(text)
    if not raw.strip():
        return None
    seq = _answer_seq(raw)
    if _mentions_unknown(seq):
        return None
    votes = _polarities(seq, load_cues().answers["yes_no"], "yes")
    if votes and all(votes):
        return True
    if votes and not any(votes):
        return False
    return None


# --- the validators -------------------------------------------------------------------------

_NAME_PREFIXES = (
    "私の名前は",
    "わたしの名前は",
    "僕の名前は",
    "名前は",
    "氏名は",
    "お名前は",
    "わたくしは",
    "私は",
    "わたしは",
    "僕は",
    "ぼくは",
    "俺は",
)
_NAME_SUFFIXES = (
    "と申します",
    "ともうします",
    "と申す者です",
    "といいます",
    "と言います",
    "でございます",
    "です",
    "だよ",
    "と申",
)
_NAME_TRAILING = "。.、,!！?？〜~ 　"


def _strip_name(text: str) -> str:
    name = text
    changed = True
    while changed:
        changed = False
        stripped = name.strip(_NAME_TRAILING)
        if stripped != name:
            name, changed = stripped, True
        for prefix in _NAME_PREFIXES:
            if name.startswith(prefix) and len(name) > len(prefix):
                name, changed = name[len(prefix) :], True
        for suffix in _NAME_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name, changed = name[: -len(suffix)], True
    return name.strip()


# --- names and addresses are not sentences -----------------------------------------------
#
# Read with the tokenizer's parts of speech (UniDic's first level): a name is nouns; a sentence
# has a predicate (verb, auxiliary, adjective) tied by particles, a pronoun (俺, 私, なん), or
# ends as a question. Only the particles that tie a clause count: の, も, と occur inside names
# misread by MeCab (「うえの こころ」「やまもと ゆき」).

_PREDICATE = frozenset({"動詞", "助動詞", "形容詞"})
_PRONOUN = "代名詞"
_PARTICLE = "助詞"
_CLAUSE_PARTICLES = frozenset(
    {"を", "が", "は", "に", "で", "て", "って", "から", "まで", "けど", "のに", "ので", "ば", "し"}
)
_QUESTION_PARTICLES = frozenset({"か", "かな", "かしら", "の"})
_QUESTION_MARKS = ("?", "？")
_SENTENCE_MARKS = frozenset("、。,!！「」『』")
_KANA = re.compile(r"^[ぁ-ゖァ-ヺー・ｦ-ﾟ]+$")
# A name has a family and a given name, a foreign one a few more parts; more words are a sentence.
MAX_NAME_WORDS = 6


def _has_kanji(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or ch == "々" for ch in text)


def _words_of(text: str) -> list[Word]:
    return [w for w in tokenize(text) if w.pos not in {"補助記号", "空白", "記号"}]


def _is_question(text: str, words: Sequence[Word]) -> bool:
    """Ends with a question mark, or a predicate closed by か/の (「なんで要るの」)."""
    if text.rstrip().endswith(_QUESTION_MARKS):
        return True
    return (
        len(words) >= 2
        and words[-1].pos == _PARTICLE
        and words[-1].lemma in _QUESTION_PARTICLES
        and any(w.pos in _PREDICATE or w.pos == _PRONOUN for w in words[:-1])
    )


def _ties_a_clause(words: Sequence[Word]) -> bool:
    return any(w.pos == _PARTICLE and w.lemma in _CLAUSE_PARTICLES for w in words)


def _kana_name_shaped(text: str, words: Sequence[Word]) -> bool:
    """Kana only, in one or two parts (「やまだ たろう」「すぎた のぞむ」), no clause particle:
    MeCab reads such names as verbs and auxiliaries (やま|だ|たろう), so their parts of speech
    say nothing. A single inflected verb (「やめろ」) is still a demand, a negation at the end
    (「いいたくない」) a refusal."""
    parts = text.split()
    if not 1 <= len(parts) <= 2 or not all(_KANA.match(p) for p in parts):
        return False
    if _ties_a_clause(words):
        return False
    last = words[-1] if words else None
    if last and last.pos in _PREDICATE and last.lemma in _negations():
        return False  # 「いいたくない」: a refusal
    return not (len(words) == 1 and words[0].pos == "動詞" and words[0].lemma != words[0].text)


def name_sentence_reason(text: str) -> str | None:
    """Why `text` (the answer to 「お名前は」, its 「です」 already taken off) cannot be a name:
    "question", "sentence", or None when it may be one."""
    words = _words_of(text)
    if _is_question(text, words):
        return "question"
    if any(ch in _SENTENCE_MARKS for ch in text) or len(words) > MAX_NAME_WORDS:
        return "sentence"
    if any(w.pos == _PRONOUN for w in words):
        return "sentence"  # 俺, 私, 自分: the answer speaks about someone, it names no one
    if _kana_name_shaped(text, words):
        return None
    if _ties_a_clause(words) and any(w.pos in _PREDICATE for w in words):
        return "sentence"
    for word in words:
        if word.pos not in _PREDICATE:
            continue
        # Names do not conjugate, nor are they written as verbs in kanji (流す, 止めろ, 教え).
        if word.pos == "助動詞" or word.lemma != word.text or _has_kanji(word.text):
            return "sentence"
    return None


def address_sentence_reason(text: str) -> str | None:
    """Why `text` cannot be a postal address though it names a place (「東京都に住んでるけど住所は
    言いたくない」): "question", "sentence", or None. Predicates alone are kept: Kyoto's
    addresses say 上る, 下る, 西入る."""
    words = _words_of(text)
    if _is_question(text, words):
        return "question"
    if any(w.pos == _PRONOUN for w in words):
        return "sentence"
    if _ties_a_clause(words) and any(w.pos in _PREDICATE for w in words):
        return "sentence"
    return None


@validator(max_len=50, any_words=True)
def validate_customer_name(raw: str) -> Result:
    """A person's name: 「山田太郎です」→「山田太郎」; no digits, e-mail or phone, and not a
    sentence, a demand or a question (「外部の業者に俺の情報流すのやめろ」 is not a name)."""
    cleaned = _strip_symbols(_clean(raw))
    name = _strip_name(cleaned)
    if not name or not any(unicodedata.category(ch)[0] == "L" for ch in name):
        return Invalid("not_a_name")
    if "@" in name or any(ch.isdigit() for ch in name):
        return Invalid("not_a_name")
    too_long = _length(name, 1, 50)
    if too_long:
        return too_long
    if cleaned.rstrip().endswith(_QUESTION_MARKS):
        return Invalid("question")  # _strip_name took the question mark off
    reason = name_sentence_reason(name)
    return Invalid(reason) if reason else Valid(name)


_PHONE_RUN = re.compile(r"\+?\(?\d[\d\-\s().]*\d\)?")
_MOBILE_PREFIXES = ("020", "050", "060", "070", "080", "090")


def _phone_groups(run: str) -> list[str]:
    return [g for g in re.split(r"\D+", run) if g]


def _national(run: str) -> str | None:
    digits = re.sub(r"\D", "", run)
    if run.lstrip("(").startswith("+") or digits.startswith("0081"):
        digits = digits[2:] if digits.startswith("00") else digits
        if not digits.startswith("81"):
            return None  # another country: the window calls Japanese numbers
        rest = digits[2:]
        digits = rest if rest.startswith("0") else "0" + rest
    return digits


def _format_phone(digits: str, run: str) -> str | None:
    if not digits.startswith("0") or digits.startswith("00"):
        return None
    if len(digits) == 11:
        if digits.startswith("0800"):  # before 080: 0800 is toll-free, 080 mobile
            return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
        if digits.startswith(_MOBILE_PREFIXES):
            return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
        return None
    if len(digits) != 10:
        return None
    if digits.startswith(("0120", "0570", "0990")):
        return f"{digits[:4]}-{digits[4:7]}-{digits[7:]}"
    if digits.startswith(_MOBILE_PREFIXES) or digits.startswith("0800"):
        return None  # those have 11 digits
    groups = _phone_groups(run)
    if (
        len(groups) == 3
        and "".join(groups) == digits
        and 2 <= len(groups[0]) <= 5
        and len(groups[2]) == 4
    ):
        return "-".join(groups)  # the customer knows their area code better than we do
    if digits.startswith(("03", "06")):
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}"
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


@validator(max_len=60)
def validate_phone(raw: str) -> Result:
    """A Japanese number (landline, mobile, 0120/0570/050, +81), as 090-1234-5678."""
    cleaned = _clean(raw)
    for dash in DASHES:
        cleaned = cleaned.replace(dash, "-")
    found: list[str] = []
    for m in _PHONE_RUN.finditer(cleaned):
        run = m.group()
        national = _national(run)
        if national is None:
            return Invalid("bad_phone")
        if len(national) < 10:
            continue
        formatted = _format_phone(national, run)
        if formatted is None:
            return Invalid("bad_phone")
        if formatted not in found:
            found.append(formatted)
    if len(found) != 1:
        return Invalid("bad_phone")
    return Valid(found[0])


_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


@validator(max_len=254)
def validate_email(raw: str) -> Result:
    """One e-mail address (full-width typed is fine). Dots anywhere in the local part are
    accepted: older Japanese mobile addresses (taro..yamada.@docomo.ne.jp) still receive mail."""
    cleaned = _clean(raw).replace("＠", "@")
    found: list[str] = []
    for m in _EMAIL.finditer(cleaned):
        before = cleaned[m.start() - 1] if m.start() else " "
        after = cleaned[m.end()] if m.end() < len(cleaned) else " "
        if before in DASHES or after in DASHES or after == "@":
            return Invalid("bad_email")
        local, domain = m.group().rsplit("@", 1)
        tld = domain.rsplit(".", 1)[1]
        if len(local) > 64 or len(m.group()) > 254 or not tld.isalpha() or len(tld) < 2:
            return Invalid("bad_email")
        address = f"{local}@{domain.lower()}"
        if address.lower() not in (a.lower() for a in found):
            found.append(address)
    if len(found) != 1:
        return Invalid("bad_email")
    return Valid(found[0])


_MUNICIPALITY = re.compile(r"[\u4e00-\u9fff々ぁ-んァ-ヶー]{1,10}[市区町村郡]")
_POSTAL_CODE = re.compile(r"〒\s*\d{3}-?\d{4}|(?<!\d)\d{3}-\d{4}(?!\d)|〒")


@validator(max_len=200)
def validate_postal_address(raw: str) -> Result:
    """An address as typed (white space tidied) with a prefecture, city or postal code in it."""
    address = _clean_as_typed(raw)
    invalid = _length(address, 5, 200)
    if invalid:
        return invalid
    check = _clean(address)
    if "@" in check:
        return Invalid("bad_address")
    has_place = any(p in check for p in PREFECTURES) or bool(_MUNICIPALITY.search(check))
    postal = _POSTAL_CODE.search(check)
    rest = _POSTAL_CODE.sub("", check)
    letters = sum(1 for ch in rest if unicodedata.category(ch)[0] == "L")
    if not (has_place or (postal and letters >= 2)):
        return Invalid("bad_address")
    reason = address_sentence_reason(check)
    return Invalid(reason) if reason else Valid(address)


# The member number as text/pii.py documents MEMBER_NUMBER: "M" and 8 digits as printed on the
# card (M12345678, also full-width or lower case); answering the form's question, a bare
# 8-10 digits (or two hyphenated groups of 4-5 digits) is taken too, as pii does after a label.
# A form slot set to None counts as unfilled in Rasa: when validate_member_number gives
# Valid(None), the form stores this text instead; it validates (and prefills) back to None.
NO_MEMBER_NUMBER = "なし"
_MEMBER_M = re.compile(r"(?<![A-Za-z0-9])[Mm]\s?-?\s?(\d{8})(?!\d)")
_MEMBER_DIGITS = re.compile(r"(?<![\d-])(\d{8,10}|\d{4,5}-\d{4,5})(?![\d-])")


@validator(max_len=60)
def validate_member_number(raw: str) -> Result:
    """The member number (M12345678, or its digits), or None when there is none or it is not
    known (「なし」「ありません」「わからない」)."""
    cleaned = _clean(raw)
    if any(ch.isdigit() for ch in cleaned):
        with_m = {f"M{m.group(1)}" for m in _MEMBER_M.finditer(cleaned)}
        if len(with_m) == 1:
            return Valid(with_m.pop())
        compact = re.sub(r"(?<=\d) (?=\d)", "", cleaned)
        bare = {m.group(1).replace("-", "") for m in _MEMBER_DIGITS.finditer(compact)}
        if not with_m and len(bare) == 1 and len(re.findall(r"\d+", compact.replace("-", ""))) == 1:
            return Valid(bare.pop())
        return Invalid("bad_member_number")
    seq = _answer_seq(raw)
    if load_cues().answers["member_none"].find(seq) or any(s in _negations() for s in seq):
        return Valid(None)
    return Invalid("bad_member_number")


@validator(max_len=100, any_words=True)
def validate_preferred_time(raw: str) -> Result:
    """When to call, in the customer's words (「平日の午前中」「18時以降」「いつでも」)."""
    return _words(raw, 100)


@validator(max_len=200)
def validate_is_agent(raw: str) -> Result:
    """代理人によるご請求か: 本人/自分 → False; 代理/家族の代わり → True; else はい/いいえ."""
    seq = _answer_seq(raw)
    votes = _polarities(seq, load_cues().answers["agent"], "agent")
    if any(votes):
        return Valid(True)  # 「自分の母の代わりに」: someone else's data is an agent's request
    if votes:
        return Valid(False)
    answer = parse_yes_no(raw)
    return Invalid("unclear") if answer is None else Valid(answer)


@validator(max_len=200)
def validate_cancel_membership(raw: str) -> Result:
    """Whether to cancel the WEB membership too: 退会します/はい → True; 続けます/いいえ → False."""
    seq = _answer_seq(raw)
    if _mentions_unknown(seq):
        return Invalid("unclear")
    votes = _polarities(seq, load_cues().answers["cancel"], "yes")
    if votes and all(votes):
        return Valid(True)
    if votes and not any(votes):
        return Valid(False)
    return Invalid("unclear")


@validator(max_len=200, any_words=True)
def validate_suspension_scope(raw: str) -> Result:
    """All data, or a specific use: {"scope": "all"|"specific", "detail": the answer}."""
    detail = _clean(raw)
    invalid = _length(detail, 1, 200)
    if invalid:
        return invalid
    answers = load_cues().answers
    seq = _answer_seq(raw)
    if answers["scope_limit"].find(seq):
        return Valid({"scope": "specific", "detail": detail})
    if answers["scope_all"].find(seq):
        return Valid({"scope": "all", "detail": detail})
    if _mentions_unknown(seq) or parse_yes_no(raw) is not None:
        return Invalid("unclear")  # 「はい」 does not say which data
    return Valid({"scope": "specific", "detail": detail})


@validator(max_len=200, any_words=True)
def validate_correction_item(raw: str) -> Result:
    """Which item is wrong (住所, 電話番号 …), in the customer's words."""
    return _words(raw, 200)


@validator(max_len=200, any_words=True)
def validate_correction_value(raw: str) -> Result:
    """The right content, in the customer's words."""
    return _words(raw, 200)


@validator(max_len=200, any_words=True)
def validate_third_party_recipients(raw: str) -> Result:
    """Known recipients (Google, LINE, 提携先 …); 「全部」 → all; else the customer's words."""
    found = extract_recipients(raw)
    if found:
        return Valid(found)
    if says_all(raw):
        return Valid([load_cues().all_recipients])
    words = _clean(raw)
    return _length(words, 1, 200) or Valid([words])


@validator(max_len=200)
def validate_marketing_channels(raw: str) -> Result:
    """Channels to stop (phone, email, post, catalogue, sms); 「全部」 → every channel."""
    found = extract_channels(raw)
    if found:
        return Valid(found)
    if says_all(raw):
        return Valid(list(load_cues().all_channels))
    return Invalid("no_channel")


@validator(max_len=2000, markup_ok=True, any_words=True)
def validate_complaint_details(raw: str) -> Result:
    """The complaint as the customer wrote it (line breaks kept), up to 2000 characters."""
    value = _clean_as_typed(raw, keep_newlines=True)
    return _length(value, 1, 2000) or Valid(value)


def validate(slot: str, text: str) -> Result:
    """The validator of `slot` applied to `text` (KeyError for a slot no form asks)."""
    return VALIDATORS[slot](text)
