"""Where one HTTP turn's time goes: nested timed spans, kept as exclusive milliseconds.

A `Turn` is opened when a server starts handling a request and closed when the response has
been sent. Every wrapped function entered meanwhile is a span; a span's *exclusive* time is its
own duration minus that of the spans entered inside it, so the exclusive times of all spans of a
turn add up to the root span's duration and nothing is counted twice. The stack assumes one turn
at a time in the process (the bench profiles a single conversation, turn after turn).

Imported by the servers (through `hooks`) and by the bench: standard library only.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field
from typing import Any

current: contextvars.ContextVar[Turn | None] = contextvars.ContextVar(
    "madoguchi_turn_profile", default=None)


@dataclass
class _Frame:
    name: str
    group: str
    start: float
    children: float = 0.0


@dataclass
class Turn:
    """One request's spans: name → [exclusive ms, inclusive ms, calls], and its group."""

    role: str
    path: str
    clock: Any = time.perf_counter
    spans: dict[str, list[float]] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    sent_at: float | None = None  # when the reply had been written (the root span ends there)
    _stack: list[_Frame] = field(default_factory=list)

    def enter(self, name: str, group: str) -> _Frame:
        frame = _Frame(name, group, self.clock())
        self._stack.append(frame)
        return frame

    def exit(self, frame: _Frame, at: float | None = None) -> float:
        """Close `frame` (and any span left open inside it), now or at clock value `at`.

        Returns the span's inclusive milliseconds.
        """
        end = self.clock() if at is None else at
        while self._stack and self._stack[-1] is not frame:
            self.exit(self._stack[-1], end)
        if self._stack:
            self._stack.pop()
        duration = end - frame.start
        if self._stack:
            self._stack[-1].children += duration
        entry = self.spans.setdefault(frame.name, [0.0, 0.0, 0])
        entry[0] += (duration - frame.children) * 1000
        entry[1] += duration * 1000
        entry[2] += 1
        self.groups[frame.name] = frame.group
        return duration * 1000

    def record(self) -> dict[str, Any]:
        """The JSON line written for this turn."""
        return {"role": self.role, "path": self.path, "meta": self.meta, "calls": self.calls,
                "spans": {name: {"group": self.groups[name], "ms": round(v[0], 4),
                                 "incl_ms": round(v[1], 4), "n": int(v[2])}
                          for name, v in self.spans.items()}}
