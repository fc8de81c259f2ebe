"""Every store that holds a customer's words: what it holds, how retention clears it, and
whether it may hold clear contact data. The one list; retention walks it.

Contact data means a phone number, e-mail address, postal code or address, a name, a member
number. Card and individual numbers are never stored anywhere (the PII gate masks them first).
The rule (README "Where personal data may live"):
- never in a log;
- masked (labels or placeholders) in the chat log (Rasa's tracker events) and the review's
  read model, comments, audit and training file;
- in clear only on the ticket (where the operator needs it) and, for a few hours on its way
  there, in `pending_contact`.

`retention.run` calls, in this order, the clearer named by each store's `clearer` (a function
of `madoguchi.review.retention`): the conversations' stores before the tickets', because masking
a conversation uses what its ticket's contact fields say before the purge empties them. A test
fails when a store has no clearer, or when a table of madoguchi's metadata with a text column is
neither here nor in `NO_CUSTOMER_WORDS`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Store:
    """One place customer words are kept."""

    name: str  # a table, or a file relative to the project folder
    kind: str  # "table" (madoguchi's), "tracker" (Rasa's), "file"
    holds: str  # which fields hold what
    fields: tuple[str, ...]
    retention: str  # what retention does to it
    clearer: str  # the function of review.retention that does it
    clear_contact: str = ""  # where clear contact data may be, and why ("" = nowhere)


TRACKER = "tracker"
TABLE = "table"
FILE = "file"

STORES: tuple[Store, ...] = (
    Store("events", TRACKER,
          "Rasa's chat log: the customer's messages (text, parse data, entities), slot values, "
          "the bot's and the operator's messages (the summary reads the form back)",
          ("data",),
          "conversations whose last event is older than the limit are rewritten in place: texts "
          "and values masked by label, NLU results and counts kept; a conversation that "
          "continues later is anonymised again once that is old",
          "anonymise_conversations"),
    Store("review_conversations", TABLE,
          "the review's read model: the customer's first words and all their words for search, "
          "masked", ("first_words", "customer_text"),
          "rebuilt from the anonymised events of the conversation", "anonymise_conversations"),
    Store("review_comments", TABLE, "supervisors' comments on a message (they may quote it)",
          ("body",), "masked by label with what the conversation's contact data is known to be",
          "anonymise_conversations"),
    Store("review_audit", TABLE,
          "reveal reasons, export filters (a searched phone number), status-check attempts",
          ("details",), "entries older than the limit: every string masked by label",
          "mask_review_audit"),
    Store("var/review/nlu_review.yml", FILE,
          "the review's training export: masked example sentences",
          ("examples",),
          "an example taken from an anonymised conversation is replaced by its anonymised text",
          "anonymise_conversations"),
    Store("csat_surveys", TABLE, "the customer's comment on the service (masked when stored)",
          ("comment",),
          "with its conversation: the comment masked by label with the conversation's known "
          "contact data (a name the finder could not see)", "anonymise_conversations"),
    Store("tickets", TABLE,
          "the ticket: contact fields, the customer's words, what exactly is asked (details: a "
          "corrected address, a complaint), the agent's relation",
          ("customer_name", "customer_phone", "customer_email", "customer_postal_address",
           "customer_member_number", "preferred_contact", "preferred_time", "customer_words",
           "details", "agent_relation"),
          "closed tickets last changed before the limit: contact fields emptied, free text "
          "masked by label with the ticket's own contact data", "purge_tickets",
          clear_contact="contact fields and the customer's words, for the operator, until "
                        "the ticket is closed and older than the limit"),
    Store("ticket_notes", TABLE, "operators' notes (they quote the customer)", ("body",),
          "with the ticket: masked by label", "purge_tickets",
          clear_contact="as the ticket: the operator's working notes"),
    Store("audit_entries", TABLE,
          "the ticket's audit log: old and new values of contact fields and details, the "
          "operator's messages to the customer (`message_sent`), identity checks",
          ("changes",), "with the ticket: every string masked by label", "purge_tickets",
          clear_contact="as the ticket"),
    Store("ticket_identity_checks", TABLE, "what was received to confirm the person",
          ("received",), "with the ticket: masked by label", "purge_tickets",
          clear_contact="as the ticket"),
    Store("ticket_decisions", TABLE,
          "the decision: its explanation, the letter to the customer (name, address), the "
          "reason a proposal was returned", ("explanation", "letter", "return_reason"),
          "with the ticket: masked by label", "purge_tickets",
          clear_contact="as the ticket: the letter is addressed to the customer"),
    Store("pending_contact", TABLE,
          "contact data typed in the chat, waiting for its ticket", ("value",),
          "rows past their expiry (hours, not days) deleted; the ticket's creation deletes "
          "its conversation's rows", "purge_pending_contact",
          clear_contact="the customer's contact data for at most a few hours, until the "
                        "ticket takes it"),
    Store("webhook_outbox", TABLE,
          "the handoff announcement as it is signed and sent: reference, types, dates, the "
          "conversation id and the ticket's summary (headline, facts, a masked gist of the "
          "customer's first words)", ("body",),
          "announcements created before the limit deleted, delivered or not: a transport "
          "queue, not a record (the ticket and its audit log keep the handoff), and a body "
          "rewritten after it was signed and sent would no longer be what was sent",
          "purge_webhook_outbox"),
)

# Tables of madoguchi's metadata with text columns that hold no customer words, and why.
NO_CUSTOMER_WORDS: dict[str, str] = {
    "review_cursor": "the projector's position: a name and an event id",
    "review_facets": "intents, request types and notice sections: vocabulary",
    "review_tags": "supervisors' tags: their own vocabulary",
    "users": "desk users' names, roles and token hashes",
    "desk_sessions": "hashes of login cookies",
    "ticket_counters": "reference numbers per day",
}


def by_name(name: str) -> Store:
    return next(store for store in STORES if store.name == name)


def clearers() -> set[str]:
    return {store.clearer for store in STORES}
