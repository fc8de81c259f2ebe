"""The desk's part in CSAT: when an operator hands a conversation back or resolves its ticket,
or a decision closes it (a grant, or a refusal or partial grant once approved: requests ①–⑤
close only that way), the conversation has ended for the customer, so the assistant asks
「今回の対応はいかがでしたか」.

The question itself is the action server's (`action_csat_ask`, actions/csat.py: once per
conversation, with the ticket and the operator); the desk only has Rasa run it. A Rasa that does
not answer costs the customer the question, never the operator's hand-back or resolution.
"""

from __future__ import annotations

import logging

from madoguchi.tickets import Ticket

from .rasa import RasaClient, RasaError

logger = logging.getLogger(__name__)

ASK_ACTION = "action_csat_ask"
LISTEN = "action_listen"


def ask_when_done(rasa: RasaClient, ticket: Ticket) -> bool:
    """Have the assistant ask the customer of `ticket`'s conversation; False if it could not."""
    if not ticket.conversation_id:
        return False
    try:
        rasa.execute(ticket.conversation_id, ASK_ACTION)
        # Rasa's `execute` runs the action alone; the assistant then waits for the customer,
        # as after any turn. Without this listen, the rules would not read the rating that
        # follows as a new turn (they start after a listen), and it would go unanswered.
        rasa.append_event(ticket.conversation_id, {"event": "action", "name": LISTEN})
    except RasaError as exc:
        logger.warning("CSAT not asked for %s: %s", ticket.reference, exc)
        return False
    return True
