"""The privacy notice as sections with the ids of DESIGN.md's contract.

Answers, the NLU intents (`notice_2_4`) and the `notice_section` slot all name a section by the
same id, so the id set is fixed here and the loader refuses a data file that drifts from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

# DESIGN.md "Contracts": the notice section ids, in the notice's order.
EXPECTED_IDS: tuple[str, ...] = (
    "0",
    "1",
    "2",
    *(f"2.{n}" for n in range(1, 10)),
    "3",
    "4",
    "4.1",
    "4.2",
    "5",
    "6",
    *(f"6.{n}" for n in range(1, 8)),
    "7",
)

INTENT_PREFIX = "notice_"


class NoticeError(ValueError):
    """The notice data is broken; the message says which file and what to fix."""


@dataclass(frozen=True)
class Section:
    """One citable part of the notice; `text` is the notice's own wording."""

    id: str
    parent: str | None
    title: str
    citation: str
    text: str
    short: str | None = None
    summary: str | None = None
    keywords: tuple[str, ...] = ()

    @property
    def intent(self) -> str:
        """The NLU intent that asks about this section (2.4 → notice_2_4)."""
        return INTENT_PREFIX + self.id.replace(".", "_")

    @property
    def top_level(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def lines(self) -> tuple[str, ...]:
        """Non-empty lines of the text, stripped."""
        return tuple(line.strip() for line in self.text.splitlines() if line.strip())


@dataclass(frozen=True)
class Limit:
    """A question the notice does not answer exactly, with the honest reply to it.

    `cues` is a list of alternatives; an alternative matches when every one of its groups has a
    term in the question (a term is matched as a run of lemmas). `unless` terms veto the limit;
    `examples` are questions it must catch.
    """

    id: str
    section: str
    cues: tuple[tuple[tuple[str, ...], ...], ...]
    reply: str
    unless: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeVersion:
    """Which notice a customer saw: answers and tickets record the `id`; `number` counts the
    revisions (a new one is higher), `effective` is the day it took effect."""

    id: str
    number: int
    effective: date

    @property
    def label(self) -> str:
        """How people read it: 「第1版（2023年3月28日施行）」."""
        day = self.effective
        return f"第{self.number}版（{day.year}年{day.month}月{day.day}日施行）"


@dataclass(frozen=True, eq=False)
class Notice:
    """All sections in the notice's order, with the reply templates and retrieval settings."""

    sections: tuple[Section, ...]
    templates: Mapping[str, object] = field(default_factory=dict)
    content_pos: frozenset[str] = frozenset()
    stop_lemmas: frozenset[str] = frozenset()
    joined_lines: tuple[tuple[str, ...], ...] = ()
    limits: tuple[Limit, ...] = ()
    version: NoticeVersion | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.id: s for s in self.sections})
        object.__setattr__(self, "_by_intent", {s.intent: s for s in self.sections})

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def __len__(self) -> int:
        return len(self.sections)

    def __contains__(self, section_id: object) -> bool:
        return section_id in self._by_id  # type: ignore[attr-defined]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sections)

    def get(self, section_id: str) -> Section:
        """The section; KeyError names the known ids, since a typo here is a programming error."""
        try:
            return self._by_id[section_id]  # type: ignore[attr-defined]
        except KeyError:
            raise KeyError(
                f"no notice section {section_id!r}; known: {', '.join(self.ids)}"
            ) from None

    def children(self, section_id: str) -> tuple[Section, ...]:
        return tuple(s for s in self.sections if s.parent == section_id)

    def by_intent(self, intent: str) -> Section | None:
        """The section an NLU intent asks about, None for intents that are not notice questions."""
        return self._by_intent.get(intent)  # type: ignore[attr-defined]

    def subtree_text(self, section_id: str) -> str:
        """The section's text and its sub-items' text, for checks that accept either."""
        return "\n".join(
            s.text for s in self.sections if s.id == section_id or s.parent == section_id
        )

    def template(self, name: str) -> str:
        value = self.templates.get(name, "")
        return value if isinstance(value, str) else ""

    def template_list(self, name: str) -> tuple[str, ...]:
        value = self.templates.get(name, ())
        return tuple(value) if isinstance(value, (list, tuple)) else ()
