"""Ticket vocabulary and the status workflow.

    new ──────────────► assigned ◄──────────► waiting_customer
     │   claim/assign     │  ▲ unassign(→new)        │
     │                    ▼  │                       ▼
     └──► rejected / withdrawn      resolved / rejected / withdrawn
                          │  ▲ returned              │
                          ▼  │                       │
                    pending_approval ◄────────────────┘
                          │   refusal or partial grant proposed
                          ▼
                resolved (partial) / rejected (refusal) / withdrawn

| from               | allowed to                                                        |
|--------------------|-------------------------------------------------------------------|
| `new`              | `assigned`, `rejected`, `withdrawn`                               |
| `assigned`         | `new` (unassign), `waiting_customer`, `resolved`, `rejected`,     |
|                    | `withdrawn`, `pending_approval`                                   |
| `waiting_customer` | `assigned` (the customer answered), `resolved`, `rejected`,       |
|                    | `withdrawn`, `pending_approval`                                   |
| `pending_approval` | `assigned` (the supervisor returned the proposal), `resolved`     |
|                    | (a partial grant approved), `rejected` (a refusal approved),      |
|                    | `withdrawn`                                                       |
| `resolved`,        | nothing: closed tickets stay closed (a new request is a new       |
| `rejected`,        | ticket)                                                           |
| `withdrawn`        |                                                                   |

`new` may be rejected or withdrawn without being claimed (spam, the customer withdrew before
anyone picked it up); resolving needs someone to have worked on it, so not from `new`.

The graph says what may follow what. For the five requests of APPI (①–⑤) the service adds
the law's steps (see `TicketService.propose_decision`): such a ticket is resolved or rejected
only by a recorded decision, a refusal or partial grant waits in `pending_approval` until a
second person approves it, and nothing but a decision enters or leaves that state (except the
customer withdrawing).
"""

from __future__ import annotations

from .errors import InvalidTransition

NEW = "new"
ASSIGNED = "assigned"
WAITING_CUSTOMER = "waiting_customer"
RESOLVED = "resolved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
PENDING_APPROVAL = "pending_approval"

STATUSES: tuple[str, ...] = (
    NEW, ASSIGNED, WAITING_CUSTOMER, PENDING_APPROVAL, RESOLVED, REJECTED, WITHDRAWN,
)
OPEN_STATUSES: frozenset[str] = frozenset({NEW, ASSIGNED, WAITING_CUSTOMER, PENDING_APPROVAL})
CLOSED_STATUSES: frozenset[str] = frozenset({RESOLVED, REJECTED, WITHDRAWN})

TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ASSIGNED, REJECTED, WITHDRAWN}),
    ASSIGNED: frozenset({NEW, WAITING_CUSTOMER, RESOLVED, REJECTED, WITHDRAWN, PENDING_APPROVAL}),
    WAITING_CUSTOMER: frozenset({ASSIGNED, RESOLVED, REJECTED, WITHDRAWN, PENDING_APPROVAL}),
    PENDING_APPROVAL: frozenset({ASSIGNED, RESOLVED, REJECTED, WITHDRAWN}),
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


# Statuses that only a decision reaches (for ①–⑤), and the one only a decision leaves.
DECIDED_STATUSES: frozenset[str] = frozenset({RESOLVED, REJECTED})


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
