"""The current time, in one place.

MADOGUCHI_NOW (an ISO 8601 time with offset) fixes the clock of a process: demos and the
end-to-end tests use it to show the out-of-hours handoff without waiting for the night.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone


def now() -> datetime:
    fixed = os.environ.get("MADOGUCHI_NOW")
    if fixed:
        moment = datetime.fromisoformat(fixed)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
