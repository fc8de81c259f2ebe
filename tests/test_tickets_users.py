"""Desk users: tokens shown once, stored only as hashes; the `madoguchi` command."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from madoguchi.infra import db
from madoguchi.runtime import cli
from madoguchi.tickets import Conflict, InvalidField, User, UserRepository


@pytest.fixture
def users(db_sessions) -> UserRepository:
    return UserRepository(db_sessions)


def test_tokens_are_stored_only_as_hashes(users, db_sessions):
    user, token = users.create_user("alice", "operator")
    assert len(token) >= 40
    with db_sessions() as session:
        stored = session.execute(select(User).where(User.name == "alice")).scalar_one()
        row = {c.name: getattr(stored, c.key) for c in User.__table__.columns}
    assert token not in [str(v) for v in row.values()]
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert user.role == "operator"


def test_authenticate_finds_the_user_of_a_token(users):
    alice, alice_token = users.create_user("alice", "operator")
    _, sup_token = users.create_user("sato", "supervisor")
    assert users.authenticate(alice_token).name == "alice"
    assert users.authenticate(sup_token).role == "supervisor"
    assert users.authenticate("not-a-token") is None
    assert users.authenticate("") is None
    assert users.authenticate(None) is None
    assert users.authenticate(alice.token_hash) is None  # the hash is not a token


def test_disabled_users_and_replaced_tokens_stop_working(users):
    _, token = users.create_user("alice", "operator")
    users.set_active("alice", False)
    assert users.authenticate(token) is None
    users.set_active("alice", True)
    new_token = users.reset_token("alice")
    assert users.authenticate(token) is None
    assert users.authenticate(new_token).name == "alice"


def test_user_names_are_unique_and_roles_known(users):
    users.create_user("alice", "operator")
    with pytest.raises(Conflict):
        users.create_user("alice", "supervisor")
    with pytest.raises(InvalidField):
        users.create_user("bob", "admin")
    with pytest.raises(InvalidField):
        users.create_user("  ", "operator")
    assert [u.name for u in users.list_users()] == ["alice"]


def test_cli_user_add_prints_the_token_once_and_user_list_shows_users(sqlite_url, capsys):
    add_alice = ["--database-url", sqlite_url, "user", "add", "alice", "--role", "operator"]
    assert cli.main(add_alice) == 0
    token = capsys.readouterr().out.strip()
    db_engine = db.make_engine(sqlite_url)
    try:
        user = UserRepository(db.session_factory(db_engine)).authenticate(token)
        assert (user.name, user.role) == ("alice", "operator")
    finally:
        db_engine.dispose()

    assert cli.main(add_alice) == 1
    assert "already exists" in capsys.readouterr().err

    assert cli.main(["--database-url", sqlite_url, "user", "list"]) == 0
    listed = capsys.readouterr().out
    assert "alice\toperator\tactive" in listed
    assert token not in listed


def test_cli_db_upgrade_reads_the_database_url_from_the_environment(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'var' / 'madoguchi.db'}"
    monkeypatch.setenv("MADOGUCHI_DB_URL", url)
    assert cli.main(["db", "upgrade"]) == 0
    assert db.head_revision() in capsys.readouterr().out
    assert cli.main(["db", "status"]) == 0


def test_cli_refuses_unknown_roles():
    with pytest.raises(SystemExit):
        cli.main(["user", "add", "bob", "--role", "admin"])
