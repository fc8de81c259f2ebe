"""The current time, in one place.

MADOGUCHI_NOW (an ISO 8601 time with offset) fixes the clock of a process: demos and the
end-to-end tests use it to show the out-of-hours handoff without waiting for the night.
"""

from __future__ import annotations

from datetime import datetime, timezone

from madoguchi.infra.settings import settings


def now() -> datetime:
    return settings().now or datetime.now(timezone.utc)
