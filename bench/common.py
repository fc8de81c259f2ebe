"""Shared pieces of the benchmarks: servers on free ports, timing, memory, tables."""

from __future__ import annotations

import json
import os
import statistics
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from madoguchi.infra.rasa_auth import bearer
from madoguchi.infra.settings import project_root
from madoguchi.runtime.launcher import Launcher, Service, free_port, rasa_service, run_secrets

ROOT = project_root()
OUT = ROOT / "bench" / "out"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def api_auth() -> dict[str, str]:
    """The header Rasa's HTTP API wants: the servers the benches start run behind this
    process's token, in every profile (the launcher's `run_secrets`)."""
    return {"Authorization": bearer(run_secrets().rasa_token)}


def post_json(url: str, payload: dict, timeout: float = 30.0) -> dict | list:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **api_auth()},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def get_json(url: str, timeout: float = 30.0) -> dict | list:
    with urllib.request.urlopen(urllib.request.Request(url, headers=api_auth()),
                                timeout=timeout) as response:
        return json.loads(response.read())


def load_nlu_examples(paths: list[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa NLU YAML files."""
    pairs: list[tuple[str, str]] = []
    for path in paths:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block["examples"]).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    pairs.append((line[2:].strip(), block["intent"]))
    return pairs


@contextmanager
def rasa_server(model: Path, log_dir: Path, endpoints: Path | None = None) -> Iterator[
        tuple[str, Service]]:
    """A real `rasa run --enable-api` with this model; yields its base URL and service."""
    port = free_port()
    if endpoints is None:
        endpoints = log_dir / "endpoints.yml"
        log_dir.mkdir(parents=True, exist_ok=True)
        endpoints.write_text("{}\n")  # in-memory tracker store: the NLU bench needs no database
    launcher = Launcher(ROOT, log_dir, env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    service = launcher.start(rasa_service(ROOT, model, endpoints, port=port))
    try:
        launcher.wait_ready([service], timeout=300)
        yield f"http://127.0.0.1:{port}", service
    finally:
        launcher.stop_all()


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    head = "  ".join(c.ljust(widths[c]) for c in columns)
    lines = [head, "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
