"""Settings: every MADOGUCHI_* variable typed in one object, its defaults, overrides and refusals,
and the README's configuration table generated from it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from madoguchi.infra.settings import (
    PREFIX,
    README_END,
    README_START,
    Settings,
    SettingsError,
    load_settings,
    markdown,
    settings,
    variables,
)

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SOURCES = [*sorted((ROOT / "src").rglob("*.py")), *sorted((ROOT / "actions").rglob("*.py"))]


def test_defaults_on_a_fresh_checkout() -> None:
    s = load_settings({}, cwd=ROOT / "data")

    assert s.root == ROOT  # found above the working directory
    assert s.database_url == f"sqlite:///{ROOT / 'var' / 'madoguchi.db'}"
    assert (s.rasa_url, s.action_url, s.host) == (
        "http://127.0.0.1:5005", "http://127.0.0.1:5055", "127.0.0.1")
    assert s.public_rasa_url is None and s.rasa_token is None
    assert s.model_cache == Path.home() / ".cache" / "madoguchi" / "models"
    assert s.review_nlu_file == ROOT / "var" / "review" / "nlu_review.yml"
    assert (s.retrieval_threshold, s.interrupt_confidence, s.review_low_confidence) == (
        0.35, 0.8, 0.5)
    assert s.retention_days == 180
    assert (s.service_target_days, s.service_target_hours) == (3, None)
    assert (s.webhook_url, s.webhook_secret) == (None, "")
    assert (s.profile, s.replicas, s.lock_prefix, s.tracker_patience) == (
        "default", 2, "madoguchi", 30.0)
    assert s.pg_url == "postgresql://postgres@127.0.0.1:5432/madoguchi"
    assert s.redis_url == "redis://127.0.0.1:6379/1"
    assert s.socketio_redis_url is None and s.now is None
    assert s.notice_dir == ROOT / "data" / "notice"


def test_every_variable_overrides_its_field(tmp_path: Path) -> None:
    s = load_settings({
        "MADOGUCHI_HOME": str(tmp_path),
        "MADOGUCHI_DB_URL": "postgresql://db/x",
        "MADOGUCHI_RASA_TOKEN": "t0ken",
        "MADOGUCHI_REVIEW_NLU_FILE": "data/nlu/review.yml",
        "MADOGUCHI_MODEL_CACHE": "/cache/models",
        "MADOGUCHI_RETRIEVAL_THRESHOLD": "0.4",
        "MADOGUCHI_INTERRUPT_CONFIDENCE": "0.9",
        "MADOGUCHI_RETENTION_DAYS": " 90 ",
        "MADOGUCHI_SERVICE_TARGET_HOURS": "48",
        "MADOGUCHI_PROFILE": "scale",
        "MADOGUCHI_REPLICAS": "3",
        "MADOGUCHI_TRACKER_PATIENCE": "0",
        "MADOGUCHI_WEBHOOK_URL": "https://hooks.example.jp/x",
        "MADOGUCHI_WEBHOOK_SECRET": " keep spaces ",
        "MADOGUCHI_NOW": "2026-11-20T22:30:00+09:00",
    })

    assert s.root == tmp_path.resolve()
    assert s.database_url == "postgresql://db/x" and s.rasa_token == "t0ken"
    assert s.review_nlu_file == tmp_path.resolve() / "data" / "nlu" / "review.yml"
    assert s.model_cache == Path("/cache/models")
    assert (s.retrieval_threshold, s.interrupt_confidence) == (0.4, 0.9)
    assert s.retention_days == 90
    assert s.service_target_hours == 48.0
    assert (s.profile, s.replicas, s.tracker_patience) == ("scale", 3, 0.0)
    assert s.webhook_url == "https://hooks.example.jp/x"
    assert s.webhook_secret == " keep spaces "  # text is taken as it is
    assert s.now == datetime(2026, 11, 20, 22, 30, tzinfo=timezone(timedelta(hours=9)))


@pytest.mark.parametrize(
    ("environ", "field", "expected"),
    [
        ({"MADOGUCHI_RETRIEVAL_THRESHOLD": "off"}, "retrieval_threshold", None),
        ({"MADOGUCHI_RETENTION_DAYS": "off"}, "retention_days", None),
        ({"MADOGUCHI_RETENTION_DAYS": "0"}, "retention_days", None),
        ({"MADOGUCHI_RETENTION_DAYS": ""}, "retention_days", None),  # set but empty: off
        ({"MADOGUCHI_DB_URL": ""}, "database_url",
         f"sqlite:///{ROOT / 'var' / 'madoguchi.db'}"),
        ({"MADOGUCHI_RASA_TOKEN": ""}, "rasa_token", None),
        ({"MADOGUCHI_PROFILE": ""}, "profile", "default"),
        ({"MADOGUCHI_NOW": "2026-11-20T13:30:00"}, "now",
         datetime(2026, 11, 20, 13, 30, tzinfo=timezone.utc)),  # naive: UTC
    ],
)
def test_off_empty_and_naive_values(environ: dict[str, str], field: str, expected: object) -> None:
    assert getattr(load_settings(environ, cwd=ROOT), field) == expected


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MADOGUCHI_REPLICAS", "0", "whole number of at least 1"),
        ("MADOGUCHI_REPLICAS", "two", "whole number of at least 1"),
        ("MADOGUCHI_LOCK_PREFIX", "mado-guchi", "letters and digits"),
        ("MADOGUCHI_RETENTION_DAYS", "-5", "whole number of at least 1"),
        ("MADOGUCHI_SERVICE_TARGET_DAYS", "three", "whole number of at least 0"),
        ("MADOGUCHI_SERVICE_TARGET_HOURS", "0", "above 0"),
        ("MADOGUCHI_REVIEW_LOW_CONFIDENCE", "high", "must be a number"),
        ("MADOGUCHI_INTERRUPT_CONFIDENCE", "1.5", "at most 1"),
        ("MADOGUCHI_RETRIEVAL_THRESHOLD", "nan", "must be a number"),
        ("MADOGUCHI_TRACKER_PATIENCE", "-1", "at least 0"),
        ("MADOGUCHI_PROFILE", "huge", "one of default, scale"),
        ("MADOGUCHI_NOW", "tonight", "ISO 8601"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value}, cwd=ROOT)
    message = str(refused.value)
    assert message.startswith(variable) and says in message and repr(value) in message
    assert isinstance(refused.value, ValueError)


def test_settings_follow_the_environment_and_are_parsed_once_per_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MADOGUCHI_RETENTION_DAYS", raising=False)
    first = settings()
    assert settings() is first  # the same environment: not parsed again
    monkeypatch.setenv("MADOGUCHI_RETENTION_DAYS", "30")
    assert settings().retention_days == 30
    monkeypatch.setenv("MADOGUCHI_RETENTION_DAYS", "nonsense")
    with pytest.raises(SettingsError, match="MADOGUCHI_RETENTION_DAYS"):
        settings()


def test_every_field_documents_its_variable() -> None:
    names = [variable.name for _, variable in variables()]
    assert len(names) == len(set(names))
    for name, variable in variables():
        assert name in Settings.__dataclass_fields__
        assert variable.name.startswith(PREFIX)
        assert variable.description and "\n" not in variable.description
        assert variable.kind and variable.shown_default


def test_no_module_reads_a_madoguchi_variable_itself() -> None:
    """Code reads settings(); only the settings module and the launcher (which hands its
    environment to the processes it starts) touch os.environ."""
    allowed = {ROOT / "src" / "madoguchi" / "infra" / "settings.py",
               ROOT / "src" / "madoguchi" / "runtime" / "launcher.py"}
    readers = [str(p.relative_to(ROOT)) for p in SOURCES
               if p not in allowed and re.search(r"os\.environ|getenv", p.read_text("utf-8"))]
    assert readers == []


def test_every_variable_named_in_the_code_is_a_setting() -> None:
    known = {variable.name for _, variable in variables()}
    named = {name for p in SOURCES
             for name in re.findall(r"MADOGUCHI_[A-Z_]+[A-Z]", p.read_text("utf-8"))}
    assert named - known == set()


def test_the_readme_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    assert text[start:end] == "\n" + markdown(), (
        "README.md's configuration table differs from the settings: run "
        "`.venv/bin/python -m madoguchi.infra.settings --update-readme README.md`"
    )


def test_the_command_prints_the_table_and_checks_the_environment() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX)}
    printed = subprocess.run([sys.executable, "-m", "madoguchi.infra.settings", "--markdown"],
                             capture_output=True, text=True, check=True, env=env, cwd=ROOT)
    assert printed.stdout == markdown()
    checked = subprocess.run([sys.executable, "-m", "madoguchi.infra.settings", "--check"],
                             capture_output=True, text=True, env={**env, "MADOGUCHI_REPLICAS": "0"},
                             cwd=ROOT)
    assert checked.returncode == 2 and "MADOGUCHI_REPLICAS" in checked.stdout
