"""Specification of the production switch: what a loopback `make run` serves, and what production
demands.

DESIGN.md's contract is Rasa's standard REST channel and HTTP API, "token auth in production".
So a run bound to loopback and not marked production serves them as Rasa does (any sender,
no API token), and a run bound beyond loopback, or the scale profile, is production: Rasa's API
wants its token and a conversation id must come with the server's signature.
"""

from __future__ import annotations

import pytest

from madoguchi.rasa_adapters import channels, sessions
from madoguchi.runtime import launcher
from madoguchi.runtime.rasa_server import rasa_argv


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


def test_development_starts_rasa_without_an_api_token(development, tmp_path):
    service = launcher.rasa_service(tmp_path, tmp_path / "m.tar.gz", tmp_path / "e.yml")
    assert service.env["MADOGUCHI_RASA_TOKEN"] == ""
    assert "MADOGUCHI_RASA_TOKEN" not in launcher.run_secrets().env()
    assert "--auth-token" not in rasa_argv(["run"], None)


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
