"""Who is calling the desk, and may they.

The API takes `Authorization: Bearer TOKEN`. The console keeps the same token in an HttpOnly,
SameSite=Strict cookie after logging in; that cookie also opens the API's read-only calls (the
live queue stream and the transcript refresh of the pages), never its writes: the console
writes through its own form routes, which also check a CSRF field derived from the token.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from fastapi import HTTPException, Request, Response

from madoguchi.tickets import ROLES, User

from .service import Desk

COOKIE = "madoguchi_desk"
# One working day (the desk is open 9:00-21:00); logging in again the next day is fine.
SESSION_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD"})

OPERATOR, SUPERVISOR = "operator", "supervisor"


def desk_of(request: Request) -> Desk:
    return request.app.state.desk


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def cookie_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE) or None


def may(user: User, role: str) -> bool:
    """Operator calls are open to supervisors too; supervisor calls are not open to operators."""
    if role == OPERATOR:
        return user.role in ROLES
    return user.role == role


def check_role(user: User, role: str) -> None:
    if not may(user, role):
        raise HTTPException(
            status_code=403,
            detail=f"この操作には {role} の権限が必要です (requires the {role} role)",
        )


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def api_user(role: str) -> Callable[[Request], User]:
    """A dependency: the calling user, holding `role` (401 / 403 otherwise)."""

    def dependency(request: Request) -> User:
        token = bearer_token(request)
        if token is None and request.method in SAFE_METHODS:
            token = cookie_token(request)
        if token is None:
            raise _unauthorized("認証が必要です (send Authorization: Bearer TOKEN)")
        user = desk_of(request).users.authenticate(token)
        if user is None:
            raise _unauthorized("トークンが無効です (invalid or disabled token)")
        check_role(user, role)
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


require_operator = api_user(OPERATOR)
require_supervisor = api_user(SUPERVISOR)


def page_user(request: Request) -> User | None:
    """The console user from the login cookie, or None (the page then sends them to log in)."""
    return desk_of(request).users.authenticate(cookie_token(request))


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def clear_login_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict",
        secure=request.url.scheme == "https",
    )


def csrf_token(token: str) -> str:
    """A form field only pages served to the token's holder can know."""
    return hmac.new(token.encode(), b"madoguchi-desk-form", hashlib.sha256).hexdigest()[:32]


def csrf_ok(request: Request, value: str | None) -> bool:
    token = cookie_token(request)
    return bool(token and value) and hmac.compare_digest(csrf_token(token), value or "")
