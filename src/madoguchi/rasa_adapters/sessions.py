"""Signed chat sessions: a conversation id is worthless without the server's signature.

The conversation id itself travels everywhere (the desk, the review, exports, the handoff
webhook); what lets a client speak and listen in a conversation is the session token the
server issued with it: `<issued>.<mac>`, where mac = HMAC-SHA256(MADOGUCHI_SESSION_SECRET,
id and issue time), as Chatwoot's identifier hash binds a contact to its chat. The token is
never stored (it is recomputed), so no table, log or export carries it. A token is good for
SESSION_DAYS; after that the chat starts a new conversation (a shared computer's stored id
runs out).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from functools import lru_cache

from madoguchi.infra.settings import settings

logger = logging.getLogger(__name__)

SESSION_DAYS = 7
_SCOPE = b"madoguchi chat session v1\x00"


@lru_cache(maxsize=1)
def _fallback_secret() -> str:
    # `rasa run` started by hand, without the launcher: ids still cannot be forged, they only
    # do not survive this process.
    logger.warning("MADOGUCHI_SESSION_SECRET is not set: chat sessions end with this process")
    return secrets.token_urlsafe(32)


def session_secret() -> str:
    return settings().session_secret or _fallback_secret()


def _mac(secret: str, conversation_id: str, issued: int) -> str:
    message = _SCOPE + f"{conversation_id}\x00{issued}".encode("utf-8", "surrogatepass")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(conversation_id: str, *, secret: str | None = None, now: float | None = None) -> str:
    """The session token for `conversation_id`, issued now."""
    issued = int(time.time() if now is None else now)
    return f"{issued:x}.{_mac(secret or session_secret(), conversation_id, issued)}"


def verify(conversation_id: object, token: object, *, secret: str | None = None,
           now: float | None = None) -> bool:
    """Whether `token` was issued for `conversation_id` by this server and is still good."""
    if not isinstance(conversation_id, str) or not isinstance(token, str) or len(token) > 100:
        return False
    issued_hex, _, mac = token.partition(".")
    try:
        issued = int(issued_hex, 16)
    except ValueError:
        return False
    age = (time.time() if now is None else now) - issued
    if not -300 <= age <= SESSION_DAYS * 86400:
        return False
    expected = _mac(secret or session_secret(), conversation_id, issued)
    return hmac.compare_digest(expected, mac)


def new_session(*, secret: str | None = None) -> tuple[str, str]:
    """A fresh conversation id (32 hex, as the web chat always had) and its token."""
    conversation_id = uuid.uuid4().hex
    return conversation_id, sign(conversation_id, secret=secret)
