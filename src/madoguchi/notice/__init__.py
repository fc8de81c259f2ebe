"""The privacy notice as data: sections with contract ids, answers with citations, retrieval."""

from madoguchi.notice.answer import Answer, compose_answer, match_limit
from madoguchi.notice.loader import coverage_problems, load_notice
from madoguchi.notice.model import EXPECTED_IDS, Limit, Notice, NoticeError, NoticeVersion, Section
from madoguchi.notice.retrieval import BM25, SectionRetriever

__all__ = [
    "BM25",
    "EXPECTED_IDS",
    "Answer",
    "Limit",
    "Notice",
    "NoticeError",
    "NoticeVersion",
    "Section",
    "SectionRetriever",
    "compose_answer",
    "coverage_problems",
    "load_notice",
    "match_limit",
]
