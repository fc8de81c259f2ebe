"""Desk users, their bearer tokens and the console's login sessions.

A token is shown once, when it is made; the database keeps only its SHA-256, so a copy of the
database does not open the desk. The tokens are 256 random bits, so a plain hash (no salt, no
slow KDF) is enough: there is nothing to guess.

Logging in to the console trades the token for a session: a random id in the cookie, its hash
in `desk_sessions` with an expiry. Logging out deletes the row, so a copied cookie is worth
nothing afterwards, and the permanent token never sits in a browser. Rotating a user's token
(`madoguchi user rotate NAME`) revokes the old token and every session of the user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Column, ForeignKey, Integer, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from madoguchi.infra.db import Base, UTCDateTime, utcnow, write_session

from .errors import Conflict, InvalidField, NotFound
from .models import ROLES, User


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


# One working day (the desk is open 9:00-21:00); logging in again the next day is fine.
SESSION_SECONDS = 12 * 3600


class DeskSession(Base):
    """A console login: the hash of the cookie's random id, whose it is, until when."""

    __tablename__ = "desk_sessions"

    id = Column(Integer, primary_key=True)
    id_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                     index=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False, index=True)


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

    def start_session(self, user: User, seconds: int = SESSION_SECONDS,
                      now: datetime | None = None) -> str:
        """A new login session of `user` (its id, for the cookie); expired ones are dropped."""
        session_id = new_token()
        now = now or utcnow()
        with write_session(self._sessions) as session:
            session.execute(delete(DeskSession).where(DeskSession.expires_at <= now))
            session.add(DeskSession(id_hash=hash_token(session_id), user_id=user.id,
                                    created_at=now, expires_at=now + timedelta(seconds=seconds)))
        return session_id

    def session_user(self, session_id: str | None, now: datetime | None = None) -> User | None:
        """The active user of an unexpired session, else None."""
        if not session_id:
            return None
        with self._sessions() as session:
            row = session.execute(
                select(User, DeskSession.expires_at)
                .join(DeskSession, DeskSession.user_id == User.id)
                .where(DeskSession.id_hash == hash_token(session_id))
            ).first()
        if row is None or not row[0].active or row[1] <= (now or utcnow()):
            return None
        return row[0]

    def end_session(self, session_id: str | None) -> None:
        """Log out: the session stops working at once (nothing when it is unknown)."""
        if not session_id:
            return
        with write_session(self._sessions) as session:
            session.execute(
                delete(DeskSession).where(DeskSession.id_hash == hash_token(session_id))
            )

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

    def rotate_token(self, name: str) -> str:
        """A new token for a lost or leaked one: the old token and every console session of
        the user stop working at once, in one transaction."""
        token = new_token()
        with write_session(self._sessions) as session:
            user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
            if user is None:
                raise NotFound(f"user {name!r}")
            user.token_hash = hash_token(token)
            session.execute(delete(DeskSession).where(DeskSession.user_id == user.id))
        return token

    reset_token = rotate_token  # the name before sessions existed
