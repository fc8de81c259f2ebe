"""The desk's side of Rasa's HTTP API: read a conversation, append an operator's turn, resume.

What the tracker holds is read by `madoguchi.conversation` (its transcript is the one the
review shows too); this module only talks HTTP.

Plain urllib with short timeouts: the desk must stay usable (without the transcript) when Rasa
is down, so every failure becomes one `RasaError` the callers can show.

Rasa's token goes in the Authorization header as a short-lived JWT signed with it
(`madoguchi.infra.rasa_auth`), never in the query string, where access logs would keep it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from madoguchi.infra.rasa_auth import bearer


class RasaError(RuntimeError):
    """Rasa did not answer, or answered with an error."""


@dataclass(frozen=True)
class RasaClient:
    base_url: str
    token: str | None = None
    timeout: float = 5.0

    def _url(self, path: str, params: dict[str, str] | None = None) -> str:
        query = dict(params or {})
        url = self.base_url.rstrip("/") + path
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def _request(
        self, method: str, path: str, payload: Any = None, params: dict[str, str] | None = None
    ) -> Any:
        data = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = bearer(self.token)
        request = urllib.request.Request(
            self._url(path, params), data=data, method=method, headers=headers)
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

    def execute(self, conversation_id: str, action: str) -> None:
        """Run one of the domain's actions in the conversation now (Rasa's `execute`), its
        messages sent through the customer's latest channel."""
        self._request(
            "POST", self._conversation_path(conversation_id, "execute"), {"name": action},
            {"output_channel": "latest", "include_events": "NONE"},
        )


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether something answers `url` without a server error (for /health)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False
