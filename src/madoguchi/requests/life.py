"""What the chat says about a request's legal life, from data: §4 (2) in short, the fee of ①
and ② before the customer confirms, how a disclosure is delivered, which disclosure is asked
for, and the documents an agent sends.

The words are data/dialogue/request_life.yml; the ids, documents, methods and fees are
data/requests/lifecycle.yml's (tickets/lifecycle.py), so the desk and the chat cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.settings import project_root
from madoguchi.requests.types import load_catalogue
from madoguchi.text.normalize import normalize_text
from madoguchi.tickets.lifecycle import Rules, data_file, load_rules

LIFE_FILE = Path("data") / "dialogue" / "request_life.yml"


@dataclass(frozen=True)
class Procedure:
    """§4 (2) (or §5) for the chat: the short text, the button to the full passage, and what is
    said instead once the short text has been told in the conversation."""

    section: str
    short: str
    button: str
    again: str


@lru_cache(maxsize=1)
def life_words() -> Mapping[str, Any]:
    return yaml.safe_load((project_root() / LIFE_FILE).read_text(encoding="utf-8"))


def procedure(section_id: str) -> Procedure:
    entry = life_words()["procedure"][section_id]
    return Procedure(section_id, entry["short"].strip(), entry["button"], entry["again"].strip())


def _first_cue(text: str, cues: Mapping[str, list[str]]) -> str | None:
    """The id whose cue appears first in the text (case and width folded)."""
    flat = normalize_text(text).lower()
    best: tuple[int, str] | None = None
    for key, words in cues.items():
        for word in words:
            at = flat.find(normalize_text(str(word)).lower())
            if at >= 0 and (best is None or at < best[0]):
                best = (at, key)
    return best[1] if best else None


def delivery_wish(text: str, rules: Rules | None = None) -> str | None:
    """The delivery method (lifecycle.yml id) the customer's words ask for, if any."""
    method = _first_cue(text, life_words()["delivery"]["cues"])
    methods = (rules or load_rules()).delivery_methods
    return method if method in methods else None


def disclosure_kind(text: str, rules: Rules | None = None) -> str | None:
    """`provision_records` when the words ask for the records of provision to third parties
    (Art. 33(5)); None otherwise (the held data, the default kind)."""
    kinds = life_words()["disclosure_kinds"]
    found = _first_cue(text, {k: v["cues"] for k, v in kinds.items()})
    return found if found in (rules or load_rules()).disclosure_kinds else None


def disclosure_plain(kind: str | None) -> str | None:
    """How the confirmation names a disclosure of that kind (None: the type's own words)."""
    entry = life_words()["disclosure_kinds"].get(kind or "")
    return entry["plain"] if entry else None


@lru_cache(maxsize=1)
def disclosure_coverage() -> Mapping[str, str]:
    """lifecycle.yml's disclosure_coverage: what disclosure covers beyond the obvious (data to
    be deleted within six months, since 2022), as the desk (`desk`) and the chat
    (`customer`) say it: one text for both, so they cannot disagree."""
    raw = yaml.safe_load(data_file().read_text(encoding="utf-8")) or {}
    coverage = raw.get("disclosure_coverage") or {}
    if not all(isinstance(coverage.get(k), str) and coverage[k].strip()
               for k in ("desk", "customer")):
        raise ValueError("lifecycle.yml: disclosure_coverage needs desk and customer texts")
    return {k: coverage[k].strip() for k in ("desk", "customer")}


def coverage_note(text: str) -> str | None:
    """The customer's words ask about data that is about to be deleted: the sentence saying
    it is covered by disclosure all the same; None otherwise."""
    cues = life_words()["disclosure_coverage"]["cues"]
    return disclosure_coverage()["customer"] if _first_cue(text, {"soon": cues}) else None


def coverage_for_answer(question: str, section_id: str) -> str | None:
    """After a notice answer: the coverage sentence when the question asks about disclosing
    data that is about to be deleted (it names the disclosure, its answer came from a section
    of the disclosure's procedure, and it has a coverage cue); None otherwise."""
    disclosure = load_catalogue().types.get("disclosure")
    if disclosure is None or section_id not in disclosure.notice_sections:
        return None
    if normalize_text(disclosure.label) not in normalize_text(question):
        return None
    return coverage_note(question)


def delivery_answer() -> str:
    return life_words()["delivery"]["answer"].strip()


def delivery_recorded(method: str, rules: Rules | None = None) -> str:
    label = (rules or load_rules()).delivery_methods[method].label
    return life_words()["delivery"]["recorded"].format(label=label)


def fee_lines(request_types: list[str], labels: Mapping[str, str],
              rules: Rules | None = None) -> list[str]:
    """The fee sentence for each of ① and ② among the types (Art. 38); none for ③④⑤."""
    rules = rules or load_rules()
    words = life_words()["fee"]
    lines = []
    for type_id in request_types:
        if type_id not in rules.fees:
            continue
        amount = rules.fees[type_id]
        label = labels.get(type_id, type_id)
        lines.append(words["unset"].format(label=label) if amount is None
                     else words["amount"].format(label=label, amount=f"{amount:,}"))
    return lines


def agent_documents(kind: str, rules: Rules | None = None) -> str:
    """What an agent of this kind sends besides the form, as the chat says it."""
    agent = (rules or load_rules()).agent_kinds[kind]
    intro = life_words()["agent"]["documents"].format(label=agent.label)
    return "\n".join([intro, *(f"・{doc}" for doc in agent.documents)])


def agent_buttons(rules: Rules | None = None) -> list[dict[str, str]]:
    """One button per agent kind; the payload sets the agent_kind entity."""
    return [{"title": kind.label, "payload": f'/affirm{{"agent_kind": "{kind.id}"}}'}
            for kind in (rules or load_rules()).agent_kinds.values()]


def label(name: str) -> str:
    return life_words()["agent"][name]
