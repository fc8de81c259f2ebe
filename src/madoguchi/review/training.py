""""Add to training data": a misread message, masked, as an example of the right intent.

Examples go to one Rasa NLU YAML file (default `var/review/nlu_review.yml`,
MADOGUCHI_REVIEW_NLU_FILE to change it) that `rasa data validate` accepts next to data/nlu.
A developer moves the examples into data/nlu (or points the variable at data/nlu/review.yml)
and retrains. The text written is always the masked text: personal data never becomes
training data.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from madoguchi.conversation.events import load
from madoguchi.infra.settings import project_root, settings
from madoguchi.text.characters import without_noncharacters
from madoguchi.tickets import Conflict, InvalidField

from .masking import ConversationMasker

HEADER = (
    "# Examples labelled by supervisors in the desk's review (madoguchi.review.training).\n"
    "# Masked text only. Move them into data/nlu/ and retrain to use them.\n"
)


def review_file() -> Path:
    return settings().review_nlu_file


def domain_intents(root: Path | None = None) -> list[str]:
    domain = yaml.safe_load((root or project_root()).joinpath("domain.yml").read_text("utf-8"))
    return [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]


def _examples(path: Path) -> dict[str, list[str]]:
    """{intent: [example, …]} of one NLU YAML file."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, list[str]] = {}
    for block in data.get("nlu") or []:
        if isinstance(block, dict) and "intent" in block:
            lines = str(block.get("examples") or "").splitlines()
            out.setdefault(block["intent"], []).extend(
                line.strip()[2:].strip() for line in lines if line.strip().startswith("- "))
    return out


def _write(path: Path, examples: dict[str, list[str]]) -> None:
    """Rasa's own layout (a literal block of "- " lines), written atomically."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"', "nlu:"]
    for intent, texts in sorted(examples.items()):
        if texts:
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {t}" for t in texts]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Several desk workers may label at once: one writer at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def example_text(row: Any, asked_slot: str | None = None) -> str:
    """The masked text of a customer message, as one line."""
    event = load(row.data)
    if (row.type_name or event.get("event")) != "user":
        raise InvalidField("学習データにできるのはお客様のメッセージだけです (not a user message)")
    raw = str(event.get("text") or "")
    # Noncharacters (U+FFFF …) would make the YAML file unreadable for Rasa and for us.
    text = " ".join(without_noncharacters(ConversationMasker().customer_text(raw, asked_slot))
                    .split())
    # ASCII brackets would read as Rasa's entity markup "[words](entity)".
    text = text.translate(str.maketrans("[]()", "［］（）"))
    if not text or text.startswith("/"):
        raise InvalidField("ボタン操作や空のメッセージは学習データにできません")
    return text


def add_example(text: str, intent: str, *, root: Path | None = None,
                path: Path | None = None) -> dict[str, Any]:
    """Append `text` under `intent`; an example already there is not repeated.

    The same words under another intent (here or in data/nlu) would make the training data
    contradict itself, so that is a Conflict naming the other intent.
    """
    root = root or project_root()
    if intent not in domain_intents(root):
        raise InvalidField(
            f"intent {intent!r} はドメインにありません (not an intent of domain.yml)")
    path = path or review_file()
    with _locked(path):
        mine = _examples(path)
        everywhere: dict[str, str] = {}
        for nlu_file in sorted((root / "data" / "nlu").glob("*.yml")):
            if nlu_file.resolve() == path.resolve():
                continue
            for other, texts in _examples(nlu_file).items():
                for t in texts:
                    everywhere.setdefault(t, other)
        for other, texts in mine.items():
            for t in texts:
                everywhere.setdefault(t, other)
        labelled = everywhere.get(text)
        if labelled is not None and labelled != intent:
            raise Conflict(f"この例文は既に {labelled} の学習データにあります "
                           f"(already an example of {labelled})")
        added = labelled is None
        if added:
            mine.setdefault(intent, []).append(text)
            _write(path, mine)
    return {"file": str(path), "intent": intent, "text": text, "added": added}


def replace_examples(path: Path, replacements: dict[str, str]) -> int:
    """Retention: each example equal to a key becomes its value (the text of the anonymised
    message); an example that would then repeat is dropped. How many changed."""
    if not path.is_file() or not replacements:
        return 0
    with _locked(path):
        examples = _examples(path)
        changed = 0
        for intent, texts in examples.items():
            out: list[str] = []
            for text in texts:
                new = replacements.get(text, text)
                changed += new != text
                if new not in out:
                    out.append(new)
            examples[intent] = out
        if changed:
            _write(path, examples)
    return changed
