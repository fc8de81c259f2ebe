"""Specification of the production switch: what a loopback `make run` serves, and what production
demands.

DESIGN.md's contract is Rasa's standard REST channel and HTTP API. A run bound to loopback and
not marked production serves the REST channel as Rasa does (any sender); a run bound beyond
loopback, or the scale profile, is production: a conversation id must come with the server's
signature. Rasa's HTTP API wants its token in every profile (issue 15, item 7: on loopback any
page open in the developer's browser could otherwise `PUT /model`): the launcher makes one when
none is configured and hands it to Rasa and the desk through their environment.
"""

from __future__ import annotations

import pytest

from madoguchi.rasa_adapters import channels, sessions
from madoguchi.runtime import launcher
from madoguchi.runtime.rasa_server import OpenApiRefused, rasa_argv


@pytest.fixture
def development(monkeypatch):
    monkeypatch.setenv("MADOGUCHI_PRODUCTION", "0")
    monkeypatch.delenv("MADOGUCHI_RASA_TOKEN", raising=False)
    launcher.run_secrets.cache_clear()
    yield
    launcher.run_secrets.cache_clear()


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("MADOGUCHI_PRODUCTION", "1")
    monkeypatch.delenv("MADOGUCHI_RASA_TOKEN", raising=False)
    launcher.run_secrets.cache_clear()
    yield
    launcher.run_secrets.cache_clear()


def test_a_loopback_development_run_accepts_a_sender_as_rasas_rest_channel_does(development):
    channels.check_session({"sender": "acceptance-0001", "message": "こんにちは"})


def test_a_wrong_session_token_is_refused_even_in_development(development):
    with pytest.raises(channels.RejectedInput) as refused:
        channels.check_session({"sender": "abc", "session_token": "0.deadbeef"})
    assert refused.value.status == 403


def test_production_wants_the_servers_signature_on_every_conversation_id(production):
    with pytest.raises(channels.RejectedInput) as refused:
        channels.check_session({"sender": "acceptance-0001", "message": "こんにちは"})
    assert refused.value.reason == "session_invalid"
    sender, token = sessions.new_session()
    channels.check_session({"sender": sender, "session_token": token})


def test_development_starts_rasa_behind_a_token_made_for_the_run(development, tmp_path):
    service = launcher.rasa_service(tmp_path, tmp_path / "m.tar.gz", tmp_path / "e.yml")
    token = service.env["MADOGUCHI_RASA_TOKEN"]
    assert token and service.health_token == token
    # Every child (the desk among them) gets the same token, and development stays development.
    assert launcher.run_secrets().env()["MADOGUCHI_RASA_TOKEN"] == token
    assert "MADOGUCHI_PRODUCTION" not in launcher.run_secrets().env()
    # Never on the command line: rasa_server adds it inside the process.
    assert not any(token in part for part in service.argv)


def test_the_api_is_never_enabled_without_a_token():
    with pytest.raises(OpenApiRefused):
        rasa_argv(["run", "--enable-api"], None)
    with pytest.raises(OpenApiRefused):
        rasa_argv(["run", "--enable-api"], "")
    # Without the API (a plain channel server) no token is needed.
    assert "--auth-token" not in " ".join(rasa_argv(["run"], None))


def test_the_run_keeps_the_token_it_made_for_its_owner_in_development(development, tmp_path):
    kept = launcher.keep_api_token(tmp_path / "var" / "rasa-token")
    assert kept is not None
    assert kept.read_text(encoding="utf-8").strip() == launcher.run_secrets().rasa_token
    assert kept.stat().st_mode & 0o777 == 0o600


def test_a_configured_token_is_used_and_not_written_down(development, monkeypatch, tmp_path):
    monkeypatch.setenv("MADOGUCHI_RASA_TOKEN", "configured-token")
    launcher.run_secrets.cache_clear()
    service = launcher.rasa_service(tmp_path, tmp_path / "m.tar.gz", tmp_path / "e.yml")
    assert service.env["MADOGUCHI_RASA_TOKEN"] == "configured-token"
    assert launcher.keep_api_token(tmp_path / "rasa-token") is None
    # A token someone set does not make a loopback run production.
    assert "MADOGUCHI_PRODUCTION" not in launcher.run_secrets().env()


def test_production_starts_rasa_behind_its_token(production, tmp_path):
    service = launcher.rasa_service(tmp_path, tmp_path / "m.tar.gz", tmp_path / "e.yml")
    token = service.env["MADOGUCHI_RASA_TOKEN"]
    assert token and launcher.run_secrets().env()["MADOGUCHI_RASA_TOKEN"] == token
    assert f"--auth-token={token}" in rasa_argv(["run"], token)
    # A token that starts with "-" is still the option's value, not an option.
    assert "--auth-token=-dash" in rasa_argv(["run"], "-dash")


@pytest.mark.parametrize(("host", "profile", "expected"), [
    ("127.0.0.1", "default", False),
    ("0.0.0.0", "default", True),
    ("127.0.0.1", "scale", True),
])
def test_a_run_beyond_loopback_or_scaled_is_production(monkeypatch, host, profile, expected):
    monkeypatch.setenv("MADOGUCHI_PRODUCTION", "0")
    try:
        assert launcher.enter_production_if_exposed(host, profile) is expected
    finally:
        launcher.run_secrets.cache_clear()
