"""The action server: rasa_sdk's own app, with the webhook outbox's worker started first, bound
to loopback unless told otherwise, answering only Rasa.

`python -m actions.server --actions actions --port 5055 [--interface HOST]` takes `rasa run
actions`' arguments and serves rasa_sdk's app as `rasa run actions` does, with two differences:
- it listens on `--interface` (default 127.0.0.1; rasa_sdk itself always takes 0.0.0.0);
- every call but `GET /health` must carry MADOGUCHI_ACTION_TOKEN, which Rasa sends as the
  `token` query parameter of its `action_endpoint` (endpoints.yml: `token:`); anything else is
  answered 401, so nobody who reaches the port can post a forged tracker and open tickets.
  Without the variable the server refuses to start.
Starting the worker here, and not when a module is imported, delivers what an earlier process
could not before the next handoff, and keeps importing the actions (tests, rasa_sdk's
registry) free of threads.
"""

from __future__ import annotations

import argparse
import hmac
import logging

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app, create_argument_parser
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.store import webhook_outbox
from madoguchi.infra.settings import settings

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})


def require_token(app: Sanic, token: str) -> None:
    """Every request but the health check carries `token` (compared in constant time)."""
    expected = token.encode()

    @app.middleware("request")
    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.args.get("token", "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return response.json({"error": "unauthorized",
                              "detail": "the action server answers Rasa only (token)"},
                             status=401)


def parser() -> argparse.ArgumentParser:
    arguments = create_argument_parser()
    arguments.add_argument("--interface", default="127.0.0.1",
                           help="interface to listen on (default: loopback)")
    return arguments


def main_from_args(args: argparse.Namespace) -> None:
    token = settings().action_token
    if not token:
        raise SystemExit("Refusing to start the action server without MADOGUCHI_ACTION_TOKEN "
                         "(the launcher makes one; Rasa sends it from endpoints.yml).")
    utils.configure_colored_logging(args.loglevel)
    utils.update_sanic_log_level()
    # Only Rasa calls it, server to server: no browser origin is allowed.
    app = create_app(args.actions, cors_origins="", auto_reload=args.auto_reload)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    require_token(app, token)
    logger.info("action server on http://%s:%s", args.interface, args.port)
    app.run(args.interface, args.port, workers=utils.number_of_sanic_workers())


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    webhook_outbox()
    main_from_args(args)


if __name__ == "__main__":
    main()
