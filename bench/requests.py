"""Request bench: full request conversations, one customer alone and 20 at once.

Each customer goes from 「私の個人データを開示してください」 through the form to a confirmed
ticket (about ten turns) through the real Rasa server, action server and SQLite database.
Printed: turns per second, p50/p95 turn latency, errors, for the named baseline (1 customer)
and 20 concurrent customers, and the throughput ratio.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bench.common import OUT, ROOT, get_json, percentile, post_json, table, write_json
from madoguchi.infra.db import upgrade
from madoguchi.runtime.drills import ANSWERS, OPENING
from madoguchi.runtime.launcher import Launcher, action_service, free_port, rasa_service
from madoguchi.runtime.training import ensure_model


def conversation(url: str) -> tuple[list[float], int]:
    """One customer's whole request; the latency of every turn and the errors seen."""
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    latencies: list[float] = []
    errors = 0

    def say(text: str) -> None:
        nonlocal errors
        start = time.perf_counter()
        try:
            post_json(f"{url}/webhooks/rest/webhook", {"sender": sender, "message": text},
                      timeout=60)
        except OSError:
            errors += 1
        latencies.append((time.perf_counter() - start) * 1000)

    say(OPENING)
    say("はい")
    for _ in range(10):
        asked = get_json(f"{url}/conversations/{sender}/tracker")["slots"].get("requested_slot")
        if asked is None:
            break
        say(ANSWERS.get(asked, "なし"))
    say("/affirm")
    if not get_json(f"{url}/conversations/{sender}/tracker")["slots"].get("ticket_reference"):
        errors += 1
    return latencies, errors


def run(url: str, customers: int) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=customers) as pool:
        outcomes = list(pool.map(lambda _: conversation(url), range(customers)))
    elapsed = time.perf_counter() - start
    latencies = [ms for lat, _ in outcomes for ms in lat]
    return {
        "customers": customers,
        "turns": len(latencies),
        "turns_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "errors": sum(e for _, e in outcomes),
    }


def main() -> dict:
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    work = OUT / "requests"
    work.mkdir(parents=True, exist_ok=True)
    db = work / "bench.db"
    db.unlink(missing_ok=True)
    upgrade(f"sqlite:///{db}")
    rasa_port, action_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n'
        "  enable_selective_domain: true\n"  # as in endpoints.yml
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {db}\n", encoding="utf-8")
    launcher = Launcher(ROOT, work / "logs", env={"MADOGUCHI_DB_URL": f"sqlite:///{db}",
                                                  "TF_CPP_MIN_LOG_LEVEL": "2"})
    actions = launcher.start(action_service(ROOT, port=action_port))
    rasa = launcher.start(rasa_service(ROOT, model, endpoints, port=rasa_port))
    try:
        launcher.wait_ready([actions, rasa], timeout=300)
        url = f"http://127.0.0.1:{rasa_port}"
        conversation(url)  # warm-up
        rows = [run(url, 1), run(url, 20)]
    finally:
        launcher.stop_all()
    shown = [{k: (f"{v:.1f}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    print("\nRequest bench: full request conversations (SQLite, one Rasa + one action server)")
    print(table(shown, ["customers", "turns", "turns_per_s", "p50_ms", "p95_ms", "errors"]))
    print(f"throughput 20 customers / baseline 1 customer: "
          f"{rows[1]['turns_per_s'] / rows[0]['turns_per_s']:.2f}")
    result = {"runs": rows}
    write_json(OUT / "requests.json", result)
    return result


if __name__ == "__main__":
    main()
