"""The scale profile's generated configuration: what HAProxy and Rasa are given."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from madoguchi.infra.settings import project_root
from madoguchi.runtime.scale import (
    HAPROXY_TEMPLATE,
    ScaleSettings,
    endpoints_config,
    haproxy_config,
)

pytestmark = pytest.mark.scale


def _config() -> str:
    template = (project_root() / HAPROXY_TEMPLATE).read_text(encoding="utf-8")
    return haproxy_config(template, host="127.0.0.1", rasa_port=5005, action_port=5055,
                          stats_port=5099, rasa_ports=[5101, 5102], action_ports=[5151, 5152])


def test_both_tiers_list_every_replica_with_health_checks() -> None:
    config = _config()
    assert config.count("server rasa1 127.0.0.1:5101 check") == 2  # REST and socket.io
    assert config.count("server rasa2 127.0.0.1:5102 check") == 2
    assert "server actions1 127.0.0.1:5151 check" in config
    assert "server actions2 127.0.0.1:5152 check" in config
    assert "retry-on conn-failure" in config and "option redispatch" in config


def test_haproxy_accepts_the_generated_config(tmp_path) -> None:
    haproxy = shutil.which("haproxy") or shutil.which("/usr/sbin/haproxy")
    if haproxy is None:
        pytest.skip("haproxy is not installed (scripts/ensure-system-packages)")
    path = tmp_path / "haproxy.cfg"
    path.write_text(_config(), encoding="utf-8")
    result = subprocess.run([haproxy, "-c", "-f", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_replicas_share_the_tracker_store_in_postgresql_and_locks_in_redis() -> None:
    endpoints = endpoints_config("http://127.0.0.1:5055",
                                 "postgresql://postgres@db.internal:5432/madoguchi",
                                 "rediss://:pw@cache.internal:6380/2", "madoguchi")
    # The action servers' token: Rasa expands it from its environment (not in the file).
    assert endpoints["action_endpoint"] == {"url": "http://127.0.0.1:5055/webhook",
                                            "token": "${MADOGUCHI_ACTION_TOKEN}",
                                            "enable_selective_domain": True}
    assert endpoints["tracker_store"] == {
        "type": "madoguchi.rasa_adapters.tracker_store.DurableSQLTrackerStore",
        "url": "postgresql://postgres@db.internal:5432/madoguchi",
    }
    assert endpoints["lock_store"] == {"type": "redis", "url": "cache.internal", "port": 6380,
                                       "db": 2, "key_prefix": "madoguchi", "password": "pw",
                                       "use_ssl": True}


def test_a_lock_prefix_rasa_would_silently_replace_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("MADOGUCHI_LOCK_PREFIX", "mado-guchi")
    with pytest.raises(SystemExit, match="letters and digits"):
        ScaleSettings.from_env()
