"""Start, watch and stop madoguchi's processes: the Rasa server, the action server, the desk.

`make run` and the end-to-end tests use the same launcher, so the tests exercise exactly the
processes a newcomer starts. It only runs commands; it knows nothing of Rasa's internals.

Secrets: Rasa's API token, the action server's token and the key that signs chat sessions come
from the environment (MADOGUCHI_RASA_TOKEN, MADOGUCHI_ACTION_TOKEN, MADOGUCHI_SESSION_SECRET);
any that is unset is made once per launching process (`run_secrets`) and handed to every child
through its environment, never its command line, and never printed.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from madoguchi.infra.rasa_auth import bearer
from madoguchi.infra.settings import settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class Service:
    name: str
    argv: list[str]
    health_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    # Sent with the health check (Rasa's /status wants its token).
    health_token: str | None = None


@dataclass(frozen=True)
class Ports:
    rasa: int = 5005
    actions: int = 5055
    desk: int = 8000


@dataclass(frozen=True)
class RunSecrets:
    """The secrets every process of one run shares."""

    rasa_token: str
    action_token: str
    session_secret: str

    def env(self) -> dict[str, str]:
        """What every child gets: Rasa's token in every profile (the API is always on, and a
        page open in a developer's browser could otherwise `PUT /model`), so the desk can call
        it; the production mark only where this run is production."""
        out = {
            "MADOGUCHI_RASA_TOKEN": self.rasa_token,
            "MADOGUCHI_ACTION_TOKEN": self.action_token,
            "MADOGUCHI_SESSION_SECRET": self.session_secret,
        }
        if settings().production:
            out["MADOGUCHI_PRODUCTION"] = "1"
        return out


def enter_production_if_exposed(host: str, profile: str) -> bool:
    """A run bound beyond loopback, or the scale profile (production's shape), is production:
    this process and every child it starts then want Rasa's token and signed chat sessions.
    Called before the first launcher of the run is made."""
    if host not in LOOPBACK or profile == "scale":
        os.environ["MADOGUCHI_PRODUCTION"] = "1"
        run_secrets.cache_clear()
    return settings().production


@lru_cache(maxsize=1)
def run_secrets() -> RunSecrets:
    """The configured secrets, or ones made now, the same for every launcher in this process."""
    current = settings()
    return RunSecrets(
        rasa_token=current.rasa_token or secrets.token_urlsafe(32),
        action_token=current.action_token or secrets.token_urlsafe(32),
        session_secret=current.session_secret or secrets.token_urlsafe(32),
    )


def keep_api_token(path: Path) -> Path | None:
    """Write this run's Rasa token to `path`, readable by its owner only, when it was made here
    (MADOGUCHI_RASA_TOKEN unset, in any profile): how the person who ran `make run` calls
    Rasa's API by hand. Nothing is written when the token came from the environment (its owner
    knows it)."""
    if settings().rasa_token:
        path.unlink(missing_ok=True)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(run_secrets().rasa_token + "\n")
    os.chmod(path, 0o600)
    return path


def free_port() -> int:
    """A port nobody listens on now (tests and benches run their own servers)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    # The console scripts sit beside the interpreter in the project's virtual environment.
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def rasa_service(
    root: Path,
    model: Path,
    endpoints: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 5005,
    auth_token: str | None = None,
    credentials: Path | None = None,
) -> Service:
    """Rasa with its API on, always behind a token (`auth_token`, else this run's, made when
    none is configured; issue 15, item 7), through `madoguchi.runtime.rasa_server`: the token
    is not on the command line, and browsers may call it only from the desk's and
    MADOGUCHI_CHAT_ORIGINS' pages (CORS)."""
    token = auth_token or run_secrets().rasa_token
    argv = [
        sys.executable, "-m", "madoguchi.runtime.rasa_server", "run", "--enable-api",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials or root / "credentials.yml"),
        "--interface", host,
        "--port", str(port),
    ]
    return Service("rasa", argv, f"http://127.0.0.1:{port}/status",
                   env={"MADOGUCHI_RASA_TOKEN": token}, health_token=token)


def action_service(root: Path, *, port: int = 5055, host: str = "127.0.0.1") -> Service:
    """The action server, on loopback unless told otherwise; it answers only the action token
    of this run (actions/server.py), which Rasa sends from its endpoints file."""
    argv = [sys.executable, "-m", "actions.server", "--actions", "actions",
            "--interface", host, "--port", str(port)]
    return Service("actions", argv, f"http://127.0.0.1:{port}/health")


def desk_service(*, host: str = "127.0.0.1", port: int = 8000) -> Service:
    argv = [
        sys.executable, "-m", "uvicorn", "madoguchi.desk.app:create_app", "--factory",
        "--host", host, "--port", str(port), "--no-access-log",
        # The desk serves no websockets; uvicorn's websockets support would need a newer
        # `websockets` than the one Rasa pins.
        "--ws", "none",
    ]
    return Service("desk", argv, f"http://127.0.0.1:{port}/health")


def _answers(url: str, token: str | None = None) -> bool:
    headers = {"Authorization": bearer(token)} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=2) as response:
            return response.status < 500
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Launcher:
    """Runs services as child processes in their own process group and stops them together."""

    def __init__(self, root: Path, log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.log_dir = log_dir
        self.env = {**os.environ, **run_secrets().env(), **(env or {})}
        self.services: list[Service] = []

    def start(self, service: Service) -> Service:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        service.log_path = self.log_dir / f"{service.name}.log"
        log = service.log_path.open("ab")
        service.process = subprocess.Popen(
            service.argv,
            cwd=self.root,
            env={**self.env, **service.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.services.append(service)
        return service

    def wait_ready(self, services: Iterable[Service], timeout: float = 180.0) -> None:
        """Block until every service answers its health URL; fail early if one dies."""
        pending = list(services)
        deadline = time.monotonic() + timeout
        while pending:
            for service in list(pending):
                if service.process and service.process.poll() is not None:
                    raise RuntimeError(
                        f"{service.name} exited with {service.process.returncode}; "
                        f"see {service.log_path}"
                    )
                if _answers(service.health_url, service.health_token):
                    pending.remove(service)
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            time.sleep(0.5)

    def stop(self, service: Service, timeout: float = 15.0) -> None:
        process = service.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=5)

    def kill(self, service: Service) -> None:
        """Kill without warning, as a crash would (fault tests)."""
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait(timeout=5)

    def restart(self, service: Service) -> Service:
        self.stop(service)
        self.services.remove(service)
        return self.start(Service(service.name, service.argv, service.health_url, service.env,
                                  health_token=service.health_token))

    def stop_all(self) -> None:
        for service in reversed(self.services):
            self.stop(service)


class StopSignal:
    """Ctrl-C or SIGTERM, caught from when it is made: `make run` then stops its processes
    together instead of dying with them half stopped."""

    def __init__(self) -> None:
        self.received = False
        signal.signal(signal.SIGINT, self._receive)
        signal.signal(signal.SIGTERM, self._receive)

    def _receive(self, *_: object) -> None:
        self.received = True

    def watch(self, services: Iterable[Service], *, vital: Container[str] | None = None) -> int:
        """Until the signal: 0; 1 as soon as one of `services` (of those named in `vital`, when
        given: the others may fail) has exited, with its log named on stderr."""
        services = list(services)
        while not self.received:
            for service in services:
                if service.process and service.process.poll() is not None and \
                        (vital is None or service.name in vital):
                    print(f"{service.name} stopped unexpectedly; see {service.log_path}",
                          file=sys.stderr)
                    return 1
            time.sleep(1)
        return 0
