"""Telling a question about a request (「開示の手続きは？」) from the request itself."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from madoguchi.requests.types import data_dir
from madoguchi.text.normalize import normalize_text

_CLOSING = "。.!！ 　〜ー…"


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    return yaml.safe_load((data_dir() / "questions.yml").read_text(encoding="utf-8"))


def is_question_about(text: str) -> bool:
    """Whether the customer asks how a request works rather than making it."""
    rules = _rules()
    body = normalize_text(text).strip().rstrip(_CLOSING)
    if not body or any(body.endswith(e) for e in rules["request_endings"]):
        return False
    asks = any(body.endswith(e) for e in rules["question_endings"])
    return (asks and any(w in body for w in rules["question_words"])) or body.endswith(("？", "?"))


def looks_like_question(text: str) -> bool:
    """Whether the message is phrased as a question (and not as a polite request)."""
    rules = _rules()
    body = normalize_text(text).strip().rstrip(_CLOSING)
    if not body or any(body.endswith(e) for e in rules["request_endings"]):
        return False
    return any(body.endswith(e) for e in rules["question_endings"] if e not in ("の",))


def is_wish(text: str) -> bool:
    """Whether the message states a wish (「止めてほしいです」「消してください」「開示して
    もらえますか」) rather than asking about one."""
    rules = _rules()
    body = normalize_text(text).strip().rstrip(_CLOSING)
    if not body or body.endswith(("？", "?")):
        return False
    endings = (*rules["request_endings"], *rules.get("wish_endings", ()))
    return any(body.endswith(e) for e in endings)
