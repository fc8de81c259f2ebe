"""The scale-out profile: PostgreSQL, Redis, and replicas behind HAProxy.

`make run PROFILE=scale` starts N Rasa servers and N action servers (N = MADOGUCHI_REPLICAS,
2 by default) and Debian's HAProxy in front of both tiers:

    customers, desk ──► haproxy :5005 ──► rasa 1 … N ──► haproxy :5055 ──► actions 1 … N
                                              │                               │
                                  Redis (lock store)              PostgreSQL (tickets)
                                  PostgreSQL (tracker store)

Why the action servers sit behind their own balancer instead of "replica i uses action server
i": actions keep no state of their own (the tracker travels with each call, tickets are in
PostgreSQL), so any action server can serve any replica, and a crashed action server then costs
nothing: HAProxy's health check takes it out within a second or two and a refused connection is
sent to the other one. With a fixed pairing, one crashed action server would break every
conversation its Rasa replica serves.

Nothing here knows Rasa's internals: it writes an endpoints file and an HAProxy config (from
`deploy/haproxy.cfg.template`) under var/, and hands processes to the launcher.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from madoguchi.infra.db import upgrade
from madoguchi.infra.settings import DEFAULT_PG_URL, DEFAULT_REDIS_URL, SettingsError, load_settings
from madoguchi.review.retention import start_schedule
from madoguchi.runtime.launcher import (
    Launcher,
    Service,
    StopSignal,
    action_service,
    desk_service,
    free_port,
    keep_api_token,
    rasa_service,
)

HAPROXY_TEMPLATE = Path("deploy") / "haproxy.cfg.template"


@dataclass(frozen=True)
class ScaleSettings:
    """Where the shared state lives; every value can be set from the environment."""

    database_url: str = DEFAULT_PG_URL
    redis_url: str = DEFAULT_REDIS_URL
    replicas: int = 2
    # Keys of the lock store in Redis start with this (letters and digits only, Rasa's rule).
    lock_prefix: str = "madoguchi"

    @classmethod
    def from_env(cls) -> ScaleSettings:
        try:
            current = load_settings()
        except SettingsError as exc:
            raise SystemExit(str(exc)) from None
        return cls(database_url=current.pg_url, redis_url=current.redis_url,
                   replicas=current.replicas, lock_prefix=current.lock_prefix)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in `url` if it is missing; True if it was created."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        raise SystemExit(f"the scale profile needs PostgreSQL, not {target.get_backend_name()}")
    name = target.database or "madoguchi"
    admin = create_engine(target.set(database="postgres"), future=True,
                          isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": name}).first()
            if exists:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def endpoints_config(action_url: str, database_url: str, redis_url: str,
                     lock_prefix: str) -> dict:
    """Rasa's endpoints for a replica: SQL tracker store on PostgreSQL, Redis lock store."""
    redis = urllib.parse.urlsplit(redis_url)
    lock_store: dict = {
        "type": "redis",
        "url": redis.hostname or "127.0.0.1",
        "port": redis.port or 6379,
        "db": int((redis.path or "/0").lstrip("/") or 0),
        "key_prefix": lock_prefix,
    }
    if redis.password:
        lock_store["password"] = urllib.parse.unquote(redis.password)
    if redis.scheme == "rediss":
        lock_store["use_ssl"] = True
    return {
        # The action servers' token: Rasa reads it from its environment (never in the file).
        "action_endpoint": {"url": f"{action_url.rstrip('/')}/webhook",
                            "token": "${MADOGUCHI_ACTION_TOKEN}",
                            # The domain only to the forms' validations, as in endpoints.yml.
                            "enable_selective_domain": True},
        # Rasa's SQLTrackerStore (a full URL in `url` is used as it is), waiting out a
        # database restart instead of starting the conversation again (scale_store.py).
        "tracker_store": {"type": "madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore",
                          "url": database_url},
        "lock_store": lock_store,
    }


def haproxy_config(template: str, *, host: str, rasa_port: int, action_port: int,
                   stats_port: int, rasa_ports: list[int], action_ports: list[int],
                   server_maxconn: int = 16) -> str:
    def servers(prefix: str, ports: list[int]) -> str:
        return "\n".join(f"    server {prefix}{i} 127.0.0.1:{port} check"
                         for i, port in enumerate(ports, start=1))

    return Template(template).substitute(
        host=host, rasa_port=rasa_port, action_port=action_port, stats_port=stats_port,
        server_maxconn=server_maxconn,
        rasa_servers=servers("rasa", rasa_ports), action_servers=servers("actions", action_ports),
    )


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists()
                                        else None)
    if not found:
        raise SystemExit("haproxy is not installed: run scripts/ensure-system-packages")
    return found


def haproxy_service(config: Path, stats_port: int) -> Service:
    # -db: stay in the foreground, so the launcher can watch and stop it like the others.
    return Service("haproxy", [haproxy_binary(), "-db", "-f", str(config)],
                   f"http://127.0.0.1:{stats_port}/health")


@dataclass
class Cluster:
    """The running scale profile: what listens where, and handles for fault drills."""

    launcher: Launcher
    rasa_url: str
    action_url: str
    stats_url: str
    database_url: str
    balancer: Service
    rasa: list[Service] = field(default_factory=list)
    actions: list[Service] = field(default_factory=list)
    desk: Service | None = None
    desk_url: str | None = None

    @property
    def services(self) -> list[Service]:
        extra = [self.desk] if self.desk else []
        return [*self.actions, *self.rasa, self.balancer, *extra]

    def restart(self, service: Service) -> Service:
        """Start a stopped or killed service again on the same port; returns the new handle."""
        fresh = self.launcher.restart(service)
        for group in (self.rasa, self.actions):
            if service in group:
                group[group.index(service)] = fresh
        return fresh

    def backend_status(self) -> dict[tuple[str, str], str]:
        """HAProxy's view, e.g. {("action_servers", "actions1"): "UP"} (from its stats CSV)."""
        with urllib.request.urlopen(f"{self.stats_url}/stats;csv", timeout=5) as response:
            text = response.read().decode().lstrip("# ")
        return {(row["pxname"], row["svname"]): row["status"].split()[0]
                for row in csv.DictReader(io.StringIO(text))
                if row["svname"] not in {"FRONTEND", "BACKEND"}}

    def wait_balanced(self, timeout: float = 60.0) -> None:
        """Block until HAProxy sees every running replica as up (health checks run each 1 s)."""
        running = {f"rasa{i}" for i, s in enumerate(self.rasa, 1) if _alive(s)} | \
            {f"actions{i}" for i, s in enumerate(self.actions, 1) if _alive(s)}
        deadline = time.monotonic() + timeout
        while True:
            status = self.backend_status()
            waiting = {name for (_, name), state in status.items()
                       if name in running and state != "UP"}
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"haproxy still sees {sorted(waiting)} as down")
            time.sleep(0.2)

    def wait_down(self, service: Service, timeout: float = 30.0) -> None:
        """Block until HAProxy has taken a stopped server out of rotation."""
        group = self.rasa if service in self.rasa else self.actions
        name = ("rasa" if group is self.rasa else "actions") + str(group.index(service) + 1)
        deadline = time.monotonic() + timeout
        while any(n == name and state == "UP" for (_, n), state in
                  self.backend_status().items()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"haproxy still sees {name} as up")
            time.sleep(0.2)

    def describe(self, host: str) -> str:
        rasa_ports = ", ".join(_port(s) for s in self.rasa)
        action_ports = ", ".join(_port(s) for s in self.actions)
        lines = [
            f"Rasa (balanced)    {self.rasa_url}  (REST: POST /webhooks/rest/webhook)",
            f"  Rasa replicas    {host} ports {rasa_ports}",
            f"actions (balanced) {self.action_url}",
            f"  action servers   127.0.0.1 ports {action_ports}",
            f"haproxy stats      {self.stats_url}/stats",
            f"PostgreSQL         {_safe_url(self.database_url)}  (tracker store + tickets)",
        ]
        if self.desk_url:
            lines.append(f"desk               {self.desk_url}/desk   chat demo: {self.desk_url}/")
        lines.append(f"logs               {self.launcher.log_dir}")
        return "\n".join(lines)


def _alive(service: Service) -> bool:
    return service.process is not None and service.process.poll() is None


def _port(service: Service) -> str:
    return service.argv[service.argv.index("--port") + 1]


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def start_cluster(
    root: Path,
    model: Path,
    work: Path,
    settings: ScaleSettings,
    *,
    host: str = "127.0.0.1",
    rasa_port: int | None = None,
    action_port: int | None = None,
    desk_port: int | None = None,
    auth_token: str | None = None,
    env: dict[str, str] | None = None,
    wait: bool = True,
) -> Cluster:
    """Migrate, write the configs under `work`, start every process and wait until all answer.

    Ports default to free ones (tests, benches); `make run PROFILE=scale` passes the usual ones.
    """
    ensure_database(settings.database_url)
    upgrade(settings.database_url)
    work.mkdir(parents=True, exist_ok=True)
    rasa_port = rasa_port or free_port()
    action_port = action_port or free_port()
    stats_port = free_port()
    rasa_ports = [free_port() for _ in range(settings.replicas)]
    action_ports = [free_port() for _ in range(settings.replicas)]
    local = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
    rasa_url = f"http://{local}:{rasa_port}"
    action_url = f"http://127.0.0.1:{action_port}"

    endpoints = work / "endpoints.scale.yml"
    endpoints.write_text(
        "# Written by madoguchi.runtime.scale at every start; edit the environment, "
        "not this file.\n"
        + yaml.safe_dump(endpoints_config(action_url, settings.database_url, settings.redis_url,
                                          settings.lock_prefix), sort_keys=False),
        encoding="utf-8",
    )
    config = work / "haproxy.cfg"
    config.write_text(haproxy_config(
        (root / HAPROXY_TEMPLATE).read_text(encoding="utf-8"), host=host, rasa_port=rasa_port,
        action_port=action_port, stats_port=stats_port, rasa_ports=rasa_ports,
        action_ports=action_ports), encoding="utf-8")

    launcher = Launcher(root, work / "log", env={
        "MADOGUCHI_DB_URL": settings.database_url,
        "MADOGUCHI_RASA_URL": rasa_url,
        "MADOGUCHI_ACTION_URL": action_url,
        # socket.io rooms across replicas: the desk's message reaches the customer's socket
        # whichever replica the desk's call lands on (src/madoguchi/rasa_adapters/channels.py).
        "MADOGUCHI_SOCKETIO_REDIS_URL": settings.redis_url,
        # The replicas share the rate limits through the same Redis.
        "MADOGUCHI_PROFILE": "scale",
        "MADOGUCHI_REDIS_URL": settings.redis_url,
        "MADOGUCHI_LOCK_PREFIX": settings.lock_prefix,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        **(env or {}),
    })
    cluster = Cluster(launcher, rasa_url, action_url, f"http://127.0.0.1:{stats_port}",
                      settings.database_url, balancer=Service("haproxy", [], ""))
    try:
        for i, port in enumerate(action_ports, start=1):
            service = action_service(root, port=port)
            service.name = f"actions{i}"
            cluster.actions.append(launcher.start(service))
        for i, port in enumerate(rasa_ports, start=1):
            service = rasa_service(root, model, endpoints, host=host, port=port,
                                   auth_token=auth_token)
            service.name = f"rasa{i}"
            cluster.rasa.append(launcher.start(service))
        cluster.balancer = launcher.start(haproxy_service(config, stats_port))
        if desk_port is not None:
            cluster.desk = launcher.start(desk_service(host=host, port=desk_port))
            cluster.desk_url = f"http://{local}:{desk_port}"
        if wait:
            launcher.wait_ready(cluster.services, timeout=420)
            cluster.wait_balanced()
    except BaseException:
        launcher.stop_all()
        raise
    return cluster


def run(host: str, model: Path) -> int:
    """`make run PROFILE=scale`: the whole topology on the usual ports until Ctrl-C."""
    settings = ScaleSettings.from_env()
    root = load_settings().root
    token = load_settings().rasa_token
    stop = StopSignal()
    print(f"scale profile: {settings.replicas} Rasa replicas and {settings.replicas} action "
          "servers behind haproxy (loading the model takes a minute or two)…", flush=True)
    cluster = start_cluster(root, model, root / "var" / "scale", settings, host=host,
                            rasa_port=5005, action_port=5055, desk_port=8000, auth_token=token)
    try:
        # The same daily retention as the default profile, on the shared database.

        start_schedule(settings.database_url)
        print(cluster.describe(host))
        print(f"Redis              {settings.redis_url}  (lock store, socket.io rooms)")
        token_file = keep_api_token(root / "var" / "rasa-token")
        if token_file:
            print(f"API token          in {token_file} (owner only; made for this run)")
        print("Ctrl-C stops everything.", flush=True)
        # A replica may die: haproxy sends its calls to the others.
        return stop.watch(cluster.services, vital={"haproxy", "desk"})
    finally:
        cluster.launcher.stop_all()
