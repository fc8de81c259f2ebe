"""Review bench: list and transcript latency on 100,000 conversations, SQLite and PostgreSQL.

For each backend, a fresh database gets Rasa's own `events` table (created by Rasa's
SQLTrackerStore) and generated conversations bulk-inserted in Rasa's event format; the
projector folds them into the read model (timed: events/s); then the supervisor's calls
(`SupervisorReview.list` with each filter, `SupervisorReview.conversation`) are timed, p50/p95
in ms.
The baseline is the same run on 1,000 conversations; the ratio says how much 100x more data
costs. `python -m bench review [N]` (default N = 100,000; MADOGUCHI_TEST_PG_URL as in tests).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench.common import OUT, ROOT, percentile, table, write_json
from madoguchi.conversation.table import EVENTS
from madoguchi.infra import db
from madoguchi.review import filters as flt
from madoguchi.review.service import SupervisorReview

BASELINE = 1_000
DEFAULT_N = 100_000
REPEAT = 30
TRANSCRIPTS = 200
PG_ADMIN_URL = os.environ.get(
    "MADOGUCHI_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
NOW = datetime.now(timezone.utc).replace(microsecond=0)
DAYS = 60

INTENTS = [("request_disclosure", "disclosure", "個人情報を開示してください"),
           ("request_correction", "correction", "登録住所が古いので直してほしい"),
           ("request_suspension", "suspension", "私の情報の利用をやめてください"),
           ("request_marketing_optout", "marketing_optout", "カタログを送らないで"),
           ("request_third_party_stop", "third_party_stop", "第三者に渡さないでほしい"),
           ("complaint", "complaint", "対応がひどいので苦情を言いたい"),
           ("human_handoff", None, "担当者と話したい"),
           ("notice_2", None, "利用目的を教えて"),
           ("notice_6", None, "安全管理はどうなっていますか"),
           ("notice_5", None, "メールを止めたい"), ("out_of_scope", None, "明日の天気は")]
SECTIONS = {"notice_2": "2", "notice_6": "6", "notice_5": "5"}


def _event(kind: str, at: float, **data: Any) -> dict[str, Any]:
    return {"event": kind, "timestamp": at, **data}


def _user(text: str, intent: str, confidence: float, at: float,
          meant: str = "out_of_scope") -> dict[str, Any]:
    # As the FallbackClassifier leaves it: nlu_fallback first, the real intents after it.
    second = round(confidence * 0.8, 3) if intent == "nlu_fallback" else round(
        (1 - confidence) / 2, 3)
    ranking = [{"name": intent, "confidence": confidence},
               {"name": meant if intent == "nlu_fallback" else "out_of_scope",
                "confidence": second}]
    parse = {"intent": {"name": intent, "confidence": confidence}, "entities": [],
             "text": text, "message_id": None, "metadata": {}, "intent_ranking": ranking}
    return _event("user", at, text=text, parse_data=parse, input_channel="rest",
                  message_id=None, metadata={})


def conversation(rng: random.Random, i: int) -> list[dict[str, Any]]:
    """One conversation in Rasa's event format: 1-3 customer messages, ~7 events."""
    at = (NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))).timestamp()
    intent, rtype, words = INTENTS[rng.randrange(len(INTENTS))]
    if rng.random() < 0.05:  # some customers type a phone number: the masker works for real
        words += f" 電話は090-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}です"
    fallback = rng.random() < 0.12
    confidence = round(0.3 if fallback else rng.uniform(0.35, 0.99), 3)
    out = [_user(words, "nlu_fallback" if fallback else intent, confidence, at, meant=intent)]
    out.append(_event("action", at + 1, name="action_fallback" if fallback else
                      "action_start_request" if rtype else "action_answer_notice",
                      policy="RulePolicy", confidence=1.0))
    out.append(_event("bot", at + 1, text="承りました。", data={}, metadata={}))
    if rtype and not fallback:
        out.append(_event("slot", at + 1, name="request_type", value=rtype))
    if intent in SECTIONS and not fallback:
        out.append(_event("slot", at + 1, name="notice_section", value=SECTIONS[intent]))
    for turn in range(rng.randrange(0, 3)):
        out.append(_user("はい、お願いします", "affirm", 0.9, at + 10 + turn * 10))
        out.append(_event("bot", at + 11 + turn * 10, text="次の項目を教えてください。",
                          data={}, metadata={}))
    if rtype and not fallback and rng.random() < 0.6:
        out.append(_event("slot", at + 40, name="ticket_reference", value=f"PRV-BENCH-{i:06d}"))
    if intent in ("human_handoff", "complaint") or rng.random() < 0.1:
        out.append(_event("pause", at + 41))
    return out


def _rows(n: int, seed: int = 6) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sender = f"bench-{i:06d}"
        for event in conversation(rng, i):
            rows.append({
                "sender_id": sender, "type_name": event["event"],
                "timestamp": event["timestamp"],
                "intent_name": (event.get("parse_data") or {}).get("intent", {}).get("name"),
                "action_name": event.get("name"),
                "data": json.dumps(event),
            })
    return rows


def _create_events_table(url: str) -> None:
    """Rasa's own schema, created the way `rasa run` creates it."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=u.database)
    else:
        store = SQLTrackerStore(Domain.empty(), dialect="postgresql", host=u.host,
                                port=u.port, db=u.database, username=u.username)
    store.engine.dispose()


def _timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(url: str, n: int) -> dict[str, Any]:
    _create_events_table(url)
    engine = db.make_engine(url)
    db.upgrade(engine)
    rows = _rows(n)
    start = time.perf_counter()
    with engine.begin() as conn:
        for k in range(0, len(rows), 20_000):
            conn.execute(insert(EVENTS), rows[k:k + 20_000])
    generated = time.perf_counter() - start
    review = SupervisorReview(engine, db.session_factory(engine))
    start = time.perf_counter()
    applied = review.refresh()
    projected = time.perf_counter() - start
    for conv_id in (f"bench-{i:06d}" for i in range(0, n, max(1, n // 50))):
        review.tag(conv_id, "bench", add=["要確認"])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))

    yesterday = (NOW.astimezone(flt.JST) - timedelta(days=1)).date().isoformat()
    cases = {
        "list: newest 50": {},
        "list: yesterday, fell back": {"since": yesterday, "until": yesterday,
                                       "fallback": "true"},
        "list: intent": {"intent": "request_correction"},
        "list: request type + handed off": {"request_type": "complaint", "handoff": "true"},
        "list: notice section": {"section": "6"},
        "list: low confidence": {"low_confidence": "true"},
        "list: tag": {"tag": "要確認"},
        "list: not reviewed": {"reviewed": "false"},
        "list: free text": {"q": "住所"},
    }
    results: dict[str, Any] = {}
    for name, params in cases.items():
        filters = flt.parse_filters(params)
        times = _timed(lambda f=filters: review.list(f, limit=50), REPEAT)
        results[name] = times
    deep = flt.parse_filters({})
    results["list: page 20 (offset 950)"] = _timed(
        lambda: review.list(deep, limit=50, offset=950), REPEAT)
    rng = random.Random(1)
    picks = [f"bench-{rng.randrange(n):06d}" for _ in range(TRANSCRIPTS)]
    it = iter(picks)
    results["transcript"] = _timed(lambda: review.conversation(next(it)), TRANSCRIPTS)
    engine.dispose()
    return {
        "conversations": n, "events": len(rows), "insert_s": round(generated, 2),
        "projection_s": round(projected, 2),
        "projection_events_per_s": round(applied / projected) if projected else None,
        "latency": {k: {"p50_ms": round(percentile(v, 0.5), 2),
                        "p95_ms": round(percentile(v, 0.95), 2)} for k, v in results.items()},
    }


def _sqlite(n: int, folder: Path) -> dict[str, Any]:
    path = folder / f"review-{n}.db"
    return measure(f"sqlite:///{path}", n)


def _postgres(n: int) -> dict[str, Any] | None:
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"madoguchi_bench_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL not reachable ({type(exc).__name__}); skipped", flush=True)
        admin.dispose()
        return None
    try:
        return measure(make_url(PG_ADMIN_URL).set(database=name).render_as_string(
            hide_password=False), n)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception as exc:  # the server went away (another bench restarts it)
            print(f"could not drop {name}: {type(exc).__name__}", flush=True)
        admin.dispose()


def _print_ratios(backend: str, sizes: dict[str, Any], n: int) -> None:
    base, big = sizes.get(str(BASELINE)), sizes.get(str(n))
    if not base or not big:
        return
    rows = []
    for case, figures in big["latency"].items():
        b = base["latency"][case]
        rows.append({"call": case,
                     "p50 ms (1k)": b["p50_ms"], "p95 ms (1k)": b["p95_ms"],
                     f"p50 ms ({n // 1000}k)": figures["p50_ms"],
                     f"p95 ms ({n // 1000}k)": figures["p95_ms"],
                     "p50 ratio": round(figures["p50_ms"] / b["p50_ms"], 1)
                     if b["p50_ms"] else None})
    print(f"\n{backend}: baseline {BASELINE:,} vs {n:,} conversations")
    print(table(rows, list(rows[0])), flush=True)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[2:] if argv is None and sys.argv[1:2] == ["review"] else (argv or [])
    n = int(args[0]) if args else DEFAULT_N
    report: dict[str, Any] = {"when": NOW.isoformat(), "root": str(ROOT)}
    # Load the PII masker (spaCy) before timing anything: the desk does it at start too.
    from madoguchi.review.masking import mask_pii

    mask_pii("090-1234-5678")
    with tempfile.TemporaryDirectory(prefix="madoguchi-review-bench-") as tmp:
        for backend, run in (("sqlite", lambda k: _sqlite(k, Path(tmp))),
                             ("postgresql", _postgres)):
            for size in (BASELINE, n):
                print(f"-- {backend}: {size:,} conversations", flush=True)
                try:
                    result = run(size)
                except OperationalError as exc:  # e.g. PostgreSQL restarted under us
                    print(f"   {backend} failed: {type(exc).__name__}: "
                          f"{str(exc).splitlines()[0]}", flush=True)
                    result = None
                if result is None:
                    break
                report.setdefault(backend, {})[str(size)] = result
                print(f"   {result['events']:,} events inserted in {result['insert_s']} s, "
                      f"projected in {result['projection_s']} s "
                      f"({result['projection_events_per_s']:,} events/s)", flush=True)
                write_json(OUT / "review.json", report)
            _print_ratios(backend, report.get(backend, {}), n)
    print(f"\nresults: {OUT / 'review.json'}")


if __name__ == "__main__":
    main(sys.argv[1:])
