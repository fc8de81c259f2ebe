"""How madoguchi's own processes prove themselves to Rasa's HTTP API: a short-lived JWT.

Rasa accepts its plain `--auth-token` only as a `?token=` query parameter, which access logs,
proxies and browser histories keep. With `--jwt-secret` set to the same secret (the launcher
does so, `madoguchi.runtime.rasa_server`) it also accepts `Authorization: Bearer <JWT>`
signed with it; an "admin" role may call every endpoint.
"""

from __future__ import annotations

import time

import jwt

LIFETIME_SECONDS = 300


def bearer(token: str, *, now: float | None = None) -> str:
    """The Authorization header's value for Rasa's API, good for LIFETIME_SECONDS."""
    issued = int(time.time() if now is None else now)
    claims = {"user": {"username": "madoguchi", "role": "admin"},
              "iat": issued, "exp": issued + LIFETIME_SECONDS}
    return "Bearer " + jwt.encode(claims, token, algorithm="HS256")
