"""Fuzzing through the real servers: how many examples, and a record of every answer.

`MADOGUCHI_FUZZ_EXAMPLES` scales every fuzz test's example count (default 1: a couple of
minutes on 2 cores; `bench/fuzz.py` raises it). `MADOGUCHI_FUZZ_REPORT`, when set, is a file
that gets one JSON line per request sent (`target`, `status`, `reason`, `seconds` the request took):
the bench counts them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The real servers, the desk on them and real Chromium windows: the e2e and browser fixtures.
from tests.browser.conftest import (  # noqa: F401
    browser,
    chromium_available,
    desk,
    pytest_runtest_makereport,
)
from tests.e2e.conftest import servers, webhook_sink  # noqa: F401


def fuzz_scale() -> float:
    raw = os.environ.get("MADOGUCHI_FUZZ_EXAMPLES", "1")
    try:
        scale = float(raw)
    except ValueError:
        raise pytest.UsageError(f"MADOGUCHI_FUZZ_EXAMPLES must be a number, not {raw!r}") from None
    if scale <= 0:
        raise pytest.UsageError("MADOGUCHI_FUZZ_EXAMPLES must be positive")
    return scale


def examples(default: int) -> int:
    """The example count for a fuzz test: its default, times MADOGUCHI_FUZZ_EXAMPLES."""
    return max(1, round(default * fuzz_scale()))


def fuzz_settings(default_examples: int) -> settings:
    # No deadline: a turn through NLU, dialogue and the action server takes what it takes on a
    # shared machine; speed belongs to bench/, not to a pass/fail property.
    return settings(
        max_examples=examples(default_examples),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )


class FuzzLog:
    """Appends what each request got to MADOGUCHI_FUZZ_REPORT (nothing when it is unset)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, target: str, status: int, reason: str | None = None,
               seconds: float | None = None) -> None:
        if self.path is None:
            return
        line = json.dumps({"target": target, "status": status, "reason": reason,
                           "seconds": seconds})
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


@pytest.fixture(scope="session")
def fuzz_log() -> Iterator[FuzzLog]:
    path = os.environ.get("MADOGUCHI_FUZZ_REPORT")
    yield FuzzLog(Path(path) if path else None)
