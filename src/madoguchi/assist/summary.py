"""The summary on top of a ticket: who, which request(s), the facts the customer gave, and cues.

Computed here, from the customer's own messages and the ticket, with the project's tokenizer,
request cues (data/requests/cues.yml) and PII finder: no network, no model. The same text goes
into the handoff webhook's payload, which must carry no contact data, so the summary never holds
any: it says *which* contact data were given (電話番号、住所 …), names appear as ［氏名］, new
values to correct as labels, and every quoted phrase is masked like the review masks it (labels
for everything the finder knows, the ticket's own contact values and addresses included); card
and individual numbers are scrubbed before anything is read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from madoguchi.assist.canned import data_dir
from madoguchi.infra.data_files import read_yaml
from madoguchi.requests.classify import classify, extract_channels, extract_recipients, says_all
from madoguchi.requests.types import load_catalogue
from madoguchi.review.masking import ConversationMasker
from madoguchi.text.pii import contains_forbidden, find_pii, mask_forbidden
from madoguchi.text.pii.vocabulary import PREFECTURES

CUES_FILE = "summary_cues.yml"
NAME_LABEL = "［氏名］"
ADDRESS_LABEL = "［住所］"
NEW_VALUE_LABEL = "［訂正後の内容］"
GIST_MAX_CHARS = 80
_BULLET = "・"
_JOIN = "、"

# The ticket's contact fields, as ConversationMasker's slot names (review/masking.py).
_TICKET_CONTACT = {
    "customer_name": "customer_name",
    "customer_phone": "phone",
    "customer_email": "email",
    "customer_postal_address": "postal_address",
    "customer_member_number": "member_number",
}
_CONTACT_WORDS = {
    "PHONE": "電話番号",
    "EMAIL": "メールアドレス",
    "POSTAL_CODE": "郵便番号",
    "MEMBER_NUMBER": "会員番号",
    "ADDRESS": "住所",
    "NAME": "お名前",
}
_CONTACT_ORDER = ("NAME", "PHONE", "EMAIL", "ADDRESS", "POSTAL_CODE", "MEMBER_NUMBER")

_PREFECTURE = "|".join(PREFECTURES)
# An address as customers type one: a prefecture (with 都道府県 or not) and a municipality, up
# to the end of the clause.
_ADDRESS = re.compile(
    rf"(?:〒?\s*\d{{3}}-?\d{{4}}\s*)?(?:(?:{_PREFECTURE})[都道府県]?)?"
    r"[\u4e00-\u9fff々ぁ-んァ-ヶー]{1,8}[市区町村郡][^、。,!?\n（）()]*?"
    r"(?=(?:です|に|へ|で|から|と|、|。|,|!|\?|\n|$))"
)
_ADDRESS_START = re.compile(rf"(?:{_PREFECTURE})[都道府県]|\d+丁目|\d+番地?|\d+-\d+(?:-\d+)?")
_NAME_SAID = re.compile(
    r"(?:名前は|氏名は|私は)\s*([\u4e00-\u9fff々ぁ-んァ-ヶー]{1,6}(?:\s?[\u4e00-\u9fff々ぁ-んァ-ヶー]"
    r"{1,6})?)\s*(?:です|と申します|といいます)|([\u4e00-\u9fff々ァ-ヶー]{1,6}(?:\s?[\u4e00-\u9fff々"
    r"ぁ-んァ-ヶー]{1,6})?)と申します"
)
_DATE = re.compile(
    r"\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日|(?<![\d/])\d{1,2}/\d{1,2}(?![\d/])|"
    r"\d+(?:日|週間|か月|ヶ月|ヵ月|カ月|年)前|先週|先月|先日|昨日|一昨日|おととい|今朝|今月|去年|昨年"
)
_ORDER = re.compile(
    r"(注文番号|受付番号|問い合わせ番号|お問い合わせ番号)\s*[はがの:：]?\s*([A-Za-z0-9][A-Za-z0-9-]{2,})"
)
_REFERENCE = re.compile(r"PRV-\d{8}-\d{4}")
_SENTENCE = re.compile(r"[^。!?\n]+[。!?]*")
# Items a correction is about, in the order they are looked for; the first word names it.
_ITEMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("住所", ("住所", "引っ越", "引越", "転居", "番地")),
    ("電話番号", ("電話番号", "携帯番号", "番号が変わ")),
    ("メールアドレス", ("メールアドレス", "メアド", "アドレス")),
    ("氏名", ("氏名", "名前", "苗字", "名字", "姓", "旧姓", "結婚")),
    ("生年月日", ("生年月日", "誕生日")),
)
_NEW_VALUE = re.compile(
    r"新しい|新住所|変更後|正しくは|正しい|に変わ|に変更|に引っ越|へ引っ越|に転居|になりました"
)
_CANCEL = re.compile(r"退会|解約|会員をやめ|会員を辞め|登録を解除|アカウント(?:を|も)?削除")
# A sentence that keeps a channel (「電話の案内は構いません」) names no channel to stop.
_KEEP = re.compile(r"構いません|構わない|かまいません|かまわない|続けて|このままで|そのままで")
# 「購入履歴のデータだけ」: the part the customer limits an erasure to.
_ONLY = re.compile(r"([^\s、。,!?]{2,16}?)(?:だけ|のみ)")
FORBIDDEN_FACT = "カード番号・個人番号が送られたため非表示（チャットに送らないようご案内を）"
_NO_CANCEL = re.compile(
    r"退会(?:は|も)?(?:しない|しません|せず|希望しません|不要|したくない)|会員(?:は|を)?続け"
)


class SummaryDataError(ValueError):
    """summary_cues.yml is broken; the message says what to fix."""


@dataclass(frozen=True)
class CueRule:
    kind: str
    label: str
    words: tuple[str, ...]
    unless: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def evidence(self, text: str) -> list[str]:
        """The lexicon words and pattern hits found in the (NFKC) text, `unless` taken out."""
        for phrase in sorted(self.unless, key=len, reverse=True):
            text = text.replace(phrase, " ")
        found = [w for w in self.words if w in text]
        for pattern in self.patterns:
            found.extend(m.group(0) for m in pattern.finditer(text))
        return list(dict.fromkeys(found))


@dataclass(frozen=True)
class CueLexicon:
    rules: tuple[CueRule, ...]
    agent_words: tuple[str, ...]
    relations: tuple[str, ...]
    data_words: tuple[str, ...]


@dataclass(frozen=True)
class Cue:
    """How the customer sounds (kind `angry` or `hurry`), with the words that show it."""

    kind: str
    label: str
    evidence: tuple[str, ...]

    def __str__(self) -> str:
        shown = "".join(f"「{w}」" for w in self.evidence[:4])
        return f"{self.label}（{shown}）" if shown else self.label


@dataclass(frozen=True)
class Summary:
    """One line, the facts, the cues; nothing in it is contact data."""

    headline: str
    facts: list[str] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    request_types: list[str] = field(default_factory=list)
    is_agent: bool = False

    def as_text(self) -> str:
        """A few lines of Japanese for the ticket page and the handoff webhook."""
        lines = [self.headline]
        lines += [f"{_BULLET}{fact}" for fact in self.facts]
        if self.cues:
            lines.append(f"{_BULLET}注意: " + _JOIN.join(str(c) for c in self.cues))
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "headline": self.headline,
            "facts": list(self.facts),
            "cues": [{"kind": c.kind, "label": c.label, "evidence": list(c.evidence)}
                     for c in self.cues],
            "request_types": list(self.request_types),
            "is_agent": self.is_agent,
            "text": self.as_text(),
        }


# --- data ------------------------------------------------------------------------------------


def _words(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SummaryDataError(f"{where} must be a list of non-empty strings")
    return tuple(unicodedata.normalize("NFKC", v) for v in value)


def parse_cues(raw: Any, source: str = CUES_FILE) -> CueLexicon:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("cues"), Mapping):
        raise SummaryDataError(f"{source}: expected a mapping with 'cues:'")
    rules = []
    for kind, entry in raw["cues"].items():
        where = f"{source}: cues.{kind}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("label"), str):
            raise SummaryDataError(f"{where} needs a label")
        patterns = []
        for pattern in _words(entry.get("patterns"), f"{where}.patterns"):
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise SummaryDataError(f"{where}.patterns: {pattern!r}: {exc}") from exc
        rules.append(CueRule(str(kind), entry["label"], _words(entry.get("words"), where),
                             _words(entry.get("unless"), f"{where}.unless"), tuple(patterns)))
    agent = raw.get("agent") or {}
    if not isinstance(agent, Mapping):
        raise SummaryDataError(f"{source}: agent must be a mapping")
    return CueLexicon(
        rules=tuple(rules),
        agent_words=_words(agent.get("words"), f"{source}: agent.words"),
        relations=_words(agent.get("relations"), f"{source}: agent.relations"),
        data_words=_words(agent.get("data_words"), f"{source}: agent.data_words"),
    )


def load_cues(path: Path | None = None) -> CueLexicon:
    path = path or data_dir() / CUES_FILE
    return parse_cues(read_yaml(path, SummaryDataError), str(path))


@lru_cache(maxsize=1)
def default_cues() -> CueLexicon:
    return load_cues()


# --- reading the customer --------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def find_cues(turns: Sequence[str], lexicon: CueLexicon | None = None) -> list[Cue]:
    """The cues in the customer's messages, in the lexicon's order."""
    lexicon = lexicon or default_cues()
    text = "\n".join(_nfkc(t) for t in turns)
    cues = []
    for rule in lexicon.rules:
        evidence = rule.evidence(text)
        if evidence:
            cues.append(Cue(rule.kind, rule.label, tuple(evidence)))
    return cues


def find_agent(turns: Sequence[str], lexicon: CueLexicon | None = None) -> tuple[bool, str | None]:
    """(acts for someone else, the relation named if any): 「母の代わりに」 → (True, 母)."""
    lexicon = lexicon or default_cues()
    text = "\n".join(_nfkc(t) for t in turns)
    relation = None
    for word in sorted(lexicon.relations, key=len, reverse=True):
        at = text.find(word + "の")
        if at >= 0 and (relation is None or at < text.find(relation + "の")):
            relation = word
    agent = any(w in text for w in lexicon.agent_words)
    if relation and not agent:
        after = text[text.find(relation + "の") + len(relation) + 1:][:12]
        agent = any(w in after for w in lexicon.data_words)
    if not agent:
        return False, None
    return True, relation


class _Masker:
    """Masks quoted customer words like the review does, plus addresses the finder cannot see."""

    def __init__(self, ticket: Mapping[str, Any], names: Sequence[str]) -> None:
        self.inner = ConversationMasker()
        for key, slot in _TICKET_CONTACT.items():
            self.inner.learn(slot, ticket.get(key))
        for name in names:
            self.inner.learn("customer_name", name)

    def __call__(self, text: str) -> str:
        text = _ADDRESS.sub(lambda m: ADDRESS_LABEL if _ADDRESS_START.search(m.group(0))
                            else m.group(0), text)
        return self.inner.text(text)


def _scrub(text: str) -> str:
    return mask_forbidden(text)[0]


def _names_said(turns: Sequence[str]) -> list[str]:
    names = []
    for turn in turns:
        for m in _NAME_SAID.finditer(turn):
            name = (m.group(1) or m.group(2) or "").strip()
            if len(name) >= 2 and name not in ("私", "本人", "代理人", "家族"):
                names.append(name)
    return names


def _contact_kinds(turns: Sequence[str], ticket: Mapping[str, Any], named: bool) -> list[str]:
    kinds = {"NAME"} if named else set()
    for turn in turns:
        kinds.update(span.label for span in find_pii(turn) if span.label in _CONTACT_WORDS)
        if any(_ADDRESS_START.search(m.group(0)) for m in _ADDRESS.finditer(turn)):
            kinds.add("ADDRESS")
    for key, kind in (("customer_phone", "PHONE"), ("customer_email", "EMAIL"),
                      ("customer_postal_address", "ADDRESS"),
                      ("customer_member_number", "MEMBER_NUMBER")):
        if ticket.get(key):
            kinds.add(kind)
    return [_CONTACT_WORDS[k] for k in _CONTACT_ORDER if k in kinds]


def _request_types(turns: Sequence[str], ticket: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(decided types, undecided candidates): the ticket's, else what the words say."""
    given = [str(t) for t in ticket.get("request_types") or []]
    if given:
        return given, []
    decided: list[str] = []
    open_: list[str] = []
    for turn in turns:
        decision = classify(turn, [])
        decided += [t for t in decision.types if t not in decided]
        open_ += [t for t in decision.ambiguous if t not in open_]
    return decided, [t for t in open_ if t not in decided]


def _sentences(turns: Sequence[str]) -> list[str]:
    return [s.strip() for t in turns for s in _SENTENCE.findall(t) if s.strip()]


def _correction_facts(turns: Sequence[str], ticket: Mapping[str, Any]) -> list[str]:
    details = (ticket.get("details") or {}).get("correction") or {}
    items: list[str] = []
    if details.get("item"):
        items.append(str(details["item"]))
    new_value = bool(details.get("value"))
    for sentence in _sentences(turns):
        text = _nfkc(sentence)
        for item, words in _ITEMS:
            if any(w in text for w in words) and item not in items:
                items.append(item)
        new_value = new_value or bool(_NEW_VALUE.search(text))
    facts = []
    if items:
        facts.append("訂正したい項目: " + _JOIN.join(items))
    if new_value:
        facts.append(f"新しい内容をお伝えいただいています（{NEW_VALUE_LABEL}）")
    return facts


def _gist(turns: Sequence[str], mask: _Masker) -> str | None:
    """The customer's first sentences, masked and cut to GIST_MAX_CHARS."""
    text = "".join(_sentences(turns[:2]))
    if not text:
        return None
    text = mask(text)
    return text if len(text) <= GIST_MAX_CHARS else text[: GIST_MAX_CHARS - 1] + "…"


def summarize(
    turns: Sequence[str],
    ticket: Mapping[str, Any] | None = None,
    lexicon: CueLexicon | None = None,
) -> Summary:
    """The summary of a conversation from the customer's own messages (in order) and its ticket.

    `ticket` is a ticket's to_dict() or any mapping with some of its keys (request_types,
    customer_name, is_agent, details, customer_phone …); without it, the words alone decide.
    """
    ticket = ticket or {}
    lexicon = lexicon or default_cues()
    turns = [t for t in turns if isinstance(t, str) and t.strip()]
    forbidden = any(contains_forbidden(t) for t in turns)
    turns = [_scrub(t) for t in turns]
    catalogue = load_catalogue()
    labels = {t.id: t.label for t in catalogue.types.values()}

    names = _names_said(turns)
    named = bool(ticket.get("customer_name")) or bool(names)
    mask = _Masker(ticket, names)
    agent, relation = find_agent(turns, lexicon)
    agent = agent or bool(ticket.get("is_agent"))
    types, undecided = _request_types(turns, ticket)
    cues = find_cues(turns, lexicon)

    who = f"{NAME_LABEL}様" if named else "お客様"
    who += f"（代理人・{relation}）" if agent and relation else "（代理人）" if agent else ""
    asked = _JOIN.join(labels.get(t, t) for t in types)
    if undecided:
        options = "か".join(labels.get(t, t) for t in undecided)
        asked = f"{asked}{_JOIN}{options}（未確定）" if asked else f"{options}（未確定）"
    headline = f"{who}: {asked or 'ご用件未確定'}"
    if cues:
        headline += "【" + "・".join(c.label for c in cues) + "】"

    facts: list[str] = []
    if agent:
        facts.append(f"代理人によるお申し出（ご本人: {relation}）" if relation
                     else "代理人によるお申し出")
    contact = _contact_kinds(turns, ticket, named)
    if contact:
        facts.append("連絡先: " + _JOIN.join(contact) + "あり")
    if "correction" in types or "correction" in undecided:
        facts += _correction_facts(turns, ticket)
    if "marketing_optout" in types or "marketing_optout" in undecided:
        channels = list((ticket.get("details") or {}).get("marketing_optout", {}).get("channels")
                        or [])
        for sentence in _sentences(turns):
            if not _KEEP.search(sentence):
                channels += [c for c in extract_channels(sentence) if c not in channels]
        if channels:
            facts.append("停止をご希望のご案内: "
                         + _JOIN.join(catalogue.channel_labels.get(c, c) for c in channels))
        elif any(says_all(t) for t in turns):
            facts.append("停止をご希望のご案内: すべて")
    if "third_party_stop" in types or "third_party_stop" in undecided:
        recipients = list((ticket.get("details") or {}).get("third_party_stop", {})
                          .get("recipients") or [])
        for turn in turns:
            recipients += [r for r in extract_recipients(turn) if r not in recipients]
        if recipients:
            facts.append("提供の停止をご希望の提供先: " + _JOIN.join(mask(r) for r in recipients))
    if "suspension" in types or "suspension" in undecided:
        text = _nfkc("\n".join(turns))
        only = _ONLY.search(text)
        if only:
            facts.append(f"範囲: 一部（{mask(only.group(1))}）")
        elif any(says_all(t) for t in turns):
            facts.append("範囲: 保有しているすべての個人データ")
        if _NO_CANCEL.search(text):
            facts.append("WEB会員の退会: 希望しない")
        elif _CANCEL.search(text) or ticket.get("details", {}).get("suspension", {}).get(
                "cancel_membership"):
            facts.append("WEB会員の退会: 希望する")
    dates = list(dict.fromkeys(m.group(0) for t in turns for m in _DATE.finditer(_nfkc(t))))
    if dates:
        facts.append("日付の言及: " + _JOIN.join(dates))
    numbers = [f"{m.group(1)} {mask(m.group(2))}" for t in turns
               for m in _ORDER.finditer(_nfkc(t))]
    numbers += [m.group(0) for t in turns for m in _REFERENCE.finditer(t)
                if not any(m.group(0) in n for n in numbers)]
    if numbers:
        facts.append("番号: " + _JOIN.join(dict.fromkeys(numbers)))
    if "complaint" in types or not types:
        gist = _gist(turns, mask)
        if gist:
            facts.append(f"お申し出の内容: 「{gist}」")
    elif cues:
        # Why the customer is upset or in a hurry: the sentences that show it, in their words.
        shown = [s for s in _sentences(turns) if any(find_cues([s], lexicon))]
        gist = _gist(shown, mask)
        if gist:
            facts.append(f"ご様子: 「{gist}」")
    if forbidden:
        facts.append(FORBIDDEN_FACT)
    return Summary(headline=headline, facts=facts, cues=cues, request_types=types,
                   is_agent=agent)
