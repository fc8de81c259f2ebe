"""The law's steps on a ticket (lifecycle.yml): the day the request reached us, identity, agent,
disclosure options, fee, and the decision with its four-eyes approval.

`TicketService` inherits these methods: each is one short transaction that locks the ticket,
checks the step against the rules and writes its audit entry (who, when, old → new). The
rules, in order of the law:

- a decision needs the identity step recorded first (one identity record per ticket);
- a refusal or partial grant names a ground allowed for the ticket's request types and
  explains it (Art. 36); a grant needs neither; disclosure granted needs the delivery method;
- a grant resolves the ticket; a refusal or partial grant waits in `pending_approval` until
  a supervisor who is not its author approves it (then rejected, or resolved for a partial
  grant) or returns it (back to `assigned`);
- a fee only for ① and ② (Art. 38); the request type may change only before a decision;
- ①–⑤ are resolved or rejected only through a decision (see `check_manual_status`).

A refused step changes nothing but leaves its `attempt_refused` entry (refusals.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from madoguchi.infra.db import write_session

from . import repository, workflow
from .changes import Actor, change, role, who
from .errors import Conflict, InvalidField, InvalidTransition
from .fields import (
    DISCLOSURE_FIELDS,
    check_disclosure_allowed,
    check_fee_allowed,
    check_scope,
    choice,
    clean_text,
    fee_amount,
    moment,
    text_items,
)
from .lifecycle import Rules
from .models import Decision, IdentityCheck, Ticket
from .refusals import refusals_audited
from .service_target import JST

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker

    from .service_target import ServiceTarget

SUPERVISOR = "supervisor"
MAX_EXPLANATION = 4000
MAX_LETTER = 10000


class LifecycleSteps:
    """The steps, mixed into `TicketService` (which provides sessions, clock and rules)."""

    _sessions: sessionmaker
    _rules: Rules
    _target: ServiceTarget
    _now: Callable[[], datetime]
    _record: Callable[[Ticket, str, str, dict[str, Any]], None]
    record_refusal: Callable[[Any, Any, str, BaseException], bool]

    @property
    def rules(self) -> Rules:
        return self._rules

    # --- the clock ------------------------------------------------------------------------

    @refusals_audited("set_received_at")
    def set_received_at(self, reference: str, received: Any, actor: Actor) -> Ticket:
        """The day the request reached us (e.g. the day the form came by post): an ISO date
        or date-time, not in the future. The internal target moves with it."""
        name = who(actor)
        when = moment(received, "received_at", now=self._now())
        if when is None:
            raise InvalidField("received_at を入力してください (received_at is required)")
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            changes: dict[str, Any] = {}
            if when != ticket.received_at:
                changes["received_at"] = change(ticket.received_at, when)
                ticket.received_at = when
                due = self._target.due_at(when, ticket.request_types or [])
                if due != ticket.due_at:
                    changes["due_at"] = change(ticket.due_at, due)
                    ticket.due_at = due
            self._record(ticket, name, "received_at_changed", changes)
        return ticket

    # --- identity (本人確認) ----------------------------------------------------------------

    @refusals_audited("record_identity")
    def record_identity(
        self, reference: str, actor: Actor, *, method: Any, received: Any,
        received_at: Any = None,
    ) -> Ticket:
        """How the person was confirmed: the method (lifecycle.yml), what was received and
        when (default: now). Once per ticket: a second record is a `Conflict`."""
        name = who(actor)
        now = self._now()
        method = choice(method, "method", self._rules.identity_methods)
        what = clean_text(received, "received", 1000, required=True)
        when = moment(received_at, "received_at", now=now) or now
        try:
            with write_session(self._sessions) as session:
                ticket = repository.locked(session, reference)
                _require_open(ticket)
                if ticket.identity is not None:
                    raise _identity_taken(ticket.identity)
                ticket.identity = IdentityCheck(
                    method=method, received=what, received_at=when, verified_by=name,
                    verified_at=now,
                )
                self._record(ticket, name, "identity_recorded", {
                    "identity_method": change(None, method),
                    "identity_received": change(None, what),
                    "identity_received_at": change(None, when),
                })
            return ticket
        except IntegrityError:
            # Two operators at once: the unique constraint let only one through.
            existing = self.get(reference)  # type: ignore[attr-defined]
            if existing is not None and existing.identity is not None:
                raise _identity_taken(existing.identity) from None
            raise

    # --- agent (代理人) ---------------------------------------------------------------------

    @refusals_audited("set_agent")
    def set_agent(self, reference: str, actor: Actor, *, kind: Any, relation: Any = None
                  ) -> Ticket:
        """Who acts for the person (a kind of lifecycle.yml's agent_kinds and their relation),
        or `kind` None: the person themself."""
        name = who(actor)
        kind = choice(kind, "kind", self._rules.agent_kinds, required=False)
        relation = clean_text(relation, "relation", 200) if kind else None
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            _require_undecided(ticket)
            changes = _assign(ticket, {"agent_kind": kind, "agent_relation": relation,
                                       "is_agent": kind is not None})
            self._record(ticket, name, "agent_recorded", changes)
        return ticket

    # --- disclosure (②) -----------------------------------------------------------------

    @refusals_audited("set_disclosure")
    def set_disclosure(
        self, reference: str, actor: Actor, *, kind: Any, delivery_method: Any = None,
        scope: Any = None, items: Any = None,
    ) -> Ticket:
        """What is disclosed (held data or records of provision, Art. 33(5)), how the person
        wants it (Art. 33(1)) and the scope (all, or named items). `kind` None clears them."""
        name = who(actor)
        rules = self._rules
        kind = choice(kind, "kind", rules.disclosure_kinds, required=False)
        if kind is None:
            values: dict[str, Any] = dict.fromkeys(DISCLOSURE_FIELDS)
        else:
            values = {
                "disclosure_kind": kind,
                "delivery_method": choice(delivery_method, "delivery_method",
                                          rules.delivery_methods),
                "disclosure_scope": choice(scope or "all", "scope", rules.disclosure_scopes),
                "disclosure_items": text_items(items, "items"),
            }
            check_scope(values["disclosure_scope"], values["disclosure_items"])
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            _require_undecided(ticket)
            if kind is not None:
                check_disclosure_allowed(ticket.request_types or [])
            self._record(ticket, name, "disclosure_recorded", _assign(ticket, values))
        return ticket

    # --- fee (Art. 38) ---------------------------------------------------------------------

    @refusals_audited("record_fee")
    def record_fee(self, reference: str, actor: Actor, *, amount: Any = None,
                   told_at: Any = None) -> Ticket:
        """The fee the customer was told (only ① and ②): `amount` in yen, default the
        company's amount in lifecycle.yml (none set there: the operator must give it);
        `told_at` default now."""
        name = who(actor)
        now = self._now()
        amount = fee_amount(amount)
        when = moment(told_at, "told_at", now=now) or now
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            _require_undecided(ticket)
            types = ticket.request_types or []
            check_fee_allowed(types)
            if amount is None:
                amount = self._rules.fee_default(types)
            if amount is None:
                raise InvalidField(
                    "手数料の額を入力してください。当社の定める額がデータにありません"
                    " (amount is required: lifecycle.yml sets none)"
                )
            changes = _assign(ticket, {"fee_amount": amount, "fee_told_at": when})
            self._record(ticket, name, "fee_recorded", changes)
        return ticket

    @refusals_audited("clear_fee")
    def clear_fee(self, reference: str, actor: Actor) -> Ticket:
        """No fee after all (or it was recorded by mistake)."""
        name = who(actor)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            _require_undecided(ticket)
            changes = _assign(ticket, {"fee_amount": None, "fee_told_at": None})
            self._record(ticket, name, "fee_cleared", changes)
        return ticket

    # --- the decision ------------------------------------------------------------------------

    def draft_letter(self, ticket: Ticket, outcome: str, ground: str | None,
                     explanation: str | None) -> str:
        """The customer's letter for this decision, from lifecycle.yml's templates."""
        rules = self._rules
        grounds = rules.grounds_for(ticket.request_types or [])
        method = rules.delivery_methods.get(ticket.delivery_method or "")
        delivery = ""
        if method is not None and outcome != "refused":
            delivery = rules.letters.get("delivery", "").format(method=method.label)
        labels = [t for t in ticket.request_types or [] if t in rules.decision_types]
        return rules.letter(outcome, {
            "customer_name": ticket.customer_name or "お客",
            "reference": ticket.reference,
            "received_date": _jst_day(ticket.received_at),
            "request_label": "・".join(rules.type_label(t) for t in labels),
            "delivery": delivery,
            "ground": grounds[ground].customer if ground in grounds else "",
            "explanation": explanation or "",
        })

    @refusals_audited("propose_decision")
    def propose_decision(
        self, reference: str, actor: Actor, *, outcome: Any, ground: Any = None,
        explanation: Any = None, letter: Any = None,
    ) -> Ticket:
        """Decide the request. A grant resolves it at once; a refusal or partial grant waits
        for a supervisor's approval (`pending_approval`). `letter` None: drafted from data."""
        name = who(actor)
        rules = self._rules
        outcome = choice(outcome, "outcome", rules.outcomes)
        rule = rules.outcomes[outcome]
        explanation = clean_text(explanation, "explanation", MAX_EXPLANATION,
                                 required=rule.needs_ground)
        written = clean_text(letter, "letter", MAX_LETTER)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            types = ticket.request_types or []
            if not rules.decides(types):
                raise Conflict(
                    f"{ticket.reference}: この種類の受付には判断を記録しません。状態の変更で"
                    "完了してください (no decision for these request types)"
                )
            if ticket.decision is not None:
                raise Conflict(f"{ticket.reference}: 判断はすでに記録されています "
                               f"(already decided: {ticket.decision.outcome})")
            target = workflow.PENDING_APPROVAL if rule.needs_approval else workflow.RESOLVED
            workflow.check_transition(ticket.status, target)
            if ticket.identity is None:
                raise Conflict(f"{ticket.reference}: 本人確認が記録されていないため、判断できません"
                               " (record the identity check first)")
            allowed = rules.grounds_for(types)
            if rule.needs_ground:
                if not isinstance(ground, str) or ground not in allowed:
                    raise InvalidField(
                        "この判断には、請求の種類に応じた理由（根拠）を選んでください"
                        f" (ground must be one of {', '.join(allowed)})"
                    )
            elif ground not in (None, ""):
                raise InvalidField("請求どおり対応する場合、不対応の根拠は選べません "
                                   "(a grant takes no ground)")
            else:
                ground = None
            if ("disclosure" in types and outcome != "refused"
                    and ticket.delivery_method is None):
                raise Conflict(f"{ticket.reference}: 開示の方法（法第33条第1項）が記録されて"
                               "いません (record the delivery method first)")
            now = self._now()
            decision = Decision(
                outcome=outcome, ground=ground, explanation=explanation,
                letter=written or self.draft_letter(ticket, outcome, ground, explanation),
                state="pending" if rule.needs_approval else "effective",
                decided_by=name, decided_at=now,
            )
            ticket.decisions.append(decision)
            changes = {"decision_outcome": change(None, outcome),
                       "decision_ground": change(None, ground),
                       "status": change(ticket.status, target)}
            ticket.status = target
            action = "decision_proposed" if rule.needs_approval else "decision_made"
            self._record(ticket, name, action, changes)
        return ticket

    @refusals_audited("approve_decision")
    def approve_decision(self, reference: str, actor: Actor) -> Ticket:
        """A supervisor other than the decider approves a refusal or partial grant: it takes
        effect (refused → rejected, partly granted → resolved)."""
        name = who(actor)
        _require_supervisor(actor, "承認")
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            decision = _pending(ticket)
            if decision.decided_by == name:
                raise Conflict(
                    f"{ticket.reference}: 判断した本人は承認できません。別のスーパーバイザーが"
                    f"承認してください (four eyes: {name} made this decision)"
                )
            target = workflow.REJECTED if decision.outcome == "refused" else workflow.RESOLVED
            now = self._now()
            decision.state = "approved"
            decision.approved_by, decision.approved_at = name, now
            changes = {"decision_approved_by": change(None, name),
                       "status": change(ticket.status, target)}
            ticket.status = target
            self._record(ticket, name, "decision_approved", changes)
        return ticket

    @refusals_audited("return_decision")
    def return_decision(self, reference: str, actor: Actor, reason: Any) -> Ticket:
        """A supervisor sends a proposed refusal back (with why): the ticket is worked again."""
        name = who(actor)
        _require_supervisor(actor, "差し戻し")
        why = clean_text(reason, "reason", MAX_EXPLANATION, required=True)
        with write_session(self._sessions) as session:
            ticket = repository.locked(session, reference)
            decision = _pending(ticket)
            now = self._now()
            decision.state = "returned"
            decision.returned_by, decision.returned_at, decision.return_reason = name, now, why
            changes = {"decision_returned_by": change(None, name),
                       "decision_return_reason": change(None, why),
                       "status": change(ticket.status, workflow.ASSIGNED)}
            ticket.status = workflow.ASSIGNED
            self._record(ticket, name, "decision_returned", changes)
        return ticket


# --- checks the service's other methods use --------------------------------------------------


def check_manual_status(ticket: Ticket, new_status: str, rules: Rules) -> None:
    """A plain status change may not stand in for a decision: nothing enters or leaves
    `pending_approval` but a decision (or the customer withdrawing), and ①–⑤ are resolved or
    rejected only by one."""
    current = ticket.status
    if new_status == current:
        return
    if new_status == workflow.PENDING_APPROVAL or (
        current == workflow.PENDING_APPROVAL and new_status != workflow.WITHDRAWN
    ):
        raise InvalidTransition(
            current, new_status,
            "承認待ちには判断の記録で入り、承認か差し戻しで出ます "
            "(pending_approval is entered and left through the decision)",
        )
    if new_status in workflow.DECIDED_STATUSES and rules.decides(ticket.request_types or []):
        raise InvalidTransition(
            current, new_status,
            "この請求は判断（本人確認のうえ、対応・一部対応・不対応）を記録して完了します "
            "(record a decision to close a request of types ①–⑤)",
        )


def check_type_change(ticket: Ticket, new_types: list[str], rules: Rules) -> None:
    """The request type changes only before a decision, and a recorded fee or disclosure
    option must still fit the new types."""
    if set(new_types) == set(ticket.request_types or []):
        return
    if ticket.decision is not None:
        raise Conflict(f"{ticket.reference}: 判断の記録後は請求の種類を変更できません "
                       "(the request type cannot change after a decision)")
    if ticket.fee_amount is not None:
        try:
            check_fee_allowed(new_types)
        except InvalidField as exc:
            raise InvalidField(f"{exc}。先に手数料の記録を取り消してください "
                               "(clear the fee first)") from None
    if ticket.disclosure_kind is not None and "disclosure" not in new_types:
        raise InvalidField("開示の種類・方法が記録されています。先に取り消してください "
                           "(clear the disclosure options first)")


def manual_transitions(ticket: Ticket, rules: Rules) -> list[str]:
    """The statuses a plain status change may reach from here (what the desk offers)."""
    out = []
    for status in sorted(workflow.TRANSITIONS.get(ticket.status, ())):
        try:
            check_manual_status(ticket, status, rules)
        except InvalidTransition:
            continue
        out.append(status)
    return out


# --- helpers -----------------------------------------------------------------------------------


def _assign(ticket: Ticket, values: dict[str, Any]) -> dict[str, Any]:
    changes = {}
    for name, value in values.items():
        old = getattr(ticket, name)
        if old != value:
            setattr(ticket, name, value)
            changes[name] = change(old, value)
    return changes


def _require_open(ticket: Ticket) -> None:
    if ticket.status in workflow.CLOSED_STATUSES:
        raise Conflict(f"{ticket.reference} は{ticket.status}のため変更できません "
                       f"({ticket.reference} is closed)")


def _require_undecided(ticket: Ticket) -> None:
    _require_open(ticket)
    if ticket.decision is not None:
        raise Conflict(f"{ticket.reference}: 判断の記録後は変更できません "
                       "(decided: return the decision first)")


def _require_supervisor(actor: Actor, what: str) -> None:
    if role(actor) != SUPERVISOR:
        raise Conflict(f"{what}はスーパーバイザーが行います (a supervisor must do this)")


def _pending(ticket: Ticket) -> Decision:
    decision = ticket.decision
    if decision is None or decision.state != "pending":
        raise Conflict(f"{ticket.reference}: 承認待ちの判断はありません "
                       "(no decision is waiting for approval)")
    return decision


def _identity_taken(identity: IdentityCheck) -> Conflict:
    return Conflict(
        f"本人確認はすでに記録されています（{identity.verified_by}、"
        f"{_jst_day(identity.verified_at)}） (identity already recorded)"
    )


def _jst_day(moment_: datetime | None) -> str:
    if moment_ is None:
        return ""
    day = moment_.astimezone(JST).date()
    return f"{day.year}年{day.month}月{day.day}日"


__all__ = ["LifecycleSteps", "check_manual_status", "check_type_change", "manual_transitions"]
