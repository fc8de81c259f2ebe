"""The scale profile for real, once per session: a fresh PostgreSQL database, Redis, HAProxy, two
Rasa replicas and two action servers (madoguchi.runtime.scale.start_cluster, as
`make run PROFILE=scale`).

Skipped with the reason when PostgreSQL, Redis or haproxy is missing; a failure instead when
MADOGUCHI_REQUIRE_SERVICES=1 (CI). The database and the Redis keys are this session's own
(random names), so parallel runs do not meet.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from madoguchi.infra.settings import project_root
from madoguchi.runtime.scale import Cluster, ScaleSettings, start_cluster
from madoguchi.runtime.training import ensure_model
from tests.conftest import PG_ADMIN_URL, _unavailable

ROOT = project_root()
WEBHOOK_SECRET = "scale-secret"


class WebhookEndpoint:
    """The call center's tool: can be taken down (connection refused) and brought back."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._server: ThreadingHTTPServer | None = None
        self.port = 0
        self.up()

    def up(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


def _check_services() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, future=True, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        _unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc}")
    finally:
        engine.dispose()
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_timeout=3).ping()
    except Exception as exc:
        _unavailable(f"Redis at 127.0.0.1:6379 is not reachable: {exc}")
    if not (shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")):
        _unavailable("haproxy is not installed (scripts/ensure-system-packages)")


@pytest.fixture(scope="session")
def webhook_endpoint() -> Iterator[WebhookEndpoint]:
    endpoint = WebhookEndpoint()
    yield endpoint
    endpoint.down()


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory,
            webhook_endpoint: WebhookEndpoint) -> Iterator[Cluster]:
    _check_services()
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    suffix = secrets.token_hex(5)
    database = f"madoguchi_scale_{suffix}"
    database_url = make_url(PG_ADMIN_URL).set(database=database).render_as_string(
        hide_password=False)
    settings = ScaleSettings(database_url=database_url, redis_url="redis://127.0.0.1:6379/1",
                             replicas=2, lock_prefix=f"scale{suffix}")
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    cluster = start_cluster(ROOT, model, tmp_path_factory.mktemp("scale"), settings, env={
        "MADOGUCHI_WEBHOOK_URL": webhook_endpoint.url,
        "MADOGUCHI_WEBHOOK_SECRET": WEBHOOK_SECRET,
    })
    try:
        yield cluster
    finally:
        cluster.launcher.stop_all()
        admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        finally:
            admin.dispose()
        import redis

        client = redis.Redis(host="127.0.0.1", port=6379, db=1)
        for key in client.scan_iter(f"{settings.lock_prefix}*"):
            client.delete(key)


@pytest.fixture
def scale(cluster: Cluster) -> Cluster:
    """The cluster with every replica running and in rotation (an earlier drill may have
    stopped one)."""
    for service in [*cluster.actions, *cluster.rasa]:
        if service.process is None or service.process.poll() is not None:
            cluster.restart(service)
    cluster.launcher.wait_ready([*cluster.actions, *cluster.rasa], timeout=300)
    cluster.wait_balanced()
    return cluster
