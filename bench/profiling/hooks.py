"""Timers around Rasa's, rasa_sdk's and madoguchi's functions, installed as modules load.

`install(role, out_dir)` runs in `sitecustomize` (see `site/`), before Rasa is imported: an
import hook wraps the listed functions right after their module has executed, so every later
`from … import` gets the timed one and product code is not touched. Each wrapper adds a span to
the current `spans.Turn` (and does nothing outside a turn). The root span is Sanic's
`handle_request` for the turn's URL — the Rasa server's REST webhook or the action server's
`/webhook` — so a turn's spans cover receiving the body to sending the reply.

Per action-server call the Rasa process also notes the action, the request's size in bytes (as
aiohttp serialises it), the share of it that is the domain, and how many events it carries; it
sends a header with the call's id, which the action server writes with its own spans so the
bench can put the two sides of a call together.

Groups name the cost centres the bench prints; a span's group is fixed here.
"""

from __future__ import annotations

import copy as _copy
import functools
import importlib.abc
import inspect
import itertools
import json
import os
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.profiling import spans

CALL_HEADER = "X-Madoguchi-Turn-Profile-Call"
RASA_TURN_PATH = "/webhooks/rest/webhook"
ACTION_TURN_PATH = "/webhook"

GUARD = "channel guard (madoguchi)"
NLU = "NLU (graph parse)"
RETRIEVE = "tracker store: retrieve"
SAVE = "tracker store: save"
POLICIES = "policies (prediction)"
EXTRACT = "slot extraction"
RUN_ACTION = "applying events, local actions"
TRACKER_COPY = "tracker copy (per action)"
FORM = "form loop (Rasa side)"
CALL_BUILD = "action call: build payload"
CALL_JSON = "action call: serialise JSON"
CALL_HTTP = "action call: HTTP round trip"
CALL_CHECK = "action call: validate reply (jsonschema)"
CALL_RESPONSES = "action call: render responses"
CALL_OTHER = "action call: other (Rasa side)"
LOCK = "lock store + agent"
PROCESSOR = "processor bookkeeping"
HTTP = "HTTP (Sanic, REST channel)"
LOGGING = "logging"
SDK_HTTP = "action server: Sanic"
SDK_PARSE = "action server: parse request JSON"
SDK_TRACKER = "action server: Tracker.from_dict"
SDK_ACTION = "action server: the action's own work"
SDK_EVENTS = "action server: validate events"
SDK_REPLY = "action server: serialise reply JSON"

_call: ContextVar[dict[str, Any] | None] = ContextVar("madoguchi_turn_profile_call",
                                                     default=None)
_call_ids = itertools.count(1)
_write_lock = threading.Lock()
_out: dict[str, Any] = {}


def _add(call: dict[str, Any] | None, key: str, ms: float) -> None:
    if call is not None:
        call[key] = round(call.get(key, 0.0) + ms, 4)


def timed(fn: Callable, name: str, group: str, call_key: str | None = None,
          before: Callable[..., None] | None = None) -> Callable:
    """`fn` measured as span `name`; `before(turn, *args)` may note what the call is about."""
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            turn = spans.current.get()
            if turn is None:
                return await fn(*args, **kwargs)
            if before is not None:
                before(turn, *args, **kwargs)
            frame = turn.enter(name, group)
            try:
                return await fn(*args, **kwargs)
            finally:
                ms = turn.exit(frame)
                if call_key:
                    _add(_call.get(), call_key, ms)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        turn = spans.current.get()
        if turn is None:
            return fn(*args, **kwargs)
        if before is not None:
            before(turn, *args, **kwargs)
        frame = turn.enter(name, group)
        try:
            return fn(*args, **kwargs)
        finally:
            ms = turn.exit(frame)
            if call_key:
                _add(_call.get(), call_key, ms)

    return wrapper


def wrap(owner: type | ModuleType, attr: str, name: str, group: str, **options: Any) -> None:
    """Replace `owner.attr` (a function, method, static- or classmethod) by its timed self."""
    raw = owner.__dict__[attr]
    if isinstance(raw, staticmethod):
        setattr(owner, attr, staticmethod(timed(raw.__func__, name, group, **options)))
    elif isinstance(raw, classmethod):
        setattr(owner, attr, classmethod(timed(raw.__func__, name, group, **options)))
    else:
        setattr(owner, attr, timed(raw, name, group, **options))


class _LogCopies:
    """Stands in for `copy` in modules whose only deep copies are arguments of debug logs.

    Rasa builds those arguments (`copy.deepcopy(events)` …) whatever the log level is.
    """

    deepcopy = staticmethod(timed(_copy.deepcopy, "debug-log deepcopy", LOGGING))

    def __getattr__(self, name: str) -> Any:
        return getattr(_copy, name)


def _write(record: dict[str, Any]) -> None:
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _write_lock:
        _out["file"].write(line)
        _out["file"].flush()


def _root(module: ModuleType, role: str, path: str) -> None:
    """Time Sanic's `handle_request` for the turn's URL: the turn's root span.

    Sanic's "touch-up" recompiles `handle_request` from its source when the server starts
    (following `__wrapped__` back to the original), so the wrapper is put back after it.
    """
    sanic = module.Sanic

    def wrap_root() -> None:
        original = sanic.handle_request
        if getattr(original, "__turn_profiled__", False):
            return

        @functools.wraps(original)
        async def handle_request(self: Any, request: Any) -> Any:
            if request.method != "POST" or request.path.rstrip("/") != path:
                return await original(self, request)
            turn = spans.Turn(role, request.path)
            token = spans.current.set(turn)
            frame = turn.enter("request", HTTP if role == "rasa" else SDK_HTTP)
            try:
                return await original(self, request)
            finally:
                # What Sanic does after the reply is written is no longer the caller's wait.
                turn.exit(frame, turn.sent_at)
                spans.current.reset(token)
                turn.meta["call"] = request.headers.get(CALL_HEADER)
                _write(turn.record())

        handle_request.__turn_profiled__ = True  # type: ignore[attr-defined]
        sanic.handle_request = handle_request

    from sanic.touchup.service import TouchUp

    touch_up = TouchUp.run.__func__

    def run(cls: Any, app: Any) -> None:
        touch_up(cls, app)
        wrap_root()

    TouchUp.run = classmethod(run)
    wrap_root()


def _patch_response(module: ModuleType, group: str) -> None:
    wrap(module, "json", "sanic.response.json", group)
    send = module.BaseHTTPResponse.send

    @functools.wraps(send)
    async def sent(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await send(self, *args, **kwargs)
        turn = spans.current.get()
        if turn is not None:
            turn.sent_at = turn.clock()
        return result

    module.BaseHTTPResponse.send = sent


# --- the Rasa server -------------------------------------------------------------------------

def _note_sender(turn: spans.Turn, agent: Any, message: Any, *_: Any, **__: Any) -> None:
    turn.meta["sender"] = message.sender_id


def _note_action(turn: spans.Turn, processor: Any, action: Any, *_: Any, **__: Any) -> None:
    turn.meta.setdefault("actions", []).append(action.name())


def _note_events(turn: spans.Turn, store: Any, tracker: Any, *_: Any, **__: Any) -> None:
    turn.meta["events"] = len(tracker.events)


def _patch_processor(module: ModuleType) -> None:
    processor = module.MessageProcessor
    wrap(processor, "handle_message", "processor.handle_message", PROCESSOR)
    wrap(processor, "fetch_tracker_and_update_session", "processor.fetch_tracker", PROCESSOR)
    wrap(processor, "_handle_message_with_tracker", "processor.log_user_message", PROCESSOR)
    wrap(processor, "parse_message", "processor.parse_message", PROCESSOR)
    wrap(processor, "_parse_message_with_graph", "nlu", NLU)
    wrap(processor, "run_action_extract_slots", "extract_slots", EXTRACT)
    wrap(processor, "_predict_next_with_tracker", "policies", POLICIES)
    wrap(processor, "_run_action", "run_action", RUN_ACTION, before=_note_action)
    module.copy = _LogCopies()


def _patch_agent(module: ModuleType) -> None:
    wrap(module.Agent, "handle_message", "agent.handle_message", LOCK, before=_note_sender)


def _patch_tracker_store(module: ModuleType) -> None:
    wrap(module.SQLTrackerStore, "_retrieve", "sql.retrieve", RETRIEVE)
    wrap(module.SQLTrackerStore, "save", "sql.save", SAVE, before=_note_events)


def _patch_durable_store(module: ModuleType) -> None:
    # Our store overrides Rasa's retrieve and save (the channel guard's reads included).
    store = module.DurableSQLTrackerStore
    wrap(store, "retrieve", "durable.retrieve", RETRIEVE)
    wrap(store, "save", "durable.save", SAVE, before=_note_events)


def _patch_trackers(module: ModuleType) -> None:
    tracker = module.DialogueStateTracker
    wrap(tracker, "from_dict", "tracker.replay_events", RETRIEVE)
    wrap(tracker, "copy", "tracker.copy", TRACKER_COPY)
    wrap(tracker, "current_state", "tracker.current_state", CALL_BUILD)


_domain_bytes: dict[int, int] = {}


def _start_call(turn: spans.Turn, action: Any) -> dict[str, Any]:
    call = {"id": f"{os.getpid()}-{next(_call_ids)}", "action": action.name()}
    turn.calls.append(call)
    return call


def _note_payload(turn: spans.Turn, action: Any, tracker: Any, domain: Any, *_: Any,
                  **__: Any) -> None:
    call = _call.get()
    if call is None:
        return
    call["events"] = len(tracker.events)
    if not action._is_selective_domain_enabled() or \
            domain.does_custom_action_explicitly_need_domain(action.name()):
        if id(domain) not in _domain_bytes:  # once per process: the domain does not change
            _domain_bytes[id(domain)] = len(json.dumps(domain.as_dict()).encode())
        call["domain_bytes"] = _domain_bytes[id(domain)]


def _patch_actions(module: ModuleType) -> None:
    remote = module.RemoteAction
    original_run = remote.run

    @functools.wraps(original_run)
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        turn = spans.current.get()
        if turn is None:
            return await original_run(self, *args, **kwargs)
        call = _start_call(turn, self)
        token = _call.set(call)
        frame = turn.enter("remote_action.run", CALL_OTHER)
        try:
            return await original_run(self, *args, **kwargs)
        finally:
            _add(call, "ms", turn.exit(frame))
            _call.reset(token)

    remote.run = run
    wrap(remote, "_action_call_format", "remote_action.payload", CALL_BUILD,
         call_key="build_ms", before=_note_payload)
    wrap(remote, "_validate_action_result", "remote_action.validate", CALL_CHECK)
    wrap(remote, "_utter_responses", "remote_action.responses", CALL_RESPONSES)


def _patch_fast_paths(module: ModuleType) -> None:
    """madoguchi's fast paths put their own payload builder in Rasa's place (the notice answers'
    calls carry the current turn and no domain): time that one, around Rasa's unwrapped one."""
    module._original_call_format = inspect.unwrap(module._original_call_format)

    def note(turn: spans.Turn, action: Any, tracker: Any, domain: Any, *_: Any,
             **__: Any) -> None:
        call = _call.get()
        if call is not None and action.name() in module.CURRENT_TURN_ACTIONS:
            call["events"] = len(module.current_turn(tracker.events))
        else:
            _note_payload(turn, action, tracker, domain)

    module.RemoteAction._action_call_format = timed(
        module.action_call_format, "remote_action.payload", CALL_BUILD, call_key="build_ms",
        before=note)


def _patch_loops(module: ModuleType) -> None:
    wrap(module.LoopAction, "run", "loop.run", FORM)


def _patch_endpoints(module: ModuleType) -> None:
    config = module.EndpointConfig
    original = config.request

    @functools.wraps(original)
    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _call.get()
        if call is not None:
            kwargs["headers"] = {**kwargs.get("headers", {}), CALL_HEADER: call["id"]}
        return await original(self, *args, **kwargs)

    config.request = timed(request, "endpoint.request", CALL_HTTP, call_key="round_trip_ms")


def _patch_payload(module: ModuleType) -> None:
    payload = module.JsonPayload
    original = payload.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        call = _call.get()
        if call is not None:
            call["bytes"] = call.get("bytes", 0) + int(self.size or 0)

    payload.__init__ = timed(init, "aiohttp.json", CALL_JSON, call_key="json_ms")


def _patch_channels(module: ModuleType) -> None:
    # Every function the module defines (the checks and the masking, whatever their names),
    # and the REST channel's own readers of the message: together, the guard's cost.
    for name, value in list(vars(module).items()):
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            wrap(module, name, f"guard.{name}", GUARD)
    rest = module.GuardedRestInput
    for name, value in list(vars(rest).items()):
        if inspect.isfunction(value) and name != "blueprint":
            wrap(rest, name, f"guard.rest.{name}", GUARD)


def _patch_logging(module: ModuleType) -> None:
    wrap(module.Logger, "callHandlers", "logging.handlers", LOGGING)


# --- the action server -----------------------------------------------------------------------

def _note_sdk_action(turn: spans.Turn, executor: Any, action_call: Any, *_: Any,
                     **__: Any) -> None:
    if isinstance(action_call, dict):
        turn.meta["action"] = action_call.get("next_action")


def _patch_executor(module: ModuleType) -> None:
    executor = module.ActionExecutor
    wrap(executor, "run", "executor.run", SDK_ACTION, before=_note_sdk_action)
    wrap(executor, "validate_events", "executor.validate_events", SDK_EVENTS)
    wrap(executor, "_create_api_response", "executor.api_response", SDK_EVENTS)


def _patch_sdk_tracker(module: ModuleType) -> None:
    wrap(module.Tracker, "from_dict", "sdk.tracker_from_dict", SDK_TRACKER)


def _patch_request(module: ModuleType) -> None:
    wrap(module.Request, "load_json", "sanic.load_json", SDK_PARSE)


def patches(role: str) -> dict[str, Callable[[ModuleType], None]]:
    """Module name → what to wrap in it once it has executed, for this server."""
    if role == "rasa":
        return {
            "sanic.app": lambda m: _root(m, "rasa", RASA_TURN_PATH),
            "sanic.response": lambda m: _patch_response(m, HTTP),
            "rasa.core.processor": _patch_processor,
            "rasa.core.agent": _patch_agent,
            "rasa.core.tracker_store": _patch_tracker_store,
            "madoguchi.rasa_adapters.tracker_store": _patch_durable_store,
            "rasa.shared.core.trackers": _patch_trackers,
            "rasa.core.actions.action": _patch_actions,
            "madoguchi.rasa_adapters.fast_paths": _patch_fast_paths,
            "rasa.core.actions.loops": _patch_loops,
            "rasa.core.actions.forms": lambda m: setattr(m, "copy", _LogCopies()),
            "rasa.core.policies.memoization": lambda m: setattr(m, "copy", _LogCopies()),
            "rasa.core.policies.rule_policy": lambda m: setattr(m, "copy", _LogCopies()),
            "rasa.utils.endpoints": _patch_endpoints,
            "aiohttp.payload": _patch_payload,
            "madoguchi.rasa_adapters.channels": _patch_channels,
            "logging": _patch_logging,
        }
    return {
        "sanic.app": lambda m: _root(m, "actions", ACTION_TURN_PATH),
        "sanic.response": lambda m: _patch_response(m, SDK_REPLY),
        "sanic.request": _patch_request,
        "rasa_sdk.executor": _patch_executor,
        "rasa_sdk.interfaces": _patch_sdk_tracker,
        "logging": _patch_logging,
    }


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: lets the other finders load a module, then patches it."""

    def __init__(self, todo: dict[str, Callable[[ModuleType], None]]) -> None:
        self.todo = todo

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        patch = self.todo.pop(fullname, None)
        if patch is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        execute = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            execute(module)
            patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


def install(role: str, out_dir: Path) -> None:
    """Start profiling this process: turns are written to `out_dir/<role>-<pid>.jsonl`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _out["file"] = (out_dir / f"{role}-{os.getpid()}.jsonl").open("a", encoding="utf-8")
    todo = patches(role)
    only = os.environ.get("MADOGUCHI_TURN_PROFILE_ONLY")  # to measure the hooks' own cost
    if only:
        todo = {name: patch for name, patch in todo.items()
                if name == "sanic.app" or any(name.startswith(p) for p in only.split(","))}
    for name in [n for n in todo if n in sys.modules]:  # already loaded (logging)
        todo.pop(name)(sys.modules[name])
    sys.meta_path.insert(0, _PatchOnImport(todo))
