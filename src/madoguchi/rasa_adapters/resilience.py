"""A turn that fails says so: the customer is asked to send the message again.

Rasa 3.6 swallows a failed custom action (an action server that is down, a 503 from the
balancer): it logs "Encountered an exception while running action …", drops the action's events
and says nothing, so the customer waits for an answer that never comes. A tracker store that
cannot be reached (the database restarting) makes the whole turn raise, and the REST channel
answers with an empty list. Both are turned here into a polite message from
`data/dialogue/faults.yml`.

Nothing is rewritten in the tracker: Rasa has already stored the customer's message and the
failed action without its events, so the conversation stands where it stood before the message
(an active form still waits for the same answer, a summary still waits for its confirmation),
and the customer's resent words are read as a fresh turn. (Rasa's own `UserUtteranceReverted`
looks like the tool for this, but inside an active form it rewinds much further than the last
message, because `applied_events` folds the form's turns together first.)
A turn that raised was never saved at all.
"""

from __future__ import annotations

import contextvars
import logging
import traceback
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

import yaml

from madoguchi.infra.settings import project_root

logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(BaseException):
    """The conversation store stayed down (madoguchi.rasa_adapters.tracker_store).

    A BaseException on purpose: Rasa's `FailSafeTrackerStore` catches every `Exception` and
    carries on with an empty conversation, which must not happen to a customer mid-request.
    """

# Rasa's message when it drops a failed action (rasa/core/processor.py, `_run_action`).
_ACTION_FAILED = "Encountered an exception while running action"
_failures: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "madoguchi_failed_actions", default=None
)


class _FailedActionFilter(logging.Filter):
    """Notes, for the turn being handled in this task, that Rasa dropped a failed action."""

    def filter(self, record: logging.LogRecord) -> bool:
        failures = _failures.get()
        if failures is not None and str(record.msg).startswith(_ACTION_FAILED):
            failures.append(str(record.msg))
        return True


_FILTER = _FailedActionFilter()


def _install_filter() -> None:
    processor_logger = logging.getLogger("rasa.core.processor")
    if _FILTER not in processor_logger.filters:
        processor_logger.addFilter(_FILTER)


@lru_cache(maxsize=1)
def retry_text() -> str:
    path = project_root() / "data" / "dialogue" / "faults.yml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["retry"])


Handler = Callable[[Any], Awaitable[Any]]


def failure_description(exc: BaseException) -> str:
    """Where a turn failed, never what it was about: an exception's message may quote the
    customer's words (SQLAlchemy's states a failed statement's parameters: the event's JSON)."""
    where = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    return f"{type(exc).__name__}\n{where}"


def resilient(on_new_message: Handler) -> Handler:
    """Wrap Rasa's message handler so that the customer hears of a failed turn."""
    _install_filter()

    async def handler(message: Any) -> Any:
        failures: list[str] = []
        token = _failures.set(failures)
        try:
            result = await on_new_message(message)
        except (Exception, TrackerStoreUnavailable) as exc:
            # Never saved (the tracker store is written last): nothing to undo.
            logger.error("turn for %s failed; the customer is asked to resend: %s",
                         message.sender_id, failure_description(exc))
            await _tell(message)
            return None
        finally:
            _failures.reset(token)
        if failures:
            logger.warning("a custom action failed for %s; the customer is asked to resend",
                           message.sender_id)
            await _tell(message)
        return result

    return handler


async def _tell(message: Any) -> None:
    try:
        await message.output_channel.send_text_message(message.sender_id, retry_text())
    except Exception as exc:
        logger.error("could not tell %s to resend: %s", message.sender_id,
                     failure_description(exc))
