"""Who is calling the desk, and may they.

The API takes `Authorization: Bearer TOKEN`. Logging in to the console trades the token for a
session (`UserRepository.start_session`): a random id in an HttpOnly, SameSite=Strict cookie
(Secure when the desk is reached over TLS), a row with its expiry in the database; logging out
deletes the row. The permanent token never sits in the browser. The cookie also opens the
API's read-only calls (the live queue stream and the transcript refresh of the pages), never
its writes: the console writes through its own form routes, which also check a CSRF field
derived from the session id.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from fastapi import HTTPException, Request, Response

from madoguchi.tickets import ROLES, User
from madoguchi.tickets.users import SESSION_SECONDS

from .service import Desk

COOKIE = "madoguchi_desk"
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
    """The console session's id from the login cookie (not a user's token)."""
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
        users = desk_of(request).users
        if token is not None:
            user = users.authenticate(token)
        elif request.method in SAFE_METHODS and cookie_token(request) is not None:
            user = users.session_user(cookie_token(request))
        else:
            raise _unauthorized("認証が必要です (send Authorization: Bearer TOKEN)")
        if user is None:
            raise _unauthorized("トークンが無効です (invalid or disabled token)")
        check_role(user, role)
        request.state.user = user  # who a refused change was attempted by (app.py)
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


require_operator = api_user(OPERATOR)
require_supervisor = api_user(SUPERVISOR)


def page_user(request: Request) -> User | None:
    """The console user of the login session, or None (the page then sends them to log in)."""
    return desk_of(request).users.session_user(cookie_token(request))


def start_session(response: Response, request: Request, user: User) -> None:
    """Log `user` in: a new session, its id in the cookie."""
    set_login_cookie(response, request, desk_of(request).users.start_session(user))


def end_session(response: Response, request: Request) -> None:
    """Log out: the session is deleted on the server, the cookie in the browser."""
    desk_of(request).users.end_session(cookie_token(request))
    clear_login_cookie(response, request)


def set_login_cookie(response: Response, request: Request, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        session_id,
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
    """A form field only pages served to the session's holder can know."""
    return hmac.new(token.encode(), b"madoguchi-desk-form", hashlib.sha256).hexdigest()[:32]


def csrf_ok(request: Request, value: str | None) -> bool:
    token = cookie_token(request)
    return bool(token and value) and hmac.compare_digest(csrf_token(token), value or "")
