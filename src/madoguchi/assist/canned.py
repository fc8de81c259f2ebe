"""Canned replies as data (data/desk/canned_replies.yml): load, fill from a ticket, search.

Operators ask every desk for variables in canned replies; ours come from the ticket. A value
the ticket does not have is never sent blank: the placeholder stays in the text, visible, for
the operator to fill, and `missing` names it. A placeholder the code cannot fill is a mistake
in the data file, so loading refuses it with the reply and the name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from madoguchi.infra.data_files import data_folder, read_yaml
from madoguchi.notice.model import EXPECTED_IDS
from madoguchi.requests.types import load_catalogue
from madoguchi.text.tokenize import katakana, reading

REPLIES_FILE = "canned_replies.yml"
JST = ZoneInfo("Asia/Tokyo")

# Every placeholder a reply may use; values come from `placeholder_values`.
PLACEHOLDERS: tuple[str, ...] = (
    "customer_name",
    "reference",
    "due_date",
    "request_type",
    "operator_name",
    "channels",
    "recipients",
    "correction_item",
)

# {name}: what str.format would read as a field; {{ and }} are literal braces.
_FIELD = re.compile(r"(?<!\{)\{([^{}]*)\}(?!\})")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LIST_JOIN = "、"


class CannedError(ValueError):
    """The canned replies file says something the desk cannot use; the message says what."""


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str
    tags: tuple[str, ...]
    sections: tuple[str, ...]
    body: str

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholders of the body, in order of first use."""
        return tuple(dict.fromkeys(_FIELD.findall(self.body)))


@dataclass(frozen=True)
class Filled:
    """A reply ready to edit: `text` with every known value in place, `missing` left visible."""

    id: str
    text: str
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


# --- loading ---------------------------------------------------------------------------------


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise CannedError(f"{where} must be a list of words")
    return tuple(str(v) for v in value)


def parse_replies(raw: Any, source: str = REPLIES_FILE) -> tuple[CannedReply, ...]:
    """The replies of a parsed YAML document, checked; CannedError says which reply is wrong."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("replies"), list):
        raise CannedError(f"{source}: expected a mapping with a 'replies:' list")
    replies: list[CannedReply] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw["replies"]):
        if not isinstance(entry, Mapping):
            raise CannedError(f"{source}: reply #{index + 1} is not a mapping")
        reply_id = str(entry.get("id") or "")
        where = f"{source}: canned reply {reply_id or '#' + str(index + 1)!r}"
        if not _ID.match(reply_id):
            raise CannedError(f"{where}: id must be lower-case ASCII (a-z, 0-9, _)")
        if reply_id in seen:
            raise CannedError(f"{where}: the id is used twice")
        seen.add(reply_id)
        title, body = entry.get("title"), entry.get("body")
        if not isinstance(title, str) or not title.strip():
            raise CannedError(f"{where}: needs a title")
        if not isinstance(body, str) or not body.strip():
            raise CannedError(f"{where}: needs a body")
        sections = _strings(entry.get("sections"), f"{where}: sections")
        unknown_sections = [s for s in sections if s not in EXPECTED_IDS]
        if unknown_sections:
            raise CannedError(
                f"{where}: no notice section {', '.join(unknown_sections)}; "
                f"known: {', '.join(EXPECTED_IDS)}"
            )
        reply = CannedReply(
            id=reply_id,
            title=title.strip(),
            tags=_strings(entry.get("tags"), f"{where}: tags"),
            sections=sections,
            body=body.strip(),
        )
        for name in reply.placeholders:
            if name not in PLACEHOLDERS:
                raise CannedError(
                    f"{where}: unknown placeholder {{{name}}}; known: "
                    + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                )
        replies.append(reply)
    return tuple(replies)


def data_dir() -> Path:
    """The desk's data folder (data/desk), where the canned replies are."""
    return data_folder("desk", REPLIES_FILE)


def load_replies(path: Path | None = None) -> tuple[CannedReply, ...]:
    """Read and check the canned replies (default: data/desk/canned_replies.yml)."""
    path = path or data_dir() / REPLIES_FILE
    return parse_replies(read_yaml(path, CannedError), str(path))


@lru_cache(maxsize=1)
def default_replies() -> tuple[CannedReply, ...]:
    return load_replies()


# --- filling ---------------------------------------------------------------------------------


def _due_date(value: Any) -> str | None:
    """A due date as customers read it (2026年11月27日), in Japan's time."""
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value.strip()
    if isinstance(value, datetime):
        value = (value.astimezone(JST) if value.tzinfo else value).date()
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日"
    return None


def _join(values: Iterable[Any], labels: Mapping[str, str] | None = None) -> str | None:
    words = [str((labels or {}).get(str(v), v)) for v in values if v not in (None, "")]
    return _LIST_JOIN.join(words) or None


def _details(ticket: Mapping[str, Any], request_type: str) -> Mapping[str, Any]:
    details = ticket.get("details") or {}
    value = details.get(request_type) if isinstance(details, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def placeholder_values(ticket: Mapping[str, Any]) -> dict[str, str]:
    """The placeholders a ticket-like mapping fills (a ticket's to_dict, plus operator_name).

    request_type and channels use the words of data/requests/types.yml; operator_name falls
    back to the assignee's user name.
    """
    catalogue = load_catalogue()
    type_labels = {t.id: t.label for t in catalogue.types.values()}
    values: dict[str, str | None] = {
        "customer_name": str(ticket.get("customer_name") or "").strip() or None,
        "reference": str(ticket.get("reference") or "").strip() or None,
        "due_date": _due_date(ticket.get("due_date") or ticket.get("due_at")),
        "request_type": _join(ticket.get("request_types") or [], type_labels),
        "operator_name": str(ticket.get("operator_name") or ticket.get("assignee") or "").strip()
        or None,
        "channels": _join(
            _details(ticket, "marketing_optout").get("channels") or [], catalogue.channel_labels
        ),
        "recipients": _join(_details(ticket, "third_party_stop").get("recipients") or []),
        "correction_item": str(_details(ticket, "correction").get("item") or "").strip() or None,
    }
    return {k: v for k, v in values.items() if v}


def fill(reply: CannedReply, ticket: Mapping[str, Any]) -> Filled:
    """The reply with the ticket's values; a placeholder without one stays as {name}."""
    values = placeholder_values(ticket)
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in values:
            return values[name]
        if name not in missing:
            missing.append(name)
        return match.group(0)

    text = _FIELD.sub(substitute, reply.body).replace("{{", "{").replace("}}", "}")
    return Filled(reply.id, text, tuple(missing))


def placeholders_left(text: str) -> tuple[list[str], list[str]]:
    """(known placeholders still in the text, unknown {names}) of what an operator is about
    to send: either means it is not ready (a value left blank, or a typo in a brace)."""
    known: list[str] = []
    unknown: list[str] = []
    for name in dict.fromkeys(_FIELD.findall(text or "")):
        if name in PLACEHOLDERS:
            known.append(name)
        elif _ID.match(name):
            unknown.append(name)
    return known, unknown


# --- search (the reply box's `/` command) ----------------------------------------------------


def search_key(text: str) -> str:
    """What search compares: NFKC, lower case, hiragana as katakana, no white space."""
    return "".join(katakana(unicodedata.normalize("NFKC", text).lower()).split())


@lru_cache(maxsize=512)
def _reading_key(text: str) -> str:
    return search_key(reading(text))


def _fields(reply: CannedReply) -> list[str]:
    return [reply.id, reply.title, *reply.tags]


def _rank(reply: CannedReply, query: str) -> int | None:
    """0 a field starts with the query, 1 contains it, 2 a reading starts with it, 3 a reading
    contains it (two characters or more: one kana is in too many readings); None no match."""
    keys = [search_key(f) for f in _fields(reply)]
    if any(k.startswith(query) for k in keys):
        return 0
    if any(query in k for k in keys):
        return 1
    readings = [_reading_key(f) for f in [reply.title, *reply.tags]]
    if any(r.startswith(query) for r in readings):
        return 2
    if len(query) >= 2 and any(query in r for r in readings):
        return 3
    return None


def search(query: str, replies: Sequence[CannedReply] | None = None) -> list[CannedReply]:
    """Replies for what follows `/` in the reply box: prefix matches first, then substrings,
    then matches by reading (てすうりょう finds 手数料); file order within each. An empty
    query lists them all."""
    replies = default_replies() if replies is None else replies
    key = search_key(query.lstrip("/／"))
    if not key:
        return list(replies)
    ranked = [(rank, i, r) for i, r in enumerate(replies) if (rank := _rank(r, key)) is not None]
    return [r for _, _, r in sorted(ranked, key=lambda t: (t[0], t[1]))]


# --- pairing with passages -------------------------------------------------------------------


def for_sections(
    section_ids: Sequence[str], replies: Sequence[CannedReply] | None = None
) -> list[CannedReply]:
    """Replies that go with the given notice sections (best passage first).

    A reply naming the section itself comes before one naming only its parent or a sub-item;
    earlier sections before later ones; file order breaks ties.
    """
    replies = default_replies() if replies is None else replies
    scored: list[tuple[int, int, int, CannedReply]] = []
    for index, reply in enumerate(replies):
        best: tuple[int, int] | None = None
        for position, section_id in enumerate(section_ids):
            for candidate in reply.sections:
                if candidate == section_id:
                    score = (position, 0)
                elif candidate.split(".")[0] == section_id.split(".")[0]:
                    score = (position, 1)
                else:
                    continue
                best = score if best is None or score < best else best
        if best is not None:
            scored.append((best[0], best[1], index, reply))
    return [r for *_, r in sorted(scored, key=lambda t: t[:3])]
