"""Tickets: models, repository, reference numbers, status workflow, audit log, desk users.

The domain core: no Rasa imports. The action server creates tickets from a `TicketDraft`; the
desk reads and changes them through `TicketRepository` and authenticates with `UserRepository`.
"""

from .errors import Conflict, InvalidField, InvalidTransition, NotFound, TicketError
from .models import CONTACT_FIELDS, ROLES, AuditEntry, Note, Ticket, User
from .repository import EDITABLE_FIELDS, TicketDraft, TicketRepository
from .service_target import ServiceTarget
from .users import UserRepository

__all__ = [
    "CONTACT_FIELDS",
    "EDITABLE_FIELDS",
    "ROLES",
    "AuditEntry",
    "Conflict",
    "InvalidField",
    "InvalidTransition",
    "NotFound",
    "Note",
    "ServiceTarget",
    "Ticket",
    "TicketDraft",
    "TicketError",
    "TicketRepository",
    "User",
    "UserRepository",
]
