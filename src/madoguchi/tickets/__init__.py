"""Tickets: models, the lifecycle service, queries, reference numbers, status workflow, users.

The domain core: no Rasa imports, and nothing from the other domain packages (the request type
vocabulary lives here, in `workflow`). Every change to a ticket goes through `TicketService`
(`service.py`), which writes the change's audit entry with it: the action server creates
tickets from a `TicketDraft`, the desk claims, edits, annotates and records the operator's chat
turns, retention purges contact data; the law's steps after intake (identity, agent,
disclosure, fee, decision and its approval) are `steps.py`, their rules data
(`lifecycle.py` reads data/requests/lifecycle.yml). The desk authenticates with
`UserRepository`.
"""

from .errors import Conflict, InvalidField, InvalidTransition, NotFound, TicketError
from .fields import EDITABLE_FIELDS, TicketDraft
from .lifecycle import Rules, ground_code, load_rules
from .models import CONTACT_FIELDS, ROLES, AuditEntry, Decision, IdentityCheck, Note, Ticket, User
from .service import TicketService
from .service_target import ServiceTarget
from .steps import manual_transitions
from .users import UserRepository

__all__ = [
    "CONTACT_FIELDS",
    "EDITABLE_FIELDS",
    "ROLES",
    "AuditEntry",
    "Conflict",
    "Decision",
    "IdentityCheck",
    "InvalidField",
    "InvalidTransition",
    "NotFound",
    "Note",
    "Rules",
    "ServiceTarget",
    "Ticket",
    "TicketDraft",
    "TicketError",
    "TicketService",
    "User",
    "UserRepository",
    "ground_code",
    "load_rules",
    "manual_transitions",
]
