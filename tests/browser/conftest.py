"""Real browsers on the real path: headless Chromium (Debian's chromium + chromedriver) driven
by selenium 4, against the real Rasa and action servers (the e2e session fixture), the real desk
(uvicorn, on the same database and Rasa) and an operator made with `madoguchi user add`.

Selenium is given both the driver and the browser binary, so selenium-manager never looks for
(or downloads) anything. Without Chromium the tests skip with the reason, or fail when
MADOGUCHI_REQUIRE_SERVICES=1 (as CI sets), like the PostgreSQL tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, desk_service, free_port
from tests.conftest import _unavailable
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Servers

# The e2e session's real Rasa and action servers, as fixtures here too.
servers = e2e.servers
webhook_sink = e2e.webhook_sink

ROOT = project_root()
CHROMIUM = Path(os.environ.get("MADOGUCHI_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("MADOGUCHI_CHROMEDRIVER", "/usr/bin/chromedriver"))

# Everything that would make Chromium call out to Google is off: this machine's network is
# closed, and a test must not depend on it anyway.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--lang=ja-JP",
]

OPERATOR_NAME = "hanako"


@dataclass(frozen=True)
class DeskServer:
    base: str
    database_url: str
    operator: str
    operator_token: str


def _check_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        _unavailable(
            f"headless Chromium is not installed ({', '.join(missing)} missing; "
            "scripts/ensure-system-packages installs Debian's chromium and chromium-driver)"
        )


@pytest.fixture(scope="session")
def chromium_available() -> None:
    _check_chromium()


def _madoguchi_cli() -> list[str]:
    script = Path(sys.executable).parent / "madoguchi"
    return [str(script)] if script.exists() else [sys.executable, "-m", "madoguchi.runtime.cli"]


def add_user(database_url: str, name: str, role: str) -> str:
    """A desk user made as an administrator makes one: `madoguchi user add`; its token."""
    done = subprocess.run(
        [*_madoguchi_cli(), "user", "add", name, "--role", role],
        env={**os.environ, "MADOGUCHI_DB_URL": database_url},
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token and "\n" not in token, done.stdout
    return token


@pytest.fixture(scope="session")
def desk(
    chromium_available: None, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DeskServer]:
    """The desk as `make run` starts it, on the e2e servers' database and Rasa.

    Shared like the servers (tests/fuzz imports this fixture too): a second desk would try to
    create the same operator in the same database.
    """
    if "desk" in e2e._SHARED:
        yield e2e._SHARED["desk"]
        return
    work = tmp_path_factory.mktemp("desk")
    port = free_port()
    action_url = servers.actions.health_url.rsplit("/health", 1)[0]
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_DB_URL": servers.database_url,
        "MADOGUCHI_RASA_URL": servers.rasa_url,
        "MADOGUCHI_ACTION_URL": action_url,
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = launcher.start(desk_service(port=port))
    try:
        launcher.wait_ready([service], timeout=120)
        token = add_user(servers.database_url, OPERATOR_NAME, "operator")
        e2e._SHARED["desk"] = DeskServer(
            f"http://127.0.0.1:{port}", servers.database_url, OPERATOR_NAME, token)
        yield e2e._SHARED["desk"]
    finally:
        e2e._SHARED.pop("desk", None)
        launcher.stop_all()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    # Keep each phase's report on the test, so the browser fixture knows whether it failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def browser(
    chromium_available: None, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], object]]:
    """A factory of fresh Chromium windows (own profile each: two people, two browsers).

    When the test fails, each window leaves a screenshot and its page source in tmp_path.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers: dict[str, webdriver.Chrome] = {}

    def open_browser(name: str) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        profile = tmp_path / f"profile-{name}"
        profile.mkdir()
        options.add_argument(f"--user-data-dir={profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(executable_path=str(CHROMEDRIVER),
                          log_output=str(tmp_path / f"chromedriver-{name}.log"))
        driver = webdriver.Chrome(service=service, options=options)
        driver.set_page_load_timeout(60)
        drivers[name] = driver
        return driver

    yield open_browser

    failed = getattr(request.node, "report_call", None)
    for name, driver in drivers.items():
        try:
            if failed is not None and failed.failed:
                driver.save_screenshot(str(tmp_path / f"{name}.png"))
                (tmp_path / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
                console = "\n".join(str(e) for e in driver.get_log("browser"))
                (tmp_path / f"{name}-console.log").write_text(console, encoding="utf-8")
                print(f"browser {name}: screenshot, page and console in {tmp_path}")
        finally:
            driver.quit()
