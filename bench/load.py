"""Load bench: many customers at once against one and two replicas; then the fault drills.

The scale profile for real (madoguchi.runtime.scale.start_cluster: PostgreSQL, Redis lock store,
HAProxy in front of the Rasa replicas and of the action servers), first with one replica of
each (the baseline), then with two. Every customer runs the same scripted conversation through
the balancer: a greeting, a notice question, and a disclosure request from first words to its
reference number (11 turns). For 10, 50 and 200 concurrent customers
(MADOGUCHI_BENCH_LOAD_SIZES), each size for at most 45 s (MADOGUCHI_BENCH_LOAD_SECONDS; only
turns answered within it count, so the bench takes minutes, not the quarter of an hour that 200
whole conversations would take on two cores): turns/s, p50/p95/p99 turn latency, errors (HTTP
errors and retry messages), customers who finished, and confirmed requests lost (reference
shown, no ticket); the two-vs-one ratio of turns/s. Then, on the two-replica cluster, each
fault drill once with its count of confirmed requests lost (must be 0).

The machine's cores bound the ratio: two replicas help only as far as there are cores for them.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import OUT, ROOT, percentile, table, write_json
from madoguchi.runtime.drills import (
    ANSWERS,
    GREETING,
    NOTICE_QUESTION,
    OPENING,
    Customer,
    DrillResult,
    confirmed_lost,
    drill_action_servers,
    drill_database_restart,
    drill_replica,
    wait_until,
)
from madoguchi.runtime.launcher import free_port
from madoguchi.runtime.scale import Cluster, ScaleSettings, start_cluster
from madoguchi.runtime.training import ensure_model

SCRIPT = [
    GREETING, NOTICE_QUESTION, OPENING, "はい",
    ANSWERS["customer_name"], ANSWERS["phone"], ANSWERS["postal_address"],
    ANSWERS["member_number"], ANSWERS["preferred_time"], ANSWERS["is_agent"], "/affirm",
]
PG_SERVER = os.environ.get("MADOGUCHI_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("MADOGUCHI_REDIS_URL", "redis://127.0.0.1:6379/1")


def sizes() -> list[int]:
    return [int(n) for n in os.environ.get("MADOGUCHI_BENCH_LOAD_SIZES", "10,50,200").split(",")]


def window() -> float:
    return float(os.environ.get("MADOGUCHI_BENCH_LOAD_SECONDS", "45"))


def scripted(customer: Customer, latencies: list[float], stop_at: float) -> None:
    """One customer's conversation; turns that end after `stop_at` are not counted."""
    for text in SCRIPT:
        if time.monotonic() >= stop_at:
            return
        start = time.monotonic()
        customer.say(text)
        end = time.monotonic()
        if end <= stop_at:
            latencies.append((end - start) * 1000)


def run(cluster: Cluster, customers: int, *, last: bool) -> dict:
    """`customers` at once, each running the script once, for at most the window's length.

    A closed loop: each customer sends the next message when the last was answered. Only turns
    answered within the window count; a customer who has not finished by then stops.
    """
    seconds = window()
    people = [Customer(cluster.rasa_url) for _ in range(customers)]
    latencies: list[list[float]] = [[] for _ in people]
    start = time.monotonic()
    stop_at = start + seconds
    pool = ThreadPoolExecutor(max_workers=customers)
    futures = [pool.submit(scripted, p, lat, stop_at) for p, lat in zip(people, latencies,
                                                                          strict=True)]
    wait(futures, timeout=seconds + 1)
    elapsed = min(time.monotonic(), stop_at) - start
    done = [ms for lat in latencies for ms in lat]
    errors = sum(p.http_errors + p.retry_messages for p in people)
    finished = sum(1 for lat in latencies if len(lat) == len(SCRIPT))
    # Turns still in flight finish (or fail) on their own; before the next size they must be
    # out of the way, after the last one the cluster is stopped under them.
    pool.shutdown(wait=not last, cancel_futures=True)
    confirmed, lost = confirmed_lost(cluster.database_url, people)
    return {
        "customers": customers,
        "turns": len(done),
        "seconds": elapsed,
        "turns_per_s": len(done) / elapsed,
        "p50_ms": percentile(done, 0.50),
        "p95_ms": percentile(done, 0.95),
        "p99_ms": percentile(done, 0.99),
        "errors": errors,
        "finished": finished,
        "tickets": confirmed,
        "confirmed_lost": lost,
    }


class Endpoint:
    """The webhook receiver for the webhook drill: can be down (connection refused) or up."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[bytes] = []
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def drill_webhook(cluster: Cluster, endpoint: Endpoint, handoffs: int = 3) -> DrillResult:
    """Endpoint down during handoffs and across a restart of every action server."""
    endpoint.down()
    people = [Customer(cluster.rasa_url) for _ in range(handoffs)]
    references = [p.handoff() for p in people]
    for service in list(cluster.actions):
        cluster.restart(service)
    cluster.launcher.wait_ready(cluster.actions)
    endpoint.up()
    announced = {r for r in references if r}

    def delivered() -> bool:
        return all(any(r.encode() in body for body in endpoint.received) for r in announced)

    wait_until(delivered, 180, "webhook deliveries after the endpoint came back")
    confirmed, lost = confirmed_lost(cluster.database_url, people)
    return DrillResult("webhook endpoint down + restart", confirmed, lost,
                       sum(p.retry_messages for p in people), sum(p.http_errors for p in people),
                       note=f"{len(announced)}/{len(announced)} handoffs announced")


def _drop(database: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{PG_SERVER}/postgres", future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def measure(replicas: int, model: Path, faults: bool) -> tuple[list[dict], list[DrillResult]]:
    suffix = secrets.token_hex(4)
    database = f"madoguchi_bench_{suffix}"
    settings = ScaleSettings(database_url=f"{PG_SERVER}/{database}", redis_url=REDIS_URL,
                             replicas=replicas, lock_prefix=f"bench{suffix}")
    endpoint = Endpoint()
    endpoint.up()
    cluster = start_cluster(ROOT, model, OUT / "load" / f"replicas{replicas}", settings, env={
        "MADOGUCHI_WEBHOOK_URL": f"http://127.0.0.1:{endpoint.port}/hook",
        "MADOGUCHI_WEBHOOK_SECRET": "bench-secret",
        # The bench's hundreds of simultaneous turns queue behind each other on two cores.
        "SANIC_REQUEST_TIMEOUT": "300", "SANIC_RESPONSE_TIMEOUT": "300",
    })
    rows: list[dict] = []
    drills: list[DrillResult] = []
    try:
        scripted(Customer(cluster.rasa_url), [], time.monotonic() + 300)  # warm-up
        for i, n in enumerate(sizes()):
            row = run(cluster, n, last=i == len(sizes()) - 1 and not faults)
            row["replicas"] = replicas
            rows.append(row)
            print(f"  {replicas} replica(s), {n} customers: {row['turns_per_s']:.1f} turns/s",
                  flush=True)
        if faults:
            drills.append(drill_action_servers(cluster))
            drills.append(drill_webhook(cluster, endpoint))
            drills.append(drill_database_restart(cluster))
            drills.append(drill_replica(cluster))
    finally:
        cluster.launcher.stop_all()
        endpoint.down()
        _drop(database)
    return rows, drills


def main() -> dict:
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    one, _ = measure(1, model, faults=False)
    two, drills = measure(2, model, faults=os.environ.get("MADOGUCHI_BENCH_FAULTS", "1") == "1")
    rows = one + two
    shown = [{k: (f"{v:.1f}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
    print(f"\nLoad bench: scripted conversations (11 turns) through HAProxy, PostgreSQL + Redis; "
          f"each size for at most {window():.0f}s (finished: customers who reached the end)")
    print(table(shown, ["replicas", "customers", "turns", "seconds", "turns_per_s", "p50_ms",
                        "p95_ms", "p99_ms", "errors", "finished", "tickets", "confirmed_lost"]))
    ratios = {}
    for a, b in zip(one, two, strict=True):
        ratios[a["customers"]] = b["turns_per_s"] / a["turns_per_s"]
        print(f"throughput two replicas / baseline one replica, {a['customers']} customers: "
              f"{ratios[a['customers']]:.2f}")
    print(f"(cores on this machine: {os.cpu_count()})")
    if drills:
        print("\nFault drills (two replicas), each once")
        print(table([d.__dict__ for d in drills],
                    ["name", "confirmed", "lost", "retry_messages", "http_errors", "note"]))
    result = {"runs": rows, "ratios": ratios, "drills": [d.__dict__ for d in drills],
              "cores": os.cpu_count()}
    write_json(OUT / "load.json", result)
    return result


if __name__ == "__main__":
    main()
