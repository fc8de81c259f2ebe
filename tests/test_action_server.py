"""The webhook outbox's worker starts with the action server, not when an action is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(code: str, tmp_path: Path) -> str:
    env = {"PATH": "", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3",
           "MADOGUCHI_WEBHOOK_URL": "http://127.0.0.1:9/hook",
           "MADOGUCHI_WEBHOOK_SECRET": "test-secret",
           "MADOGUCHI_DB_URL": f"sqlite:///{tmp_path / 'madoguchi.db'}"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=300, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_actions_starts_no_thread(tmp_path: Path) -> None:
    code = ("import threading, actions.handoff, actions.server; "
            "print(sorted(t.name for t in threading.enumerate()))")
    assert run(code, tmp_path) == "['MainThread']"


def test_the_server_starts_the_worker_before_it_serves(tmp_path: Path) -> None:
    code = (
        "import threading, actions.server as s\n"
        "from madoguchi.infra import db\n"
        "db.upgrade(db.make_engine('sqlite:///" + str(tmp_path / "madoguchi.db") + "'))\n"
        "seen = []\n"
        "s.main_from_args = lambda args: seen.append((args.actions, args.port, "
        "sorted(t.name for t in threading.enumerate())))\n"
        "s.main(['--actions', 'actions', '--port', '5999'])\n"
        "print(seen)\n"
    )
    assert run(code, tmp_path) == "[('actions', 5999, ['MainThread', 'webhook-outbox'])]"
