"""The outgoing webhook: the call center's own tools hear of each new handoff.

A JSON POST signed with HMAC-SHA256 (header `X-Madoguchi-Signature: sha256=<hex>` over the raw
body), sent from a background thread with a few retries, so that a slow or failing endpoint
never delays the customer. The ticket itself is already in the database; the webhook only
announces it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Madoguchi-Signature"
EVENT_HEADER = "X-Madoguchi-Event"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """For receivers (and tests): does the signature match the body?"""
    return hmac.compare_digest(sign(secret, body), signature)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str
    attempts: int = 4
    first_delay: float = 1.0
    timeout: float = 5.0

    @classmethod
    def from_env(cls) -> Webhook | None:
        """MADOGUCHI_WEBHOOK_URL (+ MADOGUCHI_WEBHOOK_SECRET); None when not configured."""
        url = os.environ.get("MADOGUCHI_WEBHOOK_URL")
        if not url:
            return None
        return cls(url=url, secret=os.environ.get("MADOGUCHI_WEBHOOK_SECRET", ""))

    def _post(self, event: str, body: bytes) -> bool:
        request = urllib.request.Request(
            self.url, data=body, method="POST",
            headers={"Content-Type": "application/json", EVENT_HEADER: event,
                     SIGNATURE_HEADER: sign(self.secret, body)},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def deliver(self, event: str, payload: Mapping[str, Any],
                sleep: Callable[[float], None] = time.sleep) -> bool:
        """Send, retrying with growing pauses; True once the endpoint accepted it."""
        body = json.dumps({"event": event, **payload}, ensure_ascii=False,
                          default=str).encode()
        delay = self.first_delay
        for attempt in range(1, self.attempts + 1):
            if self._post(event, body):
                return True
            if attempt < self.attempts:
                sleep(delay)
                delay *= 2
        # Only the event and the reference: never the customer's data in a log line.
        logger.warning("webhook %s for %s not delivered after %d attempts",
                       event, payload.get("reference"), self.attempts)
        return False

    def deliver_in_background(self, event: str, payload: Mapping[str, Any]) -> threading.Thread:
        thread = threading.Thread(target=self.deliver, args=(event, dict(payload)), daemon=True)
        thread.start()
        return thread


def handoff_payload(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """What a handoff announces: enough to route it, no contact data (the desk has that)."""
    keys = ("reference", "request_types", "priority", "status", "due_at", "created_at",
            "conversation_id")
    return {key: ticket.get(key) for key in keys}
