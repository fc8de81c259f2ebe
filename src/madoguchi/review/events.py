"""How the review judges what NLU made of a message (reading events: madoguchi.conversation)."""

from __future__ import annotations

from madoguchi.infra.settings import settings


def low_confidence_threshold() -> float:
    """Below this, the best real intent's confidence counts as low.

    MADOGUCHI_REVIEW_LOW_CONFIDENCE, default 0.5.
    """
    return settings().review_low_confidence
