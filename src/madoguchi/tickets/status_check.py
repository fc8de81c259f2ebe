"""A customer asks where their request stands: the reference number and the contact on the ticket.

The chat (actions/status.py) and the desk's public page (/status) both go through `StatusCheck`,
so both read references the same tolerant way, compare contact data the same way, say the same
words (data/requests/status.yml) and share one limit: attempts per conversation (or page
client) and per reference in the last hour, counted from the audit rows every attempt writes.

What the customer learns is only the state and the next step. An unknown reference and a wrong
contact get the same answer, so the check cannot be used to find out which references exist;
the contact typed is compared, never shown or stored (the audit rows hold the outcome only).

An attempt refused for its form (no reference in what was typed, or several; a contact that is
neither a phone number nor an e-mail address) is audited too (`refuse`), without what was typed.
It does not count towards the limits: it looked nothing up, so it tells nobody anything, and a
customer who mistypes is not locked out.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from madoguchi.infra.db import utcnow, write_session
from madoguchi.infra.settings import project_root
from madoguchi.review.models import ReviewAudit
from madoguchi.text.pii.vocabulary import DASHES

from . import repository
from .references import PREFIX, format_reference
from .workflow import STATUSES

STATUS_FILE = Path("data") / "requests" / "status.yml"
AUDIT_ACTION = "status_check"
WINDOW = timedelta(hours=1)

# Outcomes as the audit records them; the customer sees three answers (answered, not_found,
# limited): an unknown reference and a wrong contact read alike.
ANSWERED = "answered"
UNKNOWN_REFERENCE = "unknown_reference"
CONTACT_MISMATCH = "contact_mismatch"
LIMITED = "limited"
# Refused for their form, before anything was looked up (`StatusCheck.refuse`).
BAD_REFERENCE = "bad_reference"
SEVERAL_REFERENCES = "several_references"
BAD_CONTACT = "bad_contact"
REFUSED_FORMS = frozenset({BAD_REFERENCE, SEVERAL_REFERENCES, BAD_CONTACT})

_SPACES = re.compile(r"\s+")
# After normalising: PRV, the JST day (8 digits) and the day's number, separated by hyphens or
# spaces or not at all (the day has a fixed length, so 「PRV2026120412」 is still one reading).
_REFERENCE = re.compile(
    rf"(?<![A-Z0-9]){PREFIX}[-\s]*(\d{{8}})[-\s]*(\d{{1,6}})(?!\d)", re.IGNORECASE
)
# Without the prefix, only the written-out shape counts (a date and a number with a hyphen).
_BARE_REFERENCE = re.compile(r"(?<![A-Za-z0-9-])(\d{8})-(\d{1,6})(?![\d-])")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _normalized(text: str) -> str:
    """Full-width to half-width (NFKC), every dash variant to "-"."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join("-" if ch in DASHES else ch for ch in folded)


def _valid_day(digits: str) -> bool:
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


def find_references(text: str) -> list[str]:
    """Every reference number in `text`, written as the desk writes them, without repeats.

    Tolerates full-width digits, lower case, spaces and any hyphen:
    「ｐｒｖ－２０２６１２０４－１２」 and 「PRV 20261204 12」 are PRV-20261204-0012.
    A day that is not a real date is none.
    """
    flat = _normalized(text)
    found: list[str] = []
    for pattern in (_REFERENCE, _BARE_REFERENCE):
        for match in pattern.finditer(flat):
            day, number = match.group(1), match.group(2)
            if _valid_day(day) and int(number) > 0:
                reference = format_reference(
                    date(int(day[:4]), int(day[4:6]), int(day[6:])), int(number)
                )
                if reference not in found:
                    found.append(reference)
        if found:
            break  # a prefixed reference wins over digits elsewhere in the message
    return found


def parse_reference(text: str) -> str | None:
    """The one reference in `text`; None when there is none or several (ask again then)."""
    found = find_references(text)
    return found[0] if len(found) == 1 else None


def contact_key(text: str) -> tuple[str, str] | None:
    """("phone", digits) or ("email", lower-cased address) for what a customer typed, else None.

    Phone numbers compare by their digits (+81 read as the leading 0); e-mail addresses without
    case or surrounding space."""
    flat = _SPACES.sub("", _normalized(text or ""))
    if not flat:
        return None
    if "@" in flat:
        address = flat.lower().strip(".,。、")
        return ("email", address) if _EMAIL.match(address) else None
    if re.fullmatch(r"\+?[\d\-()]+", flat) is None:
        return None
    digits = re.sub(r"\D", "", flat)
    if flat.startswith("+81"):
        digits = "0" + digits[2:]
    return ("phone", digits) if 10 <= len(digits) <= 11 and digits.startswith("0") else None


def contact_matches(given: str, phone: str | None, email: str | None) -> bool:
    """Whether `given` is the ticket's phone number or e-mail address (normalised both sides,
    compared in constant time)."""
    key = contact_key(given)
    if key is None:
        return False
    kind, value = key
    stored = contact_key(phone or "") if kind == "phone" else contact_key(email or "")
    if stored is None or stored[0] != kind:
        return False
    return hmac.compare_digest(value.encode(), stored[1].encode())


@dataclass(frozen=True)
class StatusTexts:
    """The words of data/requests/status.yml: per status its state and next step, and replies."""

    states: Mapping[str, Mapping[str, str]]
    replies: Mapping[str, str]

    @classmethod
    def load(cls, path: Path | None = None) -> StatusTexts:
        path = path or project_root() / STATUS_FILE
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        states, replies = data.get("states") or {}, data.get("replies") or {}
        missing = [s for s in STATUSES if not {"state", "next"} <= set(states.get(s) or {})]
        if missing:
            raise ValueError(f"{path}: states lack state/next for {', '.join(missing)}")
        needed = {"answer", "not_found", "limited", "bad_reference", "bad_contact"}
        if not needed <= set(replies):
            raise ValueError(f"{path}: replies lack {', '.join(sorted(needed - set(replies)))}")
        return cls(states, replies)

    def reply(self, name: str, contact: Mapping[str, str], **values: str) -> str:
        """A reply with the inquiry window's numbers (data/notice/window.yml) filled in."""
        return self.replies[name].format(**contact, **values).strip()

    def answer(self, result: CheckResult, contact: Mapping[str, str]) -> str:
        """What the customer reads for `result`."""
        if result.outcome == ANSWERED and result.status is not None:
            words = self.states[result.status]
            return self.reply("answer", contact, reference=result.reference,
                              state=words["state"].strip(), next=words["next"].strip())
        return self.reply("limited" if result.outcome == LIMITED else "not_found", contact)


@lru_cache(maxsize=1)
def status_texts() -> StatusTexts:
    return StatusTexts.load()


@dataclass(frozen=True)
class CheckResult:
    """One attempt's outcome; `status` only when the reference and the contact matched."""

    outcome: str
    reference: str
    status: str | None = None

    @property
    def customer_outcome(self) -> str:
        """What the customer may learn: answered, not_found or limited."""
        return self.outcome if self.outcome in (ANSWERED, LIMITED) else "not_found"


class TicketAudit(Protocol):
    """What StatusCheck needs of the ticket service: an audit entry on a known ticket."""

    def record_status_check(self, reference: str, actor: str, outcome: str) -> Any: ...


class StatusCheck:
    """Compare, answer, limit and audit one attempt (`check`)."""

    def __init__(
        self,
        session_factory: sessionmaker,
        tickets: TicketAudit,
        *,
        per_client: int,
        per_reference: int,
        window: timedelta = WINDOW,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = session_factory
        self._tickets = tickets
        self._per_client = per_client
        self._per_reference = per_reference
        self._window = window
        self._clock = clock

    def check(self, reference: str, contact: str, *, client: str, channel: str) -> CheckResult:
        """The attempt of `client` (the conversation id, or the page's client key) to learn the
        state of `reference` with `contact`; audited whatever the outcome (known references
        also in the ticket's own audit log). `channel`: "chat" or "status_page"."""
        now = self._clock()
        with write_session(self._sessions) as session:
            since = now - self._window
            recent = list(session.execute(
                select(ReviewAudit.sender_id, ReviewAudit.details)
                .where(ReviewAudit.action == AUDIT_ACTION, ReviewAudit.at >= since)
            ))
            counted = [(sender, details or {}) for sender, details in recent
                       if (details or {}).get("outcome") not in REFUSED_FORMS]
            by_client = sum(1 for sender, _ in counted if sender == client)
            by_reference = sum(1 for _, details in counted if details.get("reference") == reference)
            ticket = repository.by_reference(session, reference)
            if by_client >= self._per_client or by_reference >= self._per_reference:
                outcome, status = LIMITED, None
            elif ticket is None:
                outcome, status = UNKNOWN_REFERENCE, None
            elif contact_matches(contact, ticket.customer_phone, ticket.customer_email):
                outcome, status = ANSWERED, ticket.status
            else:
                outcome, status = CONTACT_MISMATCH, None
            session.add(ReviewAudit(
                at=now, actor="customer", action=AUDIT_ACTION, sender_id=client,
                details={"channel": channel, "reference": reference, "outcome": outcome},
            ))
        if ticket is not None:
            self._tickets.record_status_check(reference, f"customer ({channel})", outcome)
        return CheckResult(outcome, reference, status)

    def refuse(self, outcome: str, *, client: str, channel: str,
               reference: str | None = None) -> None:
        """Audit an attempt refused for its form (`REFUSED_FORMS`), never what was typed:
        the reference only when one was read (the contact was wrong then), and on that
        ticket's own log too when it exists."""
        if outcome not in REFUSED_FORMS:
            raise ValueError(f"{outcome!r} is not a refusal of a form")
        with write_session(self._sessions) as session:
            session.add(ReviewAudit(
                at=self._clock(), actor="customer", action=AUDIT_ACTION, sender_id=client,
                details={"channel": channel, "reference": reference, "outcome": outcome},
            ))
            known = reference is not None and repository.by_reference(
                session, reference) is not None
        if known:
            self._tickets.record_status_check(reference, f"customer ({channel})", outcome)

    def refuse_reference(self, typed: str, *, client: str, channel: str) -> str:
        """Audit a reference that could not be read from `typed`: BAD_REFERENCE, or
        SEVERAL_REFERENCES when it held more than one (the outcome is returned)."""
        outcome = SEVERAL_REFERENCES if len(find_references(typed)) > 1 else BAD_REFERENCE
        self.refuse(outcome, client=client, channel=channel)
        return outcome
