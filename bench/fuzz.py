"""Fuzz bench: the webhook, socket.io and desk fuzzers (tests/fuzz) with more examples.

`python -m bench fuzz` runs the fuzz tests twice in this one command: once as the test suite
does (the baseline, MADOGUCHI_FUZZ_EXAMPLES=1) and once with MADOGUCHI_BENCH_FUZZ_EXAMPLES times
more examples (default 5). Each request the tests send is recorded (MADOGUCHI_FUZZ_REPORT);
this prints per target the inputs tried, the 5xx seen (must be 0), the answers by status, the
4xx by reason, the time taken, and the ratios of the bigger run to the baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.common import OUT, ROOT, table, write_json

TESTS = ["tests/fuzz/test_webhook_fuzz.py", "tests/fuzz/test_socketio_fuzz.py",
         "tests/fuzz/test_desk_api_fuzz.py"]
TARGETS = ("webhook", "socketio", "desk")


def run(scale: float, work: Path) -> dict:
    """One pytest run of the fuzz tests at `scale` times their example counts."""
    report = work / f"records-x{scale:g}.jsonl"
    report.unlink(missing_ok=True)
    env = {**os.environ, "MADOGUCHI_FUZZ_EXAMPLES": f"{scale:g}",
           "MADOGUCHI_FUZZ_REPORT": str(report)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    wall = time.monotonic() - started
    (work / f"pytest-x{scale:g}.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()
               if line.strip()] if report.exists() else []
    summary = {"scale": scale, "wall_s": wall, "pytest_exit": done.returncode,
               "pytest_tail": done.stdout.strip().splitlines()[-1:] or [""], "targets": {}}
    for target in TARGETS:
        mine = [r for r in records if r["target"] == target]
        statuses = Counter(r["status"] for r in mine)
        summary["targets"][target] = {
            "inputs": len(mine),
            "5xx": sum(n for s, n in statuses.items() if s >= 500),
            "2xx": sum(n for s, n in statuses.items() if 200 <= s < 300),
            "3xx": sum(n for s, n in statuses.items() if 300 <= s < 400),
            "4xx": sum(n for s, n in statuses.items() if 400 <= s < 500),
            "request_s": sum(r.get("seconds") or 0.0 for r in mine),
            "by_status": dict(sorted(Counter(str(s) for s in statuses.elements()).items())),
            "4xx_by_reason": dict(Counter(
                f"{r['status']} {r['reason']}" for r in mine if 400 <= r["status"] < 500
            ).most_common()),
        }
    return summary


def _rows(summary: dict) -> list[dict]:
    rows = []
    for target, t in summary["targets"].items():
        rows.append({
            "run": f"x{summary['scale']:g}", "target": target, "inputs": t["inputs"],
            "5xx": t["5xx"], "2xx": t["2xx"], "3xx": t["3xx"], "4xx": t["4xx"],
            "request_s": f"{t['request_s']:.1f}",
            "inputs_per_s": f"{t['inputs'] / t['request_s']:.1f}" if t["request_s"] else "-",
        })
    return rows


def main() -> dict:
    work = OUT / "fuzz"
    work.mkdir(parents=True, exist_ok=True)
    scale = float(os.environ.get("MADOGUCHI_BENCH_FUZZ_EXAMPLES", "5"))
    baseline, bigger = run(1, work), run(scale, work)

    print("\nFuzz bench: tests/fuzz through the real Rasa server and the real desk "
          "(SQLite and PostgreSQL); request_s = time spent in requests")
    print(table(_rows(baseline) + _rows(bigger),
                ["run", "target", "inputs", "5xx", "2xx", "3xx", "4xx", "request_s",
                 "inputs_per_s"]))
    for summary in (baseline, bigger):
        print(f"x{summary['scale']:g}: whole run {summary['wall_s']:.0f} s (server start-up "
              f"included), pytest exit {summary['pytest_exit']}: {summary['pytest_tail'][0]}")
    for target, t in bigger["targets"].items():
        print(f"\n4xx by reason, {target} (x{scale:g}):")
        for reason, count in t["4xx_by_reason"].items():
            print(f"  {count:6d}  {reason}")
    ratios = {}
    for target in bigger["targets"]:
        b, n = baseline["targets"][target], bigger["targets"][target]
        ratios[target] = {
            "inputs": n["inputs"] / b["inputs"] if b["inputs"] else float("nan"),
            "request_s": n["request_s"] / b["request_s"] if b["request_s"] else float("nan"),
        }
        print(f"{target}: x{scale:g} / baseline: inputs {ratios[target]['inputs']:.2f}, "
              f"time in requests {ratios[target]['request_s']:.2f}")
    total_5xx = sum(t["5xx"] for s in (baseline, bigger) for t in s["targets"].values())
    print(f"5xx seen in all runs: {total_5xx} (must be 0)")
    result = {"baseline": baseline, "bigger": bigger, "ratios": ratios, "5xx": total_5xx}
    write_json(OUT / "fuzz.json", result)
    if total_5xx or baseline["pytest_exit"] or bigger["pytest_exit"]:
        print(f"FUZZ FOUND PROBLEMS: see {work}/pytest-*.log")
    return result


if __name__ == "__main__":
    main()
