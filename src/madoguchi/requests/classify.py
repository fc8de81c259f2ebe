"""What the customer asked for: the NLU intent ranking, checked against the words used.

The model picks one intent per message, but some wordings do not decide the request: 削除 is
③ (訂正・追加・削除) or ④ (利用停止・消去); 止めて is §5, ⑤ or ④ depending on what is to stop;
and one message may hold two requests (「メールを止めて、データも消して」). Those cases are read
from cue words (data/requests/cues.yml), matched on the dictionary forms of the fugashi
segmentation, so that 止めて/止めろ/止めてほしい are one cue and the word lists stay data.

How a message is read:
- the top intent is not a request (a notice question, handoff, out of scope …) → no request;
- the top intent is a complaint → the complaint alone: complaints often mention earlier requests
  (「前に利用停止をお願いしたのに」), and a person reads the complaint anyway;
- trigger words (削除, 消す, 止める, 開示, 訂正 …) found in the text each decide a request, or
  leave a choice; a sending or using verb turned into a wish by a negation (「送らないでほしい」)
  is a stop word too (削除 alone → ③/④; 止めて without a deciding object → §5/⑤/④). The object of a
  trigger is looked for between the previous trigger and it (Japanese puts the object first);
  several decided requests → all of them, in the order written;
- no trigger → the top request intent; if the second intent is also a request and within the
  ambiguity margin, the customer is asked which of the two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from madoguchi.requests.types import (
    CUES_FILE,
    REQUEST_TYPE_IDS,
    RequestDataError,
    data_dir,
    read_yaml,
    request_intents,
)
from madoguchi.text.normalize import normalize_text
from madoguchi.text.tokenize import lemmas

# Decision.reason values.
REASON_NOT_A_REQUEST = "not_a_request"
REASON_COMPLAINT = "complaint"
REASON_TEXT = "text_cue"
REASON_MULTIPLE = "multiple_requests"
REASON_AMBIGUOUS_DELETE = "ambiguous_delete"
REASON_AMBIGUOUS_STOP = "ambiguous_stop"
REASON_AMBIGUOUS_OBJECT = "ambiguous_object"
REASON_NLU = "nlu"
REASON_NLU_CLOSE = "nlu_close"
REASON_NO_CUE = "no_cue"

# Longest texts read for cues: a request is stated in the first lines; a pasted 10,000-character
# message must not cost a second of MeCab per form turn.
MAX_CUE_CHARS = 2000

_PUNCTUATION = frozenset("、。,.!?！？・;；:：「」『』()（）[]【】…\n")
_EPSILON = 1e-9


@dataclass(frozen=True)
class Decision:
    """What to do with a message: the requests it makes, or the choice to offer.

    `types` are decided requests in the order written; `ambiguous` the candidates to offer as
    buttons for the part that is not decided (both may be set: 「メールを止めて、住所を削除して」).
    """

    types: list[str]
    ambiguous: list[str]
    reason: str
    intent: str | None = None
    confidence: float | None = None

    @property
    def is_request(self) -> bool:
        return bool(self.types or self.ambiguous)


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    label: str


class PhraseMatcher:
    """Longest-first, left-to-right, non-overlapping matching of cue phrases on lemmas."""

    def __init__(self, groups: Mapping[str, Iterable[str]]) -> None:
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        seen: dict[tuple[str, ...], str] = {}
        for label, phrases in groups.items():
            for phrase in phrases:
                seq = phrase_lemmas(str(phrase))
                if not seq:
                    continue
                if seen.get(seq, label) != label:
                    raise RequestDataError(
                        f"cue {phrase!r} is listed under both {seen[seq]!r} and {label!r}"
                    )
                seen[seq] = label
                by_first.setdefault(seq[0], []).append((seq, label))
        for options in by_first.values():
            options.sort(key=lambda item: -len(item[0]))
        self._by_first = by_first

    def phrases(self) -> list[tuple[tuple[str, ...], str]]:
        """(lemmas, label) of every cue."""
        return [item for options in self._by_first.values() for item in options]

    def find(self, seq: Sequence[str]) -> list[Match]:
        out: list[Match] = []
        i = 0
        n = len(seq)
        while i < n:
            for phrase, label in self._by_first.get(seq[i], ()):
                end = i + len(phrase)
                if end <= n and tuple(seq[i:end]) == phrase:
                    out.append(Match(i, end, label))
                    i = end
                    break
            else:
                i += 1
        return out


def phrase_lemmas(phrase: str) -> tuple[str, ...]:
    """A cue's lemmas, segmented exactly like a message is."""
    return lemmas(normalize_text(phrase).strip())


def text_lemmas(text: str) -> tuple[str, ...]:
    """A message's lemmas (first MAX_CUE_CHARS characters), never raising on odd input."""
    if not isinstance(text, str) or not text.strip():
        return ()
    return lemmas(text[:MAX_CUE_CHARS])


def is_punctuation(lemma: str) -> bool:
    return bool(lemma) and all(ch in _PUNCTUATION for ch in lemma)


# --- cues -----------------------------------------------------------------------------------


def _str_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RequestDataError(f"cues.yml: {where} must be a list")
    odd = [v for v in value if not isinstance(v, str)]
    if odd:  # yes/no/on/off unquoted are booleans in YAML, 110 a number: quote them
        raise RequestDataError(f"cues.yml: {where} has non-text entries {odd!r}; quote them")
    return list(value)


def _types_list(value: Any, where: str) -> tuple[str, ...]:
    types = tuple(_str_list(value, where))
    bad = [t for t in types if t not in REQUEST_TYPE_IDS]
    if bad or not types:
        raise RequestDataError(f"cues.yml: {where} must list request types, got {types!r}")
    return types


def _delete_candidates(value: Any) -> tuple[str, str]:
    types = _types_list(value, "delete.candidates")
    if len(types) != 2:
        raise RequestDataError("cues.yml: delete.candidates is [for wrong content, for erasure]")
    return types[0], types[1]


@dataclass(frozen=True)
class NegatedWish:
    """stop.negated: 「送らないで」「来なくして」 read as a stop (see cues.yml)."""

    verbs: PhraseMatcher
    between: frozenset[str]
    negations: frozenset[str]
    wish: frozenset[str]

    def find(self, seq: Sequence[str]) -> list[Match]:
        """Each verb + negation + wish word as a `stop` match spanning them."""
        out: list[Match] = []
        for verb in self.verbs.find(seq):
            i = verb.end
            while i < len(seq) and seq[i] in self.between:
                i += 1
            if i + 1 < len(seq) and seq[i] in self.negations and seq[i + 1] in self.wish:
                out.append(Match(verb.start, i + 2, "stop"))
        return out


@dataclass(frozen=True)
class Cues:
    """cues.yml, compiled into matchers."""

    margin: float
    delete_candidates: tuple[str, str]
    stop_candidates: tuple[str, ...]
    ambiguous_objects: Mapping[str, tuple[str, ...]]
    triggers: PhraseMatcher
    context: PhraseMatcher
    channels: PhraseMatcher
    all_channels: tuple[str, ...]
    recipients: PhraseMatcher
    all_recipients: str
    all_words: PhraseMatcher
    negated: NegatedWish
    answers: Mapping[str, PhraseMatcher] = field(default_factory=dict)
    # Lemma runs that, right after an erase or 削除 word, make it a description (delete.described).
    described: tuple[tuple[str, ...], ...] = ()


def parse_cues(raw: Mapping[str, Any]) -> Cues:
    delete = raw.get("delete") or {}
    stop = raw.get("stop") or {}
    objects = stop.get("objects") or {}

    trigger_groups: dict[str, list[str]] = {
        "delete": _str_list(delete.get("ambiguous"), "delete.ambiguous"),
        "erase": _str_list(delete.get("erase"), "delete.erase"),
        "stop": _str_list(stop.get("words"), "stop.words"),
        "neutral": _str_list(stop.get("neutral"), "stop.neutral"),
    }
    for type_id, strengths in objects.items():
        if type_id not in REQUEST_TYPE_IDS or not isinstance(strengths, Mapping):
            raise RequestDataError(f"cues.yml: stop.objects.{type_id} is not a request type")
        for strength in ("strong", "weak"):
            words = _str_list(strengths.get(strength), f"stop.objects.{type_id}.{strength}")
            trigger_groups[f"obj:{strength}:{type_id}"] = words
    ambiguous_objects: dict[str, tuple[str, ...]] = {}
    for word, types in (stop.get("ambiguous_objects") or {}).items():
        ambiguous_objects[str(word)] = _types_list(types, f"stop.ambiguous_objects.{word}")
        trigger_groups[f"objamb:{word}"] = [str(word)]
    for type_id, words in (raw.get("request_words") or {}).items():
        if type_id not in REQUEST_TYPE_IDS:
            raise RequestDataError(f"cues.yml: request_words.{type_id} is not a request type")
        trigger_groups[f"req:{type_id}"] = _str_list(words, f"request_words.{type_id}")

    channel_groups = {
        str(k): _str_list(v, f"channels.{k}") for k, v in (raw.get("channels") or {}).items()
    }
    channel_groups["_neutral"] = _str_list(raw.get("channel_neutral"), "channel_neutral")
    recipient_groups = {
        str(k): _str_list(v, f"recipients.{k}") for k, v in (raw.get("recipients") or {}).items()
    }
    answers = raw.get("answers") or {}
    # (`affirm`/`deny`, not `yes`/`no`: YAML 1.1 reads those keys as booleans.)
    if any(not isinstance(key, str) for key in answers):
        raise RequestDataError("cues.yml: answers keys must be names (not yes/no/on/off)")
    affirm = _str_list(answers.get("affirm"), "answers.affirm")
    deny = _str_list(answers.get("deny"), "answers.deny")
    if not affirm or not deny:
        raise RequestDataError("cues.yml: answers.affirm and answers.deny are needed")
    answer_matchers = {
        key: PhraseMatcher({key: _str_list(words, f"answers.{key}")})
        for key, words in answers.items()
        if key not in {"affirm", "deny", "negation", "agent", "self", "cancel_yes", "cancel_no"}
    }
    answer_matchers["yes_no"] = PhraseMatcher({"yes": affirm, "no": deny})
    answer_matchers["negation"] = PhraseMatcher(
        {"negation": _str_list(answers.get("negation"), "answers.negation")}
    )
    answer_matchers["agent"] = PhraseMatcher(
        {
            "agent": _str_list(answers.get("agent"), "answers.agent"),
            "self": _str_list(answers.get("self"), "answers.self"),
        }
    )
    answer_matchers["cancel"] = PhraseMatcher(
        {
            "yes": _str_list(answers.get("cancel_yes"), "answers.cancel_yes") + affirm,
            "no": _str_list(answers.get("cancel_no"), "answers.cancel_no") + deny,
        }
    )
    all_channels = tuple(_str_list(raw.get("all_channels"), "all_channels"))
    negated = stop.get("negated") or {}
    negated_wish = NegatedWish(
        verbs=PhraseMatcher({"verb": _str_list(negated.get("verbs"), "stop.negated.verbs")}),
        between=frozenset(_str_list(negated.get("between"), "stop.negated.between")),
        negations=frozenset(
            seq[0] for seq, _ in answer_matchers["negation"].phrases() if len(seq) == 1
        ),
        wish=frozenset(_str_list(negated.get("wish"), "stop.negated.wish")),
    )
    if set(all_channels) != set(channel_groups) - {"_neutral"}:
        raise RequestDataError("cues.yml: all_channels must list exactly the channels")
    return Cues(
        margin=float((raw.get("decision") or {}).get("ambiguity_margin", 0.15)),
        delete_candidates=_delete_candidates(delete.get("candidates")),
        stop_candidates=_types_list(stop.get("candidates"), "stop.candidates"),
        ambiguous_objects=ambiguous_objects,
        triggers=PhraseMatcher(trigger_groups),
        context=PhraseMatcher(
            {
                "wrong": _str_list(delete.get("wrong_content"), "delete.wrong_content"),
                "full": _str_list(delete.get("full_erasure"), "delete.full_erasure"),
            }
        ),
        channels=PhraseMatcher(channel_groups),
        all_channels=all_channels,
        described=tuple(phrase_lemmas(p) for p in _str_list(delete.get("described") or [],
                                                              "delete.described")),
        recipients=PhraseMatcher(recipient_groups),
        all_recipients=str(raw.get("all_recipients") or "すべての第三者提供先"),
        all_words=PhraseMatcher({"all": _str_list(raw.get("all_words"), "all_words")}),
        negated=negated_wish,
        answers=answer_matchers,
    )


@lru_cache(maxsize=4)
def load_cues(path: Path | None = None) -> Cues:
    return parse_cues(read_yaml(path or data_dir() / CUES_FILE))


# --- reading a message ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Mention:
    """A decided request (one type) or an open choice (several), at a word position."""

    pos: int
    types: tuple[str, ...]
    kind: str  # "decided", or the REASON_AMBIGUOUS_* that explains the choice


def _resolve_stop(matches: list[Match], cues: Cues, trigger: Match) -> list[_Mention]:
    strong: list[Match] = []
    weak: list[Match] = []
    partial: list[Match] = []
    for m in matches:
        if m.label.startswith("obj:strong:"):
            strong.append(m)
        elif m.label.startswith("obj:weak:"):
            weak.append(m)
        elif m.label.startswith("objamb:"):
            partial.append(m)
    decided = strong or weak
    if decided:
        # Suspension objects (利用, 使う) are generic: a channel or a recipient is more specific.
        specific = [m for m in decided if not m.label.endswith(":suspension")]
        decided = specific or decided
        out: list[_Mention] = []
        for m in decided:
            type_id = m.label.rsplit(":", 1)[1]
            if all(type_id not in x.types for x in out):
                out.append(_Mention(m.start, (type_id,), "decided"))
        return out
    if partial:
        types = cues.ambiguous_objects[partial[0].label.split(":", 1)[1]]
        return [_Mention(partial[0].start, types, REASON_AMBIGUOUS_OBJECT)]
    return [_Mention(trigger.start, cues.stop_candidates, REASON_AMBIGUOUS_STOP)]


def _delete_evidence(context: list[Match]) -> tuple[bool, bool]:
    return any(m.label == "wrong" for m in context), any(m.label == "full" for m in context)


def _triggers(seq: Sequence[str], cues: Cues, matches: list[Match]) -> list[Match]:
    """The words that each make a request, in order: trigger cues, and negated wishes that
    no trigger cue overlaps (「止めないで」 is not a second stop)."""
    triggers = [
        m for m in matches if m.label in {"delete", "erase", "stop"} or m.label.startswith("req:")
    ]
    for wish in cues.negated.find(seq):
        if all(m.end <= wish.start or m.start >= wish.end for m in triggers):
            triggers.append(wish)
    return sorted(triggers, key=lambda m: m.start)


def _described(seq: Sequence[str], end: int, described: Sequence[tuple[str, ...]]) -> bool:
    """Whether the lemmas from `end` begin with one of `described`."""
    return any(tuple(seq[end:end + len(run)]) == run for run in described if run)


def _mentions(seq: Sequence[str], cues: Cues) -> list[_Mention]:
    matches = cues.triggers.find(seq)
    context = cues.context.find(seq)
    triggers = _triggers(seq, cues, matches)
    fix_type, erase_type = cues.delete_candidates  # ③ for wrong content, ④ for erasure
    mentions: list[_Mention] = []
    pending_delete: list[tuple[Match, list[Match]]] = []
    for k, trig in enumerate(triggers):
        seg_start = triggers[k - 1].end if k else 0
        seg_end = trig.end if k < len(triggers) - 1 else len(seq)
        in_segment = [m for m in matches if seg_start <= m.start < seg_end and m is not trig]
        local_context = [m for m in context if seg_start <= m.start < seg_end]
        if trig.label.startswith("req:"):
            mentions.append(_Mention(trig.start, (trig.label[4:],), "decided"))
        elif trig.label != "stop" and _described(seq, trig.end, cues.described):
            continue  # 「消去予定のデータ」: data due to go, not a wish to erase it
        elif trig.label == "stop":
            mentions.extend(_resolve_stop(in_segment, cues, trig))
        elif trig.label == "erase":
            wrong, full = _delete_evidence(local_context)
            type_id = fix_type if wrong and not full else erase_type
            mentions.append(_Mention(trig.start, (type_id,), "decided"))
        else:  # 削除: decided by the words around it, else by the whole message below
            wrong, full = _delete_evidence(local_context)
            if wrong != full:
                type_id = fix_type if wrong else erase_type
                mentions.append(_Mention(trig.start, (type_id,), "decided"))
            else:
                pending_delete.append((trig, local_context))
    decided_types = {t for m in mentions if m.kind == "decided" for t in m.types}
    wrong_all, full_all = _delete_evidence(context)
    wrong_all = wrong_all or fix_type in decided_types
    full_all = full_all or erase_type in decided_types
    for trig, local_context in pending_delete:
        # Both kinds of evidence right next to 削除 (local_context is then not empty): ask.
        if not local_context and wrong_all != full_all:
            type_id = fix_type if wrong_all else erase_type
            mentions.append(_Mention(trig.start, (type_id,), "decided"))
        else:
            mentions.append(_Mention(trig.start, cues.delete_candidates, REASON_AMBIGUOUS_DELETE))
    mentions.sort(key=lambda m: m.pos)
    return mentions


def _ranking(ranking: Iterable[Any]) -> list[tuple[str, float]]:
    """[(intent, confidence)] best first, from tuples or Rasa's {"name", "confidence"} dicts."""
    out: list[tuple[str, float]] = []
    for item in ranking or ():
        if isinstance(item, Mapping):
            name, conf = item.get("name"), item.get("confidence")
        else:
            try:
                name, conf = item
            except (TypeError, ValueError):
                continue
        if isinstance(name, str):
            try:
                out.append((name, float(conf or 0.0)))
            except (TypeError, ValueError):
                out.append((name, 0.0))
    out.sort(key=lambda pair: -pair[1])
    return out


def classify(text: str, ranking: list[tuple[str, float]]) -> Decision:
    """The request(s) in one customer message, or the choice to offer; see the module doc.

    An empty ranking (no NLU at hand) lets the text alone decide.
    """
    cues = load_cues()
    intents = request_intents()
    ranked = _ranking(ranking)
    top_intent, top_conf = ranked[0] if ranked else (None, None)
    top_type = intents.get(top_intent) if top_intent else None

    def decision(types: Sequence[str], ambiguous: Sequence[str], reason: str) -> Decision:
        return Decision(list(types), list(ambiguous), reason, top_intent, top_conf)

    if ranked and top_type is None:
        return decision([], [], REASON_NOT_A_REQUEST)
    if top_type == "complaint":
        return decision(["complaint"], [], REASON_COMPLAINT)

    mentions = _mentions(text_lemmas(text), cues)
    decided: list[str] = []
    for m in mentions:
        if m.kind == "decided" and m.types[0] not in decided:
            decided.append(m.types[0])
    choices: list[str] = []
    choice_reason = ""
    for m in mentions:
        if m.kind == "decided":
            continue
        if any(t in decided for t in m.types):
            continue  # 「全部削除して。もう要らない」: the open word refers to what is decided
        choice_reason = choice_reason or m.kind
        choices.extend(t for t in m.types if t not in choices)

    if choices:
        return decision(decided, choices, choice_reason)
    if decided:
        return decision(decided, [], REASON_MULTIPLE if len(decided) > 1 else REASON_TEXT)
    if top_type is None:
        return decision([], [], REASON_NO_CUE)
    if len(ranked) > 1:
        second_type = intents.get(ranked[1][0])
        close = (top_conf or 0.0) - ranked[1][1] <= cues.margin + _EPSILON
        if second_type and second_type != top_type and close:
            return decision([], [top_type, second_type], REASON_NLU_CLOSE)
    return decision([top_type], [], REASON_NLU)


# --- channels and recipients ----------------------------------------------------------------


def extract_channels(text: str) -> list[str]:
    """Marketing channels named in the text (phone, email, post, catalogue, sms), in order."""
    out: list[str] = []
    for m in load_cues().channels.find(text_lemmas(text)):
        if not m.label.startswith("_") and m.label not in out:
            out.append(m.label)
    return out


def extract_recipients(text: str) -> list[str]:
    """Known third-party recipients named in the text (Google, LINE, 広告配信事業者 …), in order.

    Only names from cues.yml; the form falls back to the customer's own words.
    """
    out: list[str] = []
    for m in load_cues().recipients.find(text_lemmas(text)):
        if m.label not in out:
            out.append(m.label)
    return out


def says_all(text: str) -> bool:
    """The text says 「全部」「すべて」 …"""
    return bool(load_cues().all_words.find(text_lemmas(text)))
