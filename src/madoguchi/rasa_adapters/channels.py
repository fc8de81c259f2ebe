"""Rasa input channels that never let a card number or individual number in.

They replace Rasa's `rest` and `socketio` channels under the same names (so the webhook stays
`POST /webhooks/rest/webhook`): before a message reaches NLU, the tracker store or a log, a
credit-card number or マイナンバー in it is replaced by a label, and the customer is told at once
not to send such numbers.

Before any of that, in this order, each costing little whatever arrives:
- the REST webhook refuses what cannot be a customer's message (`webhook_payload`): Rasa would
  answer 500 to a body that is not a JSON object, file a message without `sender` under one
  shared conversation "default", and its SQL tracker store exits the whole server on a sender
  id that the database cannot encode (a lone surrogate, NUL);
- a conversation is entered only with the session token the server issued for it
  (`sessions.py`): REST `session_token` beside `sender` (`GET /webhooks/rest/session` issues a
  pair), socket.io `session_request` with `session_id` and `session_token` (the server
  confirms the pair, or issues a new one: a `session_token` event, then `session_confirm`);
- a conversation and a client address send at most so many messages a minute (429);
- the text is cut to MAX_MESSAGE_CHARS first, then cleaned and masked: bounded work;
- only the commands the chat's buttons send reach Rasa as commands ("/request_disclosure",
  '/deny{"fix_slot": "phone"}'), and none while an operator holds the conversation: Rasa would
  honour "/restart" even then. Anything else starting with "/" stays the customer's words.

Rasa's own REST handler logs the message text when a turn fails or the client goes away; the
handler here logs neither the text nor an exception's message.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import json
import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import socketio
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from madoguchi.infra.settings import project_root, settings
from madoguchi.rasa_adapters import contact, sessions
from madoguchi.rasa_adapters.limits import Limiter, limiter
from madoguchi.rasa_adapters.resilience import (
    TrackerStoreUnavailable,
    failure_description,
    resilient,
    retry_text,
)
from madoguchi.text.characters import storable
from madoguchi.text.pii import mask_forbidden

logger = logging.getLogger(__name__)

# Messages longer than this are cut before NLU: no real inquiry is this long, and a huge
# message must not occupy the server. The tail is replaced by a visible marker.
MAX_MESSAGE_CHARS = 5000
_CUT_MARK = "…（以下省略）"
# Cut this much beyond the limit before masking, so that a number across the cut is still
# recognised and masked, then cut again.
_MASK_MARGIN = 64

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


def _refusal(rejected: RejectedInput) -> HTTPResponse:
    return response.json(rejected.body(), status=rejected.status, ensure_ascii=False)


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


def check_session(payload: dict[str, Any]) -> None:
    """RejectedInput (403) unless `session_token` is the server's token for `sender`.

    Outside production (a loopback `make run`) a sender without a token is accepted, as Rasa's
    standard REST channel accepts it (DESIGN.md's contract); a token that is given must still
    be the right one.
    """
    token = payload.get("session_token")
    if token is None and not settings().production:
        return
    if not sessions.verify(payload.get("sender"), token):
        raise RejectedInput(
            "session_invalid",
            "この会話を続けることはできません。新しい会話を始めてください"
            " (session_token missing or not issued for this sender: GET /webhooks/rest/session)",
            403,
        )


@lru_cache(maxsize=4)
def _response(name: str) -> str:
    # The wording lives with the other responses in the domain, not in code.
    domain = yaml.safe_load((project_root() / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"][name][0]["text"]


@lru_cache(maxsize=1)
def _limit_text() -> str:
    path = project_root() / "data" / "dialogue" / "limits.yml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["too_many_messages"])


# --- commands ---------------------------------------------------------------------------------

# Rasa reads a message starting with "/" as an intent given directly. The chat's buttons send
# "/<intent>" for an intent of the domain (requests, notice sections, yes/no, a person) or
# Rasa's "/nlu_fallback" ("none of these"), and the summary's "fix this" button sends
# '/deny{"fix_slot": "<slot>"}'; the widget greets with "/greet". Nothing sends Rasa's
# "/restart", "/session_start" or "/back": typed, they are words.
_BUTTON_INTENTS_BESIDES_THE_DOMAIN = frozenset({"nlu_fallback"})
_COMMAND = re.compile(r"/(?P<intent>[A-Za-z0-9_]{1,64})(?P<entities>\{.{0,200}\})?", re.DOTALL)
_FIX_SLOT = re.compile(r"[a-z_]{1,40}")


@lru_cache(maxsize=1)
def _known_intents() -> frozenset[str]:
    domain = yaml.safe_load((project_root() / "domain.yml").read_text(encoding="utf-8"))
    return frozenset(str(i if isinstance(i, str) else next(iter(i))) for i in domain["intents"])


def _is_command(text: str) -> bool:
    """What a button of the chat sends: "/intent", '/deny{"fix_slot": "<slot>"}' or
    '/csat{"score": N}'."""
    if len(text) > 300:
        return False
    found = _COMMAND.fullmatch(text.strip())
    if found is None or found["intent"] not in (
        _known_intents() | _BUTTON_INTENTS_BESIDES_THE_DOMAIN
    ):
        return False
    if found["entities"] is None:
        return True
    try:
        entities = json.loads(found["entities"])
    except (ValueError, RecursionError):
        return False
    if found["intent"] == "affirm":  # an agent's relation: '/affirm{"agent_kind": "<id>"}'
        return (isinstance(entities, dict) and list(entities) == ["agent_kind"]
                and isinstance(entities["agent_kind"], str)
                and _FIX_SLOT.fullmatch(entities["agent_kind"]) is not None)
    if found["intent"] == "csat":  # the CSAT buttons: '/csat{"score":N}' (1-5: the action)
        return (isinstance(entities, dict) and list(entities) == ["score"]
                and isinstance(entities["score"], int | str) and len(str(entities["score"])) <= 3)
    return (
        found["intent"] == "deny" and isinstance(entities, dict) and list(entities) == ["fix_slot"]
        and isinstance(entities["fix_slot"], str)
        and _FIX_SLOT.fullmatch(entities["fix_slot"]) is not None
    )


def looks_like_command(text: Any) -> bool:
    return isinstance(text, str) and text.lstrip()[:1] == "/"


def storable_customer_text(text: Any, *, commands: bool = True) -> tuple[str, set[str]]:
    """The customer's message as it may be processed and stored, and the forbidden kinds masked.

    Cut to MAX_MESSAGE_CHARS first (a mark says so), then control characters, lone surrogates
    and noncharacters dropped, a typed "/word" kept as words (always when `commands` is
    False), forbidden numbers masked. Never refuses: anything becomes some text.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    cut = len(text) > MAX_MESSAGE_CHARS + _MASK_MARGIN
    text = storable(text[:MAX_MESSAGE_CHARS + _MASK_MARGIN])
    if text.lstrip().startswith("/") and not (commands and _is_command(text)):
        # Typed words that only look like a command ("/restart{", "/商品") are words: the
        # full-width slash keeps Rasa from reading them as an intent, and NFKC gives the NLU "/".
        text = text.replace("/", "／", 1)
    masked, kinds = mask_forbidden(text)
    if cut or len(masked) > MAX_MESSAGE_CHARS:
        masked = masked[:MAX_MESSAGE_CHARS] + _CUT_MARK
    return masked, kinds


# --- who is asking ----------------------------------------------------------------------------


def client_address(request: Request) -> str | None:
    """The client's address for its rate limit; None for the machine itself.

    Only a proxy on this machine (HAProxy in the scale profile, a local nginx) is believed
    about X-Forwarded-For, and only its last entry (the address it saw: what a client wrote
    in the header itself comes before). A client on this machine (loopback, directly or
    through the proxy) is a local process (the desk, a test, a drill): not limited by address.
    """
    peer = str(getattr(request, "ip", "") or "")
    try:
        loopback = ipaddress.ip_address(peer).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return peer or None
    # Every X-Forwarded-For line, in order (a client may send its own before the proxy's).
    forwarded = ",".join(request.headers.getall("x-forwarded-for", []))
    last = forwarded.split(",")[-1].strip()[:64]
    try:
        return None if ipaddress.ip_address(last).is_loopback else last
    except ValueError:
        return last or None


class Gate:
    """What is checked before a message is read: the rate limits and the operator's hold."""

    def __init__(self, limits: Limiter | None = None) -> None:
        self.limits = limits or limiter()

    async def admit(self, sender: str, address: str | None) -> RejectedInput | None:
        current = settings()
        if not await self.limits.allow(f"sender:{sender}", current.rate_per_sender):
            return RejectedInput(
                "too_many_messages",
                f"{_limit_text()} (more than {current.rate_per_sender} messages a minute"
                " in this conversation)", 429)
        if address is not None and not await self.limits.allow(
            f"address:{address}", current.rate_per_address
        ):
            return RejectedInput(
                "too_many_from_address",
                f"{_limit_text()} (more than {current.rate_per_address} messages a minute"
                " from this address)", 429)
        return None


async def _paused(agent: Any, sender: str) -> bool:
    """Whether an operator holds the conversation (its latest pause is not yet resumed)."""
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    tracker = await store.retrieve(sender)
    return tracker is not None and tracker.is_paused()


def _log_failure(what: str, message: UserMessage, exc: BaseException) -> None:
    # Never the text, never the exception's message (it may quote the text): where it failed.
    logger.error("%s for %s (%d characters): %s", what, message.sender_id,
                 len(str(message.text or "")), failure_description(exc))


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
        try:
            commands = not (looks_like_command(message.text)
                            and await _paused(_agent.get(), message.sender_id))
            message.text, kinds = storable_customer_text(message.text, commands=commands)
            # Contact data only on the ticket (contact.py): split numbers, then placeholders.
            message.text, split = await contact.join_split_number(
                _agent.get(), message.sender_id, message.text)
            kinds = set(kinds) | split
            message.text = await contact.conceal(_agent.get(), message.sender_id, message.text)
        except asyncio.CancelledError as exc:
            _log_failure("client went away before the message was read", message, exc)
            raise
        except (Exception, TrackerStoreUnavailable) as exc:
            # The conversation could not be read (the database restarting: a BaseException,
            # which nothing else here catches, so the client got no answer at all): nothing
            # was stored, the customer is asked to send the same words again.
            _log_failure("the message could not be read", message, exc)
            await message.output_channel.send_text_message(message.sender_id, retry_text())
            return None
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
        try:
            return await on_new_message(message)
        except asyncio.CancelledError as exc:
            _log_failure("client went away mid-turn", message, exc)
            raise

    return handler


# The Rasa agent serving the message being read (`PUT /model` may replace it): the guard reads
# the conversation's tracker through it.
_agent: contextvars.ContextVar[Any] = contextvars.ContextVar("madoguchi_agent", default=None)


class GuardedRestInput(RestInput):
    """Rasa's REST channel (`/webhooks/rest/webhook`), guarded as the module says."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        guarded = _guarded(on_new_message)
        gate = Gate()
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/session", methods=["GET", "POST"])
        async def session(_: Request) -> HTTPResponse:
            # A new conversation for a REST client: its id and the token that enters it.
            sender, token = sessions.new_session()
            return response.json({"sender": sender, "session_token": token},
                                 headers={"Cache-Control": "no-store"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse | ResponseStream:
            try:
                payload = webhook_payload(request.body or b"")
                check_session(payload)
            except RejectedInput as rejected:
                return _refusal(rejected)
            sender = payload["sender"]
            refused = await gate.admit(sender, client_address(request))
            if refused is not None:
                return _refusal(refused)
            metadata = payload.get("metadata") or None
            _agent.set(getattr(request.app.ctx, "agent", None))
            channel = payload.get("input_channel") or self.name()
            if request.args.get("stream", "").lower() == "true":
                return response.stream(
                    self.stream_response(guarded, payload["message"], sender, channel, metadata),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            message = UserMessage(payload["message"], collector, sender,
                                  input_channel=channel, metadata=metadata)
            try:
                await guarded(message)
            except asyncio.CancelledError:
                pass  # logged by the guard, without the text
            except Exception as exc:
                _log_failure("the turn failed", message, exc)
            return response.json(await contact.reveal_messages(sender, collector.messages))

        return blueprint


class OperatorMarkingOutput(SocketIOOutput):
    """Rasa's socket.io output, telling the web chat which words are an operator's."""

    async def _send_message(self, socket_id: str, response: Any) -> None:
        # The customer's own contact data in clear in their chat; placeholders in the log.
        if isinstance(response, dict) and isinstance(response.get("text"), str):
            response = {**response, "text": await asyncio.to_thread(
                contact.reveal_text, socket_id, response["text"])}
        await super()._send_message(socket_id, response)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        if not kwargs.get("operator"):
            await super().send_text_message(recipient_id, text, **kwargs)
            return
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, {"text": part, "metadata": {"operator": True}})


class GuardedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the web chat), guarded as the module says."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> OperatorMarkingOutput | None:
        return None if self.sio is None else OperatorMarkingOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        guarded = _guarded(on_new_message)
        blueprint = super().blueprint(guarded)
        sio = self.sio
        gate = Gate()
        redis_url = settings().socketio_redis_url
        if redis_url:
            # Several replicas (scale profile): rooms are shared through Redis, so a message
            # emitted by any replica reaches the customer's socket on whichever one holds it.

            manager = socketio.AsyncRedisManager(redis_url)
            manager.set_server(sio)
            sio.manager = manager

        def request_of(sid: str) -> Request | None:
            environ = sio.get_environ(sid, namespace=self.namespace) or {}
            return environ.get("sanic.request")

        # Replaces Rasa's: it joins any room a client names (and, in Rasa 3.6, calls
        # AsyncServer.enter_room without await, so the browser would never join at all).
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            given = data.get("session_id") if isinstance(data, dict) else None
            token = data.get("session_token") if isinstance(data, dict) else None
            if sessions.verify(given, token) and valid_sender(given):
                session_id = str(given)
                token = sessions.sign(session_id)  # renewed: a visit keeps it fresh
            else:
                session_id, token = sessions.new_session()
            await sio.save_session(sid, {"session_id": session_id}, namespace=self.namespace)
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            # The token first, then Rasa's own confirmation (the id as a string, as rasa-webchat
            # expects): a client that keeps the pair may come back to this conversation.
            await sio.emit("session_token", {"session_id": session_id, "session_token": token},
                           room=sid, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        # Replaces Rasa's: it takes any `session_id` a message names as the conversation.
        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            confirmed = (await sio.get_session(sid, namespace=self.namespace)).get("session_id")
            if confirmed is None or data.get("session_id") != confirmed:
                logger.warning("socket.io message outside its confirmed session ignored")
                return
            output = self.get_output_channel()
            request = request_of(sid)
            refused = await gate.admit(confirmed, client_address(request) if request else None)
            if refused is not None:
                await output.send_text_message(confirmed, _limit_text())
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except (ValueError, RecursionError):
                    metadata = {}
            _agent.set(getattr(request.app.ctx, "agent", None) if request is not None else None)
            await guarded(UserMessage(data.get("message", ""), output, confirmed,
                                      input_channel=self.name(),
                                      metadata=metadata if isinstance(metadata, dict) else None))

        return blueprint
