"""Ticket vocabulary and the status workflow.

    new ──────────────► assigned ◄──────────► waiting_customer
     │   claim/assign     │  ▲ unassign(→new)        │
     │                    ▼  │                       ▼
     └──► rejected / withdrawn      resolved / rejected / withdrawn

| from               | allowed to                                                        |
|--------------------|-------------------------------------------------------------------|
| `new`              | `assigned`, `rejected`, `withdrawn`                               |
| `assigned`         | `new` (unassign), `waiting_customer`, `resolved`, `rejected`,     |
|                    | `withdrawn`                                                       |
| `waiting_customer` | `assigned` (the customer answered), `resolved`, `rejected`,       |
|                    | `withdrawn`                                                       |
| `resolved`,        | nothing: closed tickets stay closed (a new request is a new       |
| `rejected`,        | ticket)                                                           |
| `withdrawn`        |                                                                   |

`new` may be rejected or withdrawn without being claimed (spam, the customer withdrew before
anyone picked it up); resolving needs someone to have worked on it, so not from `new`.
"""

from __future__ import annotations

from .errors import InvalidTransition

NEW = "new"
ASSIGNED = "assigned"
WAITING_CUSTOMER = "waiting_customer"
RESOLVED = "resolved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

STATUSES: tuple[str, ...] = (NEW, ASSIGNED, WAITING_CUSTOMER, RESOLVED, REJECTED, WITHDRAWN)
OPEN_STATUSES: frozenset[str] = frozenset({NEW, ASSIGNED, WAITING_CUSTOMER})
CLOSED_STATUSES: frozenset[str] = frozenset({RESOLVED, REJECTED, WITHDRAWN})

TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ASSIGNED, REJECTED, WITHDRAWN}),
    ASSIGNED: frozenset({NEW, WAITING_CUSTOMER, RESOLVED, REJECTED, WITHDRAWN}),
    WAITING_CUSTOMER: frozenset({ASSIGNED, RESOLVED, REJECTED, WITHDRAWN}),
    RESOLVED: frozenset(),
    REJECTED: frozenset(),
    WITHDRAWN: frozenset(),
}

# Most urgent first: the queue sorts by this rank.
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal")
PRIORITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(PRIORITIES)}
DEFAULT_PRIORITY = "normal"
COMPLAINT_PRIORITY = "high"

# The `request_type` slot values of DESIGN.md "Contracts", in notice order. Defined here, on
# the ticket side, because a ticket's `request_types` hold them and the requests package
# (which imports the tickets package) reads them from here: the vocabulary has one home.
REQUEST_TYPES: tuple[str, ...] = (
    "purpose_notice",
    "disclosure",
    "correction",
    "suspension",
    "third_party_stop",
    "marketing_optout",
    "complaint",
)


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, new: str) -> None:
    """Raise `InvalidTransition` unless the workflow allows `current` → `new`."""
    if new not in TRANSITIONS:
        raise InvalidTransition(current, new, f"unknown status {new!r}")
    if not can_transition(current, new):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none (closed)"
        raise InvalidTransition(
            current, new, f"cannot go from {current!r} to {new!r}; allowed: {allowed}"
        )


def initial_priority(request_types: list[str], requested: str | None = None) -> str:
    """The stated priority, raised to `high` for complaints (DESIGN: complaint → high priority)."""
    priority = requested or DEFAULT_PRIORITY
    if priority not in PRIORITY_RANK:
        raise ValueError(f"unknown priority {priority!r}; one of {', '.join(PRIORITIES)}")
    if "complaint" in request_types and PRIORITY_RANK[priority] > PRIORITY_RANK[COMPLAINT_PRIORITY]:
        return COMPLAINT_PRIORITY
    return priority
