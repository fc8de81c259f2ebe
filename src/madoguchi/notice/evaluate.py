"""How well BM25 alone finds the section of held-out questions (eval/notice_questions.yml).

Run `python -m madoguchi.notice.evaluate [questions.yml]` for the figures; the tests assert a
floor on them, so a notice or keyword change that hurts retrieval shows up.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from madoguchi.notice.loader import load_notice
from madoguchi.notice.model import NoticeError
from madoguchi.notice.retrieval import SectionRetriever


@dataclass(frozen=True)
class Question:
    text: str
    section: str


@dataclass
class Report:
    total: int = 0
    top_level_hits: int = 0
    exact_hits: int = 0
    misses: list[tuple[Question, str | None]] = field(default_factory=list)

    @property
    def top_level_accuracy(self) -> float:
        return self.top_level_hits / self.total if self.total else 0.0

    @property
    def exact_accuracy(self) -> float:
        return self.exact_hits / self.total if self.total else 0.0

    def summary(self) -> str:
        return (
            f"BM25 on {self.total} held-out questions: top-level accuracy "
            f"{self.top_level_accuracy:.3f}, exact section accuracy {self.exact_accuracy:.3f}"
        )


def load_questions(path: Path) -> list[Question]:
    """The held-out list; errors name the entry, since this file is edited by hand."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise NoticeError(f"{path}: expected a list of {{text, section}}")
    questions = []
    for i, item in enumerate(data):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("text"), str)
            and isinstance(item.get("section"), str)
        ):
            raise NoticeError(f"{path}: entry {i} needs text and a quoted section id")
        questions.append(Question(item["text"], item["section"]))
    return questions


def evaluate(retriever: SectionRetriever, questions: list[Question]) -> Report:
    report = Report()
    for q in questions:
        ranked = retriever.rank(q.text, k=1)
        predicted = ranked[0][0] if ranked else None
        report.total += 1
        top_ok = predicted is not None and predicted.split(".")[0] == q.section.split(".")[0]
        report.top_level_hits += top_ok
        report.exact_hits += predicted == q.section
        if predicted != q.section:
            report.misses.append((q, predicted))
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path("eval/notice_questions.yml")
    report = evaluate(SectionRetriever(load_notice()), load_questions(path))
    for q, predicted in report.misses:
        print(f"  expected {q.section:>4}  got {predicted or '-':>4}  {q.text}")
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
