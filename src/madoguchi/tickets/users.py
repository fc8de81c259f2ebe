"""Desk users and their bearer tokens.

A token is shown once, when it is made; the database keeps only its SHA-256, so a copy of the
database does not open the desk. The tokens are 256 random bits, so a plain hash (no salt, no
slow KDF) is enough: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from madoguchi.infra.db import utcnow, write_session

from .errors import Conflict, InvalidField, NotFound
from .models import ROLES, User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class UserRepository:
    def __init__(self, session_factory: sessionmaker) -> None:
        self._sessions = session_factory

    def create_user(self, name: str, role: str) -> tuple[User, str]:
        """A new active user and its token (the only time the token exists in clear)."""
        name = (name or "").strip()
        if not name or len(name) > 64:
            raise InvalidField("a user name needs 1 to 64 characters")
        if role not in ROLES:
            raise InvalidField(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        token = new_token()
        user = User(name=name, role=role, token_hash=hash_token(token), created_at=utcnow())
        try:
            with write_session(self._sessions) as session:
                session.add(user)
        except IntegrityError as exc:
            raise Conflict(f"user {name!r} already exists") from exc
        return user, token

    def authenticate(self, token: str | None) -> User | None:
        """The active user holding `token`, else None."""
        if not token:
            return None
        digest = hash_token(token)
        with self._sessions() as session:
            user = session.execute(
                select(User).where(User.token_hash == digest)
            ).scalar_one_or_none()
        if user is None or not user.active:
            return None
        return user if hmac.compare_digest(user.token_hash, digest) else None

    def get(self, name: str) -> User | None:
        with self._sessions() as session:
            return session.execute(select(User).where(User.name == name)).scalar_one_or_none()

    def list_users(self) -> list[User]:
        with self._sessions() as session:
            return list(session.execute(select(User).order_by(User.name)).scalars())

    def set_active(self, name: str, active: bool) -> User:
        with write_session(self._sessions) as session:
            user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                raise NotFound(f"user {name!r}")
            user.active = active
        return user

    def reset_token(self, name: str) -> str:
        """Replace a lost or leaked token; the old one stops working at once."""
        token = new_token()
        with write_session(self._sessions) as session:
            user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                raise NotFound(f"user {name!r}")
            user.token_hash = hash_token(token)
        return token
