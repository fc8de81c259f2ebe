"""`rasa run`, with Rasa's API token read from the environment instead of the command line.

Any local user can read a process's command line (`ps`, /proc/PID/cmdline); its environment
only its owner can. The launcher starts `python -m madoguchi.runtime.rasa_server run …`, and
this adds `--auth-token` and `--jwt-secret` (the same secret: the desk sends a JWT signed with
it in the Authorization header, so the token never travels in a query string) to the
arguments inside the process, where no other user sees them.

It also sets `--cors` from this process's settings: browsers may call Rasa only from the desk's
pages (the chat demo is one) and MADOGUCHI_CHAT_ORIGINS, never from any page ("*" let any web
page open in an operator's browser use the API).
"""

from __future__ import annotations

import re
import sys

from rasa.__main__ import main as rasa_main

from madoguchi.infra.settings import settings

DESK_ORIGINS = ("http://127.0.0.1:8000", "http://localhost:8000")


def origin_pattern(origin: str) -> str:
    """An origin as sanic-cors reads it; `http://host:*` becomes "any port of that host".

    sanic-cors takes a value with "*", "\\", "]" or "?" for a regular expression (re.match).
    """
    if origin.endswith(":*"):
        return "^" + re.escape(origin[:-2]) + r":\d+$"
    return origin.rstrip("/")


class OpenApiRefused(SystemExit):
    """`--enable-api` without a token: refused in every profile (issue 15, item 7)."""


def rasa_argv(argv: list[str], token: str | None, origins: tuple[str, ...] = ()) -> list[str]:
    """Rasa's own command line for `argv` (without the program name).

    An API without a token would let any local process, or any page a browser on this machine
    opens, `PUT /model` (code execution) or forge events, so `--enable-api` needs one; the
    launcher always hands one over (MADOGUCHI_RASA_TOKEN, made per run when unset).
    """
    if "--enable-api" in argv and not token:
        raise OpenApiRefused(
            "Rasa's HTTP API is enabled without a token: set MADOGUCHI_RASA_TOKEN "
            "(the launcher makes one per run)")
    out = [*argv, "--cors", *(origin_pattern(o) for o in (*DESK_ORIGINS, *origins))]
    if token:
        # `--opt=value`: a token may start with "-" (token_urlsafe), which argparse would take
        # for an option of its own.
        out += [f"--auth-token={token}", f"--jwt-secret={token}", "--jwt-method", "HS256"]
    return out


def main(argv: list[str] | None = None) -> None:
    current = settings()
    sys.argv = ["rasa", *rasa_argv(sys.argv[1:] if argv is None else argv,
                                   current.rasa_token, current.chat_origins)]
    rasa_main()


if __name__ == "__main__":
    main()
