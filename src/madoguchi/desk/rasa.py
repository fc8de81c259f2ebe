"""The desk's side of Rasa's HTTP API: read a conversation, append an operator's turn, resume.

Plain urllib with short timeouts: the desk must stay usable (without the transcript) when Rasa
is down, so every failure becomes one `RasaError` the callers can show.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from madoguchi.review.events import bot_text

# Who said a transcript line: the customer, the assistant, a person at the desk, or a marker
# of the handoff itself (pause / resume).
CUSTOMER, BOT, OPERATOR, SYSTEM = "customer", "bot", "operator", "system"


class RasaError(RuntimeError):
    """Rasa did not answer, or answered with an error."""


@dataclass(frozen=True)
class RasaClient:
    base_url: str
    token: str | None = None
    timeout: float = 5.0

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = dict(params or {})
        if self.token:
            query["token"] = self.token
        url = self.base_url.rstrip("/") + path
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def _request(
        self, method: str, path: str, payload: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        request = urllib.request.Request(
            self._url(path, params),
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise RasaError(f"Rasa answered {exc.code} to {method} {path}") from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RasaError(f"Rasa does not answer at {self.base_url}: {reason}") from exc
        if not body:
            return None
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RasaError(f"Rasa sent something that is not JSON for {method} {path}") from exc

    @staticmethod
    def _conversation_path(conversation_id: str, tail: str) -> str:
        return f"/conversations/{urllib.parse.quote(conversation_id, safe='')}/{tail}"

    def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The whole conversation, across restarts (the operator should see everything)."""
        result = self._request(
            "GET",
            self._conversation_path(conversation_id, "tracker"),
            params={"include_events": "ALL"},
        )
        if not isinstance(result, dict):
            raise RasaError("Rasa sent a tracker that is not an object")
        return result

    def append_event(
        self, conversation_id: str, event: dict[str, Any], *, deliver: bool = False
    ) -> None:
        """Store `event` in the conversation's log.

        `deliver` also sends a bot message out through the customer's latest channel (Rasa's
        `execute_side_effects`): a socket.io web chat receives it at once; the REST channel
        has no way to push, its widget reads the log.
        """
        params = {"include_events": "NONE"}
        if deliver:
            params |= {"output_channel": "latest", "execute_side_effects": "true"}
        self._request(
            "POST", self._conversation_path(conversation_id, "tracker/events"), event, params
        )


def _iso(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def transcript(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    """Who said what and when, oldest first: {at, who, text, name}.

    An operator's turn is a bot event whose metadata names the operator; pause and resume
    (the handoff and the handback) appear as `system` lines.
    """
    lines: list[dict[str, Any]] = []
    for event in tracker.get("events") or []:
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        at = _iso(event.get("timestamp"))
        if kind == "user":
            lines.append({"at": at, "who": CUSTOMER, "text": event.get("text") or "", "name": None})
        elif kind == "bot":
            operator = (event.get("metadata") or {}).get("operator")
            text = bot_text(event)
            if not text:
                continue
            if operator:
                lines.append({"at": at, "who": OPERATOR, "text": text, "name": str(operator)})
            else:
                lines.append({"at": at, "who": BOT, "text": text, "name": None})
        elif kind == "pause":
            lines.append({"at": at, "who": SYSTEM, "text": "担当者に引き継ぎました（ボット停止）",
                          "name": None})
        elif kind == "resume":
            lines.append({"at": at, "who": SYSTEM, "text": "ボットに戻しました", "name": None})
    return lines


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether something answers `url` without a server error (for /health)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False
