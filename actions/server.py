"""The action server: rasa_sdk's own, with the webhook outbox's worker started first.

`python -m actions.server --actions actions --port 5055` takes `rasa run actions`' arguments
and does what it does (rasa's CLI hands them to rasa_sdk unchanged). Starting the worker here,
and not when a module is imported, delivers what an earlier process could not before the next
handoff, and keeps importing the actions (tests, rasa_sdk's registry) free of threads.
"""

from __future__ import annotations

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

from actions.store import webhook_outbox


def main(argv: list[str] | None = None) -> None:
    args = create_argument_parser().parse_args(argv)
    webhook_outbox()
    main_from_args(args)


if __name__ == "__main__":
    main()
