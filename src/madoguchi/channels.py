"""Rasa input channels that never let a card number or individual number in.

They replace Rasa's `rest` and `socketio` channels under the same names (so the webhook stays
`POST /webhooks/rest/webhook`): before a message reaches NLU, the tracker store or a log, a
credit-card number or マイナンバー in it is replaced by a label, and the customer is told at once
not to send such numbers. Everything else is Rasa's own channel code.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint
from sanic.request import Request

from madoguchi.settings import project_root
from madoguchi.text.pii import mask_forbidden

# Messages longer than this are cut before NLU: no real inquiry is this long, and a huge
# message must not occupy the server. The tail is replaced by a visible marker.
MAX_MESSAGE_CHARS = 5000
_CUT_MARK = "…（以下省略）"

Handler = Callable[[UserMessage], Awaitable[Any]]


@lru_cache(maxsize=4)
def _response(name: str) -> str:
    # The wording lives with the other responses in the domain, not in code.
    domain = yaml.safe_load((project_root() / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][name][0]["text"]


def clean_text(text: Any) -> tuple[str, set[str]]:
    """The text as it may be processed and stored, and the forbidden kinds that were masked."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # Control characters carry nothing a customer meant, and NUL cannot be stored in PostgreSQL.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    masked, kinds = mask_forbidden(text)
    if len(masked) > MAX_MESSAGE_CHARS:
        masked = masked[:MAX_MESSAGE_CHARS] + _CUT_MARK
    return masked, kinds


def _guarded(on_new_message: Handler) -> Handler:
    async def handler(message: UserMessage) -> Any:
        message.text, kinds = clean_text(message.text)
        if not message.text.strip():
            # Nothing to read: say so, and leave the conversation as it was.
            await message.output_channel.send_text_message(
                message.sender_id, _response("utter_empty_message")
            )
            return None
        flagged = set(kinds) | set((message.metadata or {}).get("madoguchi_masked", []))
        if flagged:
            metadata = dict(message.metadata or {})
            metadata["madoguchi_masked"] = sorted(flagged)
            message.metadata = metadata
            await message.output_channel.send_text_message(
                message.sender_id, _response("utter_forbidden_number")
            )
        return await on_new_message(message)

    return handler


class GuardedRestInput(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`) with forbidden numbers masked first."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def _extract_message(self, req: Request) -> str | None:
        # Masked here too, so that even Rasa's own error logging never sees the raw number.
        raw = (req.json or {}).get("message") if isinstance(req.json, dict) else None
        return clean_text(raw)[0]

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = dict(super().get_metadata(request) or {})
        raw = (request.json or {}).get("message") if isinstance(request.json, dict) else None
        kinds = clean_text(raw)[1]
        if kinds:
            metadata["madoguchi_masked"] = sorted(kinds)
        return metadata or None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        return super().blueprint(_guarded(on_new_message))


# The web chat keeps its conversation id; only ids of the form we hand out are accepted.
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


class OperatorMarkingOutput(SocketIOOutput):
    """Rasa's socket.io output, telling the web chat which words are an operator's."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not kwargs.get("operator"):
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, "metadata": {"operator": True}})


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the web chat) with forbidden numbers masked first."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OperatorMarkingOutput | None:
        return None if self.sio is None else OperatorMarkingOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        blueprint = super().blueprint(_guarded(on_new_message))
        sio = self.sio

        # Rasa 3.6 calls AsyncServer.enter_room without await, which python-socketio 5.18
        # needs: the browser would never join its conversation's room and get no reply.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            given = data.get("session_id") if isinstance(data, dict) else None
            valid = isinstance(given, str) and _SESSION_ID.match(given)
            session_id = given if valid else uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        return blueprint
