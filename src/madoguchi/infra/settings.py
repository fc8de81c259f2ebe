"""Every MADOGUCHI_* variable in one typed, frozen object, read from the environment once.

Every process (Rasa, the action server, the desk, the CLI, the tests) reads the same variables,
so a fresh checkout runs on the defaults and the scale profile only sets variables; the launcher
hands them to its child processes through their environment. Each field names its variable,
its default and a one-line description; the README's configuration table is generated from them
(`python -m madoguchi.infra.settings --markdown`; a test keeps the two equal).

`settings()` is what code reads at run time: parsed once per environment, so a process pays
for it once while a test that sets a variable with monkeypatch sees it on the next call.
`load_settings()` parses afresh, from os.environ or from a mapping given to it.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

PREFIX = "MADOGUCHI_"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/madoguchi"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
DEFAULT_RETENTION_DAYS = 180
DEFAULT_SERVICE_TARGET_DAYS = 3
README_START = "<!-- settings:start -->"
README_END = "<!-- settings:end -->"
# In README order.
SECTIONS = ("paths", "URLs", "tokens", "thresholds", "retention", "tickets", "webhook", "scale",
            "clock")


class SettingsError(ValueError):
    """A variable holds something its setting cannot mean; the message names the variable."""


@dataclass(frozen=True)
class Variable:
    """How one setting is read: its variable, how its text is parsed, and its documentation."""

    name: str
    section: str
    kind: str  # the type as the README shows it
    shown_default: str  # the default as the README shows it
    description: str
    parse: Callable[[str], Any]
    # The default, or how to make it from the project folder.
    default: Any = None
    default_from_root: Callable[[Path], Any] | None = None
    # What an empty value means; by default the same as unset.
    blank: Callable[[], Any] | None = None


def _variable(name: str, section: str, kind: str, shown: str, description: str, *,
              parse: Callable[[str], Any] = str, default: Any = None,
              default_from_root: Callable[[Path], Any] | None = None,
              blank: Callable[[], Any] | None = None) -> dict[str, Variable]:
    """A field's metadata: MADOGUCHI_<name> and how to read and document it."""
    return {"variable": Variable(PREFIX + name, section, kind, shown, description, parse,
                                 default, default_from_root, blank)}


# --- parsers: each raises ValueError with what was expected ----------------------------------


def _path(raw: str) -> Path:
    return Path(raw)


def _whole(minimum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ValueError(f"must be a whole number of at least {minimum}")
        return value
    return parse


def _number(*, at_least: float | None = None, above: float | None = None,
            at_most: float | None = None) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        if value != value:  # NaN
            raise ValueError("must be a number")
        if at_least is not None and value < at_least:
            raise ValueError(f"must be a number of at least {at_least:g}")
        if above is not None and value <= above:
            raise ValueError(f"must be a number above {above:g}")
        if at_most is not None and value > at_most:
            raise ValueError(f"must be a number of at most {at_most:g}")
        return value
    return parse


def _or_off(parse: Callable[[str], Any], *offs: str) -> Callable[[str], Any]:
    """None for the words that switch the setting off, else what `parse` makes of it."""
    def parse_or_off(raw: str) -> Any:
        return None if raw.strip().lower() in offs else parse(raw)
    return parse_or_off


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.strip() not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return raw.strip()
    return parse


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
        raise ValueError("must be 1 or 0 (true/false, yes/no, on/off)")
    return value in {"1", "true", "yes", "on"}


def _letters_and_digits(raw: str) -> str:
    if not raw.isalnum():
        raise ValueError("may hold letters and digits only")  # Rasa would replace the rest
    return raw


def _moment(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError("must be an ISO 8601 time, e.g. 2026-11-20T22:30:00+09:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def find_project_root(cwd: Path) -> Path:
    """The nearest folder at or above cwd with domain.yml and data/, else cwd itself."""
    for folder in (cwd, *cwd.parents):
        if (folder / "domain.yml").is_file() and (folder / "data").is_dir():
            return folder
    return cwd


# --- kinds of setting: one type, one parser, one way the README shows them ---------------------


def _fraction(name: str, default: float, description: str) -> dict[str, Variable]:
    """A threshold from 0 to 1: the README shows its type and default one way for all of them."""
    return _variable(name, "thresholds", "0–1", f"{default:g}", description,
                     parse=_number(at_least=0, at_most=1), default=default)


def _count(name: str, section: str, kind: str, default: int,
           description: str) -> dict[str, Variable]:
    """A whole number of at least 1 (a limit, a number of servers), shown as its default."""
    return _variable(name, section, kind, str(default), description, parse=_whole(1),
                     default=default)


def _made_per_run(name: str, description: str) -> dict[str, Variable]:
    """A secret that is None when unset: the launcher makes one for each run."""
    return _variable(name, "tokens", "text", "made per run", description)


# --- the settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What every process may be told through its environment; see the README's table."""

    # paths
    root: Path = field(metadata=_variable(
        "HOME", "paths", "path", "the folder above the working directory with `domain.yml`",
        "the project folder: data, models, `var/`", parse=lambda raw: Path(raw).resolve()))
    model_cache: Path = field(metadata=_variable(
        "MODEL_CACHE", "paths", "path", "`~/.cache/madoguchi/models`",
        "trained models by input hash", parse=_path,
        default_from_root=lambda _: Path.home() / ".cache" / "madoguchi" / "models"))
    review_nlu_file: Path = field(metadata=_variable(
        "REVIEW_NLU_FILE", "paths", "path", "`var/review/nlu_review.yml`",
        "where 「学習データに追加」 writes examples (relative to the project folder)",
        parse=_path, default_from_root=lambda root: Path("var") / "review" / "nlu_review.yml"))
    notice_dir: Path = field(metadata=_variable(
        "NOTICE_DIR", "paths", "path", "`data/notice`",
        "the privacy notice the assistant answers from, with its older versions (relative to "
        "the project folder)", parse=_path, default_from_root=lambda root: Path("data") / "notice"))
    # URLs
    database_url: str = field(metadata=_variable(
        "DB_URL", "URLs", "SQLAlchemy URL", "`sqlite:///var/madoguchi.db`",
        "madoguchi's tables (the tracker store is in `endpoints.yml`)",
        default_from_root=lambda root: f"sqlite:///{root / 'var' / 'madoguchi.db'}"))
    rasa_url: str = field(metadata=_variable(
        "RASA_URL", "URLs", "URL", "`http://127.0.0.1:5005`",
        "the Rasa server as the desk reaches it",
        default="http://127.0.0.1:5005"))
    action_url: str = field(metadata=_variable(
        "ACTION_URL", "URLs", "URL", "`http://127.0.0.1:5055`",
        "the action server as the desk's health check reaches it",
        default="http://127.0.0.1:5055"))
    public_rasa_url: str | None = field(metadata=_variable(
        "PUBLIC_RASA_URL", "URLs", "URL", "the Rasa URL",
        "where the customer's browser reaches Rasa's socket.io channel"))
    host: str = field(metadata=_variable(
        "HOST", "URLs", "interface", "`127.0.0.1`",
        "interface the servers listen on (not loopback: set `MADOGUCHI_RASA_TOKEN`)",
        default="127.0.0.1"))
    chat_origins: tuple[str, ...] = field(metadata=_variable(
        "CHAT_ORIGINS", "URLs", "origins", "–",
        "pages besides the desk's that may call Rasa from a browser (CORS; `http://host:*`: "
        "any port)", parse=lambda raw: tuple(raw.replace(",", " ").split()), default=()))
    # tokens
    production: bool = field(metadata=_variable(
        "PRODUCTION", "tokens", "1 or 0", "0 (on when exposed or scaled)",
        "the chat's conversation ids must be signed; off, a loopback `make run` serves "
        "Rasa's standard REST channel as DESIGN.md's contract has it (any `sender`; Rasa's "
        "HTTP API wants its token in every profile); the launcher turns it on for a "
        "non-loopback `MADOGUCHI_HOST` and the scale profile",
        parse=_flag, default=False))
    rasa_token: str | None = field(metadata=_made_per_run(
        "RASA_TOKEN",
        "Rasa's API token (also the key of the desk's JWT); the launcher makes one when unset"))
    action_token: str | None = field(metadata=_made_per_run(
        "ACTION_TOKEN",
        "the secret Rasa sends the action server (`action_endpoint.token`); made when unset"))
    session_secret: str | None = field(metadata=_made_per_run(
        "SESSION_SECRET",
        "key that signs the chat's conversation ids; set it to keep chats across restarts"))
    # thresholds (the NLU's own, FallbackClassifier's, stay in config.yml: Rasa reads them there)
    retrieval_threshold: float | None = field(metadata=_variable(
        "RETRIEVAL_THRESHOLD", "thresholds", "score or `off`", "0.35",
        "retrieval score at which a question no intent was sure of is answered from the notice",
        parse=_or_off(_number(at_least=0), "off"), default=0.35))
    interrupt_confidence: float = field(metadata=_fraction(
        "INTERRUPT_CONFIDENCE", 0.8,
        "NLU confidence at which a notice question or a wish for a person interrupts the form"))
    split_margin: float = field(metadata=_fraction(
        "SPLIT_MARGIN", 0.3,
        "a notice question and its neighbouring request this close in NLU confidence: the "
        "notice answers and the request is offered"))
    split_floor: float = field(metadata=_fraction(
        "SPLIT_FLOOR", 0.1,
        "the least NLU confidence at which the neighbouring request is offered beside an answer"))
    review_low_confidence: float = field(metadata=_fraction(
        "REVIEW_LOW_CONFIDENCE", 0.5,
        "below this a message counts as low confidence in the review"))
    rate_per_sender: int = field(metadata=_count(
        "RATE_PER_SENDER", "thresholds", "messages a minute", 30,
        "a conversation's messages beyond this are refused (429) until the minute refills"))
    rate_per_address: int = field(metadata=_count(
        "RATE_PER_ADDRESS", "thresholds", "messages a minute", 120,
        "the same for one client address (X-Forwarded-For from a proxy on loopback)"))
    # retention
    retention_days: int | None = field(metadata=_variable(
        "RETENTION_DAYS", "retention", "days or `off`", str(DEFAULT_RETENTION_DAYS),
        "the daily retention of `make run` (`madoguchi retention --days N` by hand)",
        parse=_or_off(_whole(1), "0", "off", "none"), default=DEFAULT_RETENTION_DAYS,
        blank=lambda: None))
    # tickets
    service_target_days: int = field(metadata=_variable(
        "SERVICE_TARGET_DAYS", "tickets", "business days", str(DEFAULT_SERVICE_TARGET_DAYS),
        "a ticket is due at 21:00 JST this many business days after it was created",
        parse=_whole(0), default=DEFAULT_SERVICE_TARGET_DAYS))
    service_target_hours: float | None = field(metadata=_variable(
        "SERVICE_TARGET_HOURS", "tickets", "hours", "–",
        "when set, a ticket is due this many clock hours after it was created instead",
        parse=_number(above=0)))
    status_checks_per_conversation: int = field(metadata=_count(
        "STATUS_CHECKS_PER_CONVERSATION", "tickets", "checks an hour", 5,
        "status checks (chat or `/status`) one conversation or client may make in an hour"))
    status_checks_per_reference: int = field(metadata=_count(
        "STATUS_CHECKS_PER_REFERENCE", "tickets", "checks an hour", 5,
        "status checks of one reference number in an hour, from anywhere"))
    # webhook
    webhook_url: str | None = field(metadata=_variable(
        "WEBHOOK_URL", "webhook", "URL", "–",
        "the outgoing webhook on each new handoff (below); none when unset"))
    webhook_secret: str = field(metadata=_variable(
        "WEBHOOK_SECRET", "webhook", "text", "–",
        "key of the webhook's HMAC signature; required when the URL is set", default=""))
    # scale
    profile: str = field(metadata=_variable(
        "PROFILE", "scale", "`default` or `scale`", "`default`",
        "`scale`: the scale-out profile (same as `make run PROFILE=scale`)",
        parse=_choice("default", "scale"), default="default"))
    replicas: int = field(metadata=_count(
        "REPLICAS", "scale", "count", 2, "scale profile: Rasa servers and action servers started"))
    lock_prefix: str = field(metadata=_variable(
        "LOCK_PREFIX", "scale", "letters and digits", "`madoguchi`",
        "scale profile: prefix of the lock keys in Redis",
        parse=_letters_and_digits, default="madoguchi"))
    pg_url: str = field(metadata=_variable(
        "PG_URL", "scale", "SQLAlchemy URL", f"`{DEFAULT_PG_URL}`",
        "scale profile: tracker store and madoguchi's tables (created if missing)",
        default=DEFAULT_PG_URL))
    redis_url: str = field(metadata=_variable(
        "REDIS_URL", "scale", "URL", f"`{DEFAULT_REDIS_URL}`",
        "scale profile: Rasa's lock store and the socket.io rooms", default=DEFAULT_REDIS_URL))
    socketio_redis_url: str | None = field(metadata=_variable(
        "SOCKETIO_REDIS_URL", "scale", "URL", "–",
        "Redis that shares the socket.io rooms between Rasa servers (the scale launcher sets it)"))
    tracker_patience: float = field(metadata=_variable(
        "TRACKER_PATIENCE", "scale", "seconds", "30",
        "scale profile: how long a turn waits for PostgreSQL to come back",
        parse=_number(at_least=0), default=30.0))
    # clock
    now: datetime | None = field(metadata=_variable(
        "NOW", "clock", "ISO 8601 time", "–",
        "fixes the clock (demos, tests of the out-of-hours handoff); naive times are UTC",
        parse=_moment))


def variables() -> list[tuple[str, Variable]]:
    """Each field of Settings with how it is read, in declaration order."""
    return [(f.name, f.metadata["variable"]) for f in fields(Settings)]


def _read(variable: Variable, environ: Mapping[str, str], root: Path | None) -> Any:
    """The variable's value: unset or blank gives the default, text is kept as it is."""
    raw = environ.get(variable.name)
    if raw is None or not raw.strip():
        if raw is not None and variable.blank is not None:
            return variable.blank()
        if variable.default_from_root is not None and root is not None:
            return variable.default_from_root(root)
        return variable.default
    try:
        return variable.parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{variable.name} {exc} (got {raw!r})") from None


def load_settings(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Settings parsed afresh from `environ` (default: os.environ); SettingsError if one is bad."""
    env = os.environ if environ is None else environ
    specs = dict(variables())
    root = _read(specs.pop("root"), env, None) or find_project_root((cwd or Path.cwd()).resolve())
    values = {name: _read(variable, env, root) for name, variable in specs.items()}
    if not values["review_nlu_file"].is_absolute():
        values["review_nlu_file"] = root / values["review_nlu_file"]
    if not values["notice_dir"].is_absolute():
        values["notice_dir"] = root / values["notice_dir"]
    if values["webhook_url"] and not values["webhook_secret"]:
        # An unsigned announcement could come from anyone: refuse to start instead.
        raise SettingsError(f"{PREFIX}WEBHOOK_SECRET must be set when {PREFIX}WEBHOOK_URL is")
    return Settings(root=root, **values)


def settings() -> Settings:
    """The settings of this process: parsed once per environment and working directory."""
    snapshot = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))
    return _settings_for(snapshot, os.getcwd())


@lru_cache(maxsize=8)
def _settings_for(snapshot: tuple[tuple[str, str], ...], cwd: str) -> Settings:
    return load_settings(dict(snapshot), Path(cwd))


def project_root() -> Path:
    """The project folder: MADOGUCHI_HOME, else the nearest folder above cwd with domain.yml."""
    return settings().root


# --- the README's table ------------------------------------------------------------------------


def markdown() -> str:
    """The README's configuration table, concern by concern, from the fields above."""
    specs = [variable for _, variable in variables()]
    unknown = {v.section for v in specs} - set(SECTIONS)
    if unknown:
        raise AssertionError(f"sections missing from SECTIONS: {sorted(unknown)}")
    lines = ["| concern | variable | type | default | what |", "|---|---|---|---|---|"]
    for section in SECTIONS:
        lines += [f"| {section} | `{v.name}` | {v.kind} | {v.shown_default} | {v.description} |"
                  for v in specs if v.section == section]
    return "\n".join(lines) + "\n"


def with_table(readme: str) -> str:
    """`readme` with the text between the settings markers replaced by the generated table."""
    start, end = readme.index(README_START) + len(README_START), readme.index(README_END)
    return readme[:start] + "\n" + markdown() + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the README's table")
    action.add_argument("--update-readme", type=Path, metavar="README",
                        help="rewrite the table between the settings markers in README")
    action.add_argument("--check", action="store_true",
                        help="parse this environment's variables; say which one is wrong")
    args = parser.parse_args(argv)
    if args.update_readme:
        text = args.update_readme.read_text(encoding="utf-8")
        args.update_readme.write_text(with_table(text), encoding="utf-8")
    elif args.markdown:
        print(markdown(), end="")
    else:
        try:
            load_settings()
        except SettingsError as exc:
            print(f"error: {exc}")
            return 2
        print("settings ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
