"""Rasa input channels that never let a card number or individual number in.

They replace Rasa's `rest` and `socketio` channels under the same names (so the webhook stays
`POST /webhooks/rest/webhook`): before a message reaches NLU, the tracker store or a log, a
credit-card number or マイナンバー in it is replaced by a label, and the customer is told at once
not to send such numbers. Everything else is Rasa's own channel code.

The REST webhook also refuses what cannot be a customer's message before Rasa sees it (see
`webhook_payload`): Rasa would answer 500 to a body that is not a JSON object, file a message
without `sender` under one shared conversation "default", and its SQL tracker store exits the
whole server on a sender id that the database cannot encode (a lone surrogate, NUL).
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import socketio
import yaml
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from madoguchi.infra.settings import project_root, settings
from madoguchi.rasa_adapters.resilience import resilient
from madoguchi.text.pii import mask_forbidden

logger = logging.getLogger(__name__)

# Messages longer than this are cut before NLU: no real inquiry is this long, and a huge
# message must not occupy the server. The tail is replaced by a visible marker.
MAX_MESSAGE_CHARS = 5000
_CUT_MARK = "…（以下省略）"

Handler = Callable[[UserMessage], Awaitable[Any]]

# Characters that never reach the tracker store: control characters and lone surrogates.
_UNWRITABLE = frozenset({"Cc", "Cs"})

# What the REST webhook accepts. A body over MAX_BODY_BYTES is refused (413): the longest
# message we keep is MAX_MESSAGE_CHARS; 2 MB still takes a 100,000-character paste however
# its JSON is escaped (an emoji as "\ud83d\ude00" is 12 bytes), with metadata.
# A sender id is the conversation's key: in the tracker store (a 255-character column) and in
# the URL the desk reads the conversation through (`/conversations/{id}/tracker`, which Rasa
# does not percent-decode). So 1 to MAX_SENDER_CHARS of the characters a URL carries as they
# are (RFC 3986 "unreserved"): letters, digits, - . _ ~ (UUIDs, the web chat's hex ids).
MAX_BODY_BYTES = 2_000_000
MAX_SENDER_CHARS = 128
MAX_INPUT_CHANNEL_CHARS = 64
_SENDER = re.compile(r"[A-Za-z0-9._~-]+")


class RejectedInput(ValueError):
    """A webhook request that cannot be a customer's message, with the reason for the caller."""

    def __init__(self, reason: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.status = status

    def body(self) -> dict[str, Any]:
        return {"error": self.reason, "detail": self.detail, "status": self.status}


def _writable(text: str) -> bool:
    return not any(unicodedata.category(ch) in _UNWRITABLE for ch in text)


def valid_sender(sender: Any) -> bool:
    """A conversation id the tracker store and the desk can use (also checked for socket.io)."""
    return (
        isinstance(sender, str) and len(sender) <= MAX_SENDER_CHARS
        and _SENDER.fullmatch(sender) is not None
    )


def webhook_payload(body: bytes) -> dict[str, Any]:
    """The webhook's JSON object, checked; `RejectedInput` says what is wrong with it.

    The body is read as JSON whatever its Content-Type says (as Rasa does: `curl -d` works).
    """
    if len(body) > MAX_BODY_BYTES:
        raise RejectedInput(
            "too_large",
            f"リクエストが大きすぎます。{MAX_BODY_BYTES:,}バイト以内でお送りください"
            f" (body larger than {MAX_BODY_BYTES} bytes)",
            413,
        )
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RejectedInput(
            "invalid_json",
            "リクエストの本文を JSON として読めませんでした。UTF-8 の JSON でお送りください"
            " (body is not UTF-8 JSON)",
        ) from None
    if not isinstance(payload, dict):
        raise RejectedInput(
            "not_an_object",
            'JSON オブジェクト {"sender": …, "message": …} でお送りください'
            " (body must be a JSON object)",
        )
    sender = payload.get("sender")
    if sender is None or (isinstance(sender, str) and not sender.strip()):
        raise RejectedInput(
            "sender_missing",
            "送信者ID（sender）を指定してください (sender is required)",
        )
    if not isinstance(sender, str):
        raise RejectedInput(
            "sender_not_text",
            "送信者ID（sender）は文字列で指定してください (sender must be a string)",
        )
    if len(sender) > MAX_SENDER_CHARS:
        raise RejectedInput(
            "sender_too_long",
            f"送信者ID（sender）は{MAX_SENDER_CHARS}文字以内で指定してください"
            f" (sender is longer than {MAX_SENDER_CHARS} characters)",
        )
    if not valid_sender(sender):
        raise RejectedInput(
            "sender_invalid_characters",
            "送信者ID（sender）には半角英数字と - . _ ~ だけを使ってください"
            " (sender may contain only A-Z a-z 0-9 - . _ ~)",
        )
    message = payload.get("message")
    if message is None:
        raise RejectedInput(
            "message_missing",
            "メッセージ（message）を指定してください (message is required)",
        )
    if not isinstance(message, str):
        raise RejectedInput(
            "message_not_text",
            "メッセージ（message）は文字列で指定してください (message must be a string)",
        )
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise RejectedInput(
            "metadata_not_object",
            "metadata は JSON オブジェクトで指定してください (metadata must be an object)",
        )
    channel = payload.get("input_channel")
    if channel is not None and not (
        isinstance(channel, str) and len(channel) <= MAX_INPUT_CHANNEL_CHARS and _writable(channel)
    ):
        raise RejectedInput(
            "input_channel_invalid",
            f"input_channel は{MAX_INPUT_CHANNEL_CHARS}文字以内の文字列で指定してください"
            f" (input_channel must be a string of at most {MAX_INPUT_CHANNEL_CHARS} characters)",
        )
    return payload


@lru_cache(maxsize=4)
def _response(name: str) -> str:
    # The wording lives with the other responses in the domain, not in code.
    domain = yaml.safe_load((project_root() / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][name][0]["text"]


# Rasa reads a message starting with "/" as an intent given directly (the chat's buttons send
# "/request_disclosure"). Rasa's own intents that a button or a client may send, besides ours:
_RASA_COMMANDS = frozenset({"restart", "session_start", "nlu_fallback", "back"})
_COMMAND = re.compile(r"/(?P<intent>[A-Za-z0-9_]+)(?P<entities>\{.*\})?", re.DOTALL)


@lru_cache(maxsize=1)
def _known_intents() -> frozenset[str]:
    domain = yaml.safe_load((project_root() / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(str(i if isinstance(i, str) else next(iter(i))) for i in domain["intents"])


def _is_command(text: str) -> bool:
    """A well-formed "/intent" or "/intent{json}" naming an intent the assistant knows."""
    found = _COMMAND.fullmatch(text.strip())
    if found is None or found["intent"] not in _known_intents() | _RASA_COMMANDS:
        return False
    if found["entities"] is None:
        return True
    try:
        return isinstance(json.loads(found["entities"]), dict)
    except ValueError:
        return False


def storable_customer_text(text: Any) -> tuple[str, set[str]]:
    """The customer's message as it may be processed and stored (control characters dropped,
    a typed "/word" kept as words, forbidden numbers masked, cut to MAX_MESSAGE_CHARS), and the
    forbidden kinds that were masked. Never refuses: anything becomes some text."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    # Control characters carry nothing a customer meant, and NUL cannot be stored in PostgreSQL;
    # a lone surrogate (valid JSON: "\\ud800") cannot be encoded as UTF-8 at all.
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _UNWRITABLE)
    if text.lstrip().startswith("/") and not _is_command(text):
        # Typed words that only look like a command ("/restart{", "/商品") are words: the
        # full-width slash keeps Rasa from reading them as an intent, and NFKC gives the NLU "/".
        text = text.replace("/", "／", 1)
    masked, kinds = mask_forbidden(text)
    if len(masked) > MAX_MESSAGE_CHARS:
        masked = masked[:MAX_MESSAGE_CHARS] + _CUT_MARK
    return masked, kinds


def _guarded(on_new_message: Handler) -> Handler:
    # A turn that fails (action server or database down) makes the customer resend, politely.
    on_new_message = resilient(on_new_message)

    async def handler(message: UserMessage) -> Any:
        if not valid_sender(message.sender_id):
            # Only a hand-made socket.io client gets here (the REST webhook refused it already);
            # Rasa itself ignores a message without a session id the same way.
            logger.warning("message with an unusable sender id ignored (%d characters)",
                           len(str(message.sender_id)))
            return None
        message.text, kinds = storable_customer_text(message.text)
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
        return storable_customer_text(raw)[0]

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        metadata = dict(super().get_metadata(request) or {})
        raw = (request.json or {}).get("message") if isinstance(request.json, dict) else None
        kinds = storable_customer_text(raw)[1]
        if kinds:
            metadata["madoguchi_masked"] = sorted(kinds)
        return metadata or None

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        blueprint = super().blueprint(_guarded(on_new_message))

        @blueprint.middleware("request")
        async def refuse_bad_input(request: Request) -> HTTPResponse | None:
            # Checked before Rasa's handler reads the body; the parsed object is kept for it.
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                request.parsed_json = webhook_payload(request.body or b"")
            except RejectedInput as rejected:
                return response.json(rejected.body(), status=rejected.status,
                                     ensure_ascii=False)
            return None

        return blueprint


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
        redis_url = settings().socketio_redis_url
        if redis_url:
            # Several replicas (scale profile): rooms are shared through Redis, so a message
            # emitted by any replica reaches the customer's socket on whichever one holds it.

            manager = socketio.AsyncRedisManager(redis_url)
            manager.set_server(sio)
            sio.manager = manager

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
