"""`make bench` / `python -m bench [part …]`: run the named parts (all by default)."""

from __future__ import annotations

import importlib
import sys

PARTS = ["nlu", "notice", "requests", "queue", "load", "review", "fuzz", "turn", "summary", "parse"]


def main(argv: list[str]) -> None:
    parts = argv or PARTS
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise SystemExit(f"unknown bench part(s): {', '.join(unknown)}; known: {', '.join(PARTS)}")
    for part in parts:
        print(f"== bench: {part}", flush=True)
        importlib.import_module(f"bench.{part}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
