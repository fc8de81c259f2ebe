"""Reading and validating data/notice/: sections.yml, limits.yml and the original notice.

Every reply about the notice comes from these files, so a broken or drifting file must stop the
assistant at start-up with a message that says what to fix, not produce a wrong answer later.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.settings import load_settings
from madoguchi.notice.model import (
    EXPECTED_IDS,
    Limit,
    Notice,
    NoticeError,
    NoticeVersion,
    Section,
)
from madoguchi.text.sentences import split_sentences

SECTIONS_FILE = "sections.yml"
LIMITS_FILE = "limits.yml"

# Templates the answer composer relies on.
REQUIRED_TEMPLATES = ("reply", "list_item", "list_marker", "note_marker", "ellipsis")

_WHITESPACE = re.compile(r"\s+")
# 「…」 in a limit's reply quotes the notice; it must be found there.
_QUOTE = re.compile(r"「([^「」]+)」")


def sentence_key(sentence: str) -> str:
    """What coverage compares: the sentence without any white space."""
    return _WHITESPACE.sub("", sentence)


def source_sentences(
    original_text: str, joined_lines: Iterable[Sequence[str]] = ()
) -> tuple[list[tuple[int, str]], list[str]]:
    """(line number, sentence) of the original, after re-joining the declared broken lines."""
    lines = [(n, line.strip()) for n, line in enumerate(original_text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    problems: list[str] = []
    for join in joined_lines:
        parts = [p.strip() for p in join]
        width = len(parts)
        for i in range(len(lines) - width + 1):
            if [line for _, line in lines[i : i + width]] == parts:
                lines[i : i + width] = [(lines[i][0], "".join(parts))]
                break
        else:
            problems.append(
                "joined_lines: the original has no consecutive lines "
                + " / ".join(repr(p) for p in parts)
                + " (remove the entry if the notice no longer breaks that sentence)"
            )
    sentences = [(n, s) for n, line in lines for s in split_sentences(line)]
    return sentences, problems


def coverage_problems(notice: Notice, original_text: str) -> list[str]:
    """Differences between the sections' text and the original notice, as readable messages.

    Every sentence of the original must be in exactly one section, no section may hold a
    sentence the original lacks, and each section keeps the original order of its sentences.
    White space and blank lines do not count; anything else does.
    """
    original, problems = source_sentences(original_text, notice.joined_lines)
    wanted = Counter(sentence_key(s) for _, s in original)
    where: dict[str, list[str]] = {}
    for section in notice.sections:
        for line in section.lines:
            for sentence in split_sentences(line):
                where.setdefault(sentence_key(sentence), []).append(section.id)
    have = Counter({key: len(ids) for key, ids in where.items()})

    for n, sentence in original:
        key = sentence_key(sentence)
        if have[key] < wanted[key]:
            problems.append(f"original line {n} is in no section: {sentence!r}")
            have[key] += 1  # report each missing occurrence once
    for key, ids in where.items():
        if key not in wanted:
            problems.append(f"section {ids[0]} holds text the original lacks: {key!r}")
        elif len(ids) > wanted[key]:
            problems.append(
                f"sentence {key!r} is in sections {', '.join(ids)} but "
                f"{wanted[key]} time(s) in the original"
            )

    order = [sentence_key(s) for _, s in original]
    for section in notice.sections:
        keys = [sentence_key(s) for line in section.lines for s in split_sentences(line)]
        remaining = iter(order)
        if not all(any(key == k for k in remaining) for key in keys):
            problems.append(f"section {section.id}: sentences are not in the original's order")
    return problems


def _read_yaml(path: Path) -> Any:
    if not path.is_file():
        raise NoticeError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise NoticeError(f"{path}: not valid YAML: {exc}") from exc


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise NoticeError(f"{where}: expected a list of words")
    return tuple(str(v) for v in value)


def _section(entry: Any, index: int, path: Path) -> Section:
    where = f"{path}: sections[{index}]"
    if not isinstance(entry, dict):
        raise NoticeError(f"{where}: expected a mapping with id, parent, title, citation, text")
    raw_id = entry.get("id")
    if not isinstance(raw_id, str):
        raise NoticeError(
            f'{where}: id must be a quoted string such as "2.4" (got {raw_id!r}); '
            "an unquoted 2.4 is read as a number"
        )
    where = f"{path}: section {raw_id}"
    parent = entry.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise NoticeError(f"{where}: parent must be a quoted id or null (got {parent!r})")
    fields: dict[str, str] = {}
    for name in ("title", "citation", "text"):
        value = entry.get(name)
        if not isinstance(value, str) or not value.strip():
            raise NoticeError(f"{where}: {name} is missing or empty")
        fields[name] = value.strip() if name != "text" else value.strip("\n")
    optional: dict[str, str | None] = {}
    for name in ("short", "summary"):
        value = entry.get(name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise NoticeError(f"{where}: {name} must be text when given")
        optional[name] = value.strip() if isinstance(value, str) else None
    unknown = set(entry) - {
        "id",
        "parent",
        "title",
        "citation",
        "text",
        "short",
        "summary",
        "keywords",
    }
    if unknown:
        raise NoticeError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Section(
        id=raw_id,
        parent=parent,
        title=fields["title"],
        citation=fields["citation"],
        text=fields["text"],
        short=optional["short"],
        summary=optional["summary"],
        keywords=_str_list(entry.get("keywords"), f"{where}: keywords"),
    )


def _check_structure(sections: Sequence[Section], path: Path) -> None:
    seen: set[str] = set()
    for s in sections:
        if s.id in seen:
            raise NoticeError(f"{path}: section id {s.id} appears twice")
        seen.add(s.id)
    missing = [i for i in EXPECTED_IDS if i not in seen]
    extra = [i for i in seen if i not in EXPECTED_IDS]
    if missing or extra:
        raise NoticeError(
            f"{path}: section ids must be exactly those of DESIGN.md; "
            f"missing: {', '.join(missing) or '-'}; unexpected: {', '.join(sorted(extra)) or '-'}"
        )
    by_id = {s.id: s for s in sections}
    for s in sections:
        expected_parent = s.id.rsplit(".", 1)[0] if "." in s.id else None
        if s.parent is not None and s.parent not in by_id:
            raise NoticeError(f"{path}: section {s.id}: parent {s.parent} does not exist")
        if s.parent != expected_parent:
            raise NoticeError(
                f"{path}: section {s.id}: parent must be {expected_parent!r}, not {s.parent!r}"
            )
        problem = citation_problem(s, by_id.get(s.parent) if s.parent else None)
        if problem:
            raise NoticeError(f"{path}: section {s.id}: {problem}")


def citation_problem(section: Section, parent: Section | None) -> str | None:
    """Why a citation does not name its section the way replies do, or None when it does.

    Numbered sections read 「2.個人情報の利用目的」, sub-items add their number to the parent's
    (「2.個人情報の利用目的 (4)」) and, where the notice gives them a heading, that heading
    (「6.安全管理措置 (1) 基本方針の策定」). Section 0 has no number; its citation is free.
    """
    if section.id == "0":
        return None
    if parent is None:
        if section.citation != f"{section.id}.{section.title}":
            return f"citation must be {section.id}.{section.title!r}, not {section.citation!r}"
        return None
    number = section.id.rsplit(".", 1)[1]
    base = f"{parent.citation} ({number})"
    if section.citation not in (base, f"{base} {section.title}"):
        return f"citation must start with {base!r}, not {section.citation!r}"
    return None


def _limits(
    data: Any, path: Path, sections: dict[str, Section], notice_text: dict[str, str]
) -> tuple[Limit, ...]:
    if data is None:
        return ()
    entries = data.get("limits") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise NoticeError(f"{path}: expected a top-level 'limits:' list")
    limits: list[Limit] = []
    for index, entry in enumerate(entries):
        where = f"{path}: limits[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise NoticeError(f"{where}: expected a mapping with id, section, cues, reply")
        where = f"{path}: limit {entry['id']}"
        section = entry.get("section")
        if not isinstance(section, str) or section not in sections:
            raise NoticeError(f"{where}: section must be a quoted section id (got {section!r})")
        reply = entry.get("reply")
        if not isinstance(reply, str) or not reply.strip():
            raise NoticeError(f"{where}: reply is missing or empty")
        cues = entry.get("cues")
        if (
            not isinstance(cues, list)
            or not cues
            or not all(isinstance(alt, list) and alt for alt in cues)
            or not all(isinstance(g, list) and g for alt in cues for g in alt)
        ):
            raise NoticeError(
                f"{where}: cues must be a list of alternatives, each a list of non-empty word "
                "groups, e.g. [[[何日, 日数], [開示, 回答]]]"
            )
        parsed = tuple(tuple(_str_list(group, f"{where}: cues") for group in alt) for alt in cues)
        text = sentence_key(notice_text[section])
        for quote in _QUOTE.findall(reply):
            if sentence_key(quote) not in text:
                raise NoticeError(
                    f"{where}: the reply quotes 「{quote}」 but section {section} "
                    "(with its sub-items) does not say that"
                )
        limits.append(
            Limit(
                id=entry["id"],
                section=section,
                cues=parsed,
                reply=reply.strip(),
                unless=_str_list(entry.get("unless"), f"{where}: unless"),
                examples=_str_list(entry.get("examples"), f"{where}: examples"),
            )
        )
    ids = [limit.id for limit in limits]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise NoticeError(f"{path}: limit id(s) {', '.join(duplicates)} appear more than once")
    return tuple(limits)


# A version id names a folder under versions/: letters, digits, dots and hyphens.
_VERSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$")


def parse_version(data: Any, path: Path) -> NoticeVersion:
    """The notice's `version` (revision number), `id` and `effective` date from sections.yml."""
    number, version_id, effective = data.get("version"), data.get("id"), data.get("effective")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise NoticeError(f"{path}: version must be the revision number (1, 2, …)")
    if not isinstance(version_id, str) or not _VERSION_ID.match(version_id):
        raise NoticeError(
            f"{path}: id must be a quoted name of letters, digits, dots or hyphens, e.g. \"v1\" "
            f"(got {version_id!r}); answers and tickets record it"
        )
    if isinstance(effective, str):
        try:
            effective = date.fromisoformat(effective)
        except ValueError:
            effective = None
    if not isinstance(effective, date):
        raise NoticeError(f"{path}: effective must be the day the notice took effect, e.g. "
                          "2023-03-28")
    return NoticeVersion(id=version_id, number=number, effective=effective)


def load_notice(directory: Path | None = None) -> Notice:
    """Load and validate data/notice (default: the settings' notice_dir)."""
    if directory is None:
        directory = load_settings().notice_dir
    directory = Path(directory)
    path = directory / SECTIONS_FILE
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise NoticeError(f"{path}: expected a mapping with a 'sections:' list")

    version = parse_version(data, path)
    sections = tuple(_section(e, i, path) for i, e in enumerate(data["sections"]))
    _check_structure(sections, path)

    templates = data.get("templates") or {}
    if not isinstance(templates, dict):
        raise NoticeError(f"{path}: templates must be a mapping")
    missing = [t for t in REQUIRED_TEMPLATES if not isinstance(templates.get(t), str)]
    if missing:
        raise NoticeError(f"{path}: templates lack {', '.join(missing)}")
    if "{body}" not in templates["reply"] or "{citation}" not in templates["reply"]:
        raise NoticeError(f"{path}: templates.reply must contain {{body}} and {{citation}}")

    retrieval = data.get("retrieval") or {}
    if not isinstance(retrieval, dict):
        raise NoticeError(f"{path}: retrieval must be a mapping")
    joined = data.get("joined_lines") or []
    if not isinstance(joined, list) or not all(
        isinstance(j, list) and len(j) >= 2 and all(isinstance(p, str) for p in j) for j in joined
    ):
        raise NoticeError(f"{path}: joined_lines must be a list of lists of two or more lines")

    notice = Notice(
        sections=sections,
        templates=templates,
        content_pos=frozenset(_str_list(retrieval.get("content_pos"), f"{path}: content_pos")),
        stop_lemmas=frozenset(
            w.lower() for w in _str_list(retrieval.get("stop_lemmas"), f"{path}: stop_lemmas")
        ),
        joined_lines=tuple(tuple(j) for j in joined),
    )

    source_name = data.get("source")
    if not isinstance(source_name, str):
        raise NoticeError(f"{path}: 'source:' must name the original notice file")
    source = directory / source_name
    if not source.is_file():
        raise NoticeError(f"{path}: source {source} not found")
    problems = coverage_problems(notice, source.read_text(encoding="utf-8"))
    if problems:
        raise NoticeError(f"{path} does not match {source.name}:\n  " + "\n  ".join(problems))

    limits_path = directory / LIMITS_FILE
    limits: tuple[Limit, ...] = ()
    if limits_path.exists():
        by_id = {s.id: s for s in sections}
        subtree = {s.id: notice.subtree_text(s.id) for s in sections}
        limits = _limits(_read_yaml(limits_path), limits_path, by_id, subtree)
    return Notice(
        sections=notice.sections,
        templates=notice.templates,
        content_pos=notice.content_pos,
        stop_lemmas=notice.stop_lemmas,
        joined_lines=notice.joined_lines,
        limits=limits,
        version=version,
    )
