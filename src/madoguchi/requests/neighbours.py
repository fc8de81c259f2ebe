"""Which notice sections neighbour which request (data/requests/neighbours.yml).

A message close between a notice question and a request is answered from the notice and the
request offered beside the answer (madoguchi.notice.choice.Split reads this as intents).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from madoguchi.requests.types import (
    REQUEST_TYPE_IDS,
    RequestDataError,
    data_dir,
    load_types,
    read_yaml,
)

NEIGHBOURS_FILE = "neighbours.yml"


def parse_neighbours(raw: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """Request type id → the ids of the notice sections that speak of it."""
    table = raw.get("neighbours") if isinstance(raw, Mapping) else None
    if not isinstance(table, Mapping):
        raise RequestDataError(f"{NEIGHBOURS_FILE}: a `neighbours` mapping is needed")
    out: dict[str, tuple[str, ...]] = {}
    for type_id, sections in table.items():
        if type_id not in REQUEST_TYPE_IDS:
            raise RequestDataError(f"{NEIGHBOURS_FILE}: {type_id!r} is not a request type")
        if not isinstance(sections, list) or not sections:
            raise RequestDataError(f"{NEIGHBOURS_FILE}: {type_id} needs a list of section ids")
        out[str(type_id)] = tuple(str(s) for s in sections)
    return out


@lru_cache(maxsize=2)
def load_neighbours(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    return parse_neighbours(read_yaml(path or data_dir() / NEIGHBOURS_FILE))


def neighbour_intents(path: Path | None = None) -> dict[str, frozenset[str]]:
    """Request intent (request_marketing_optout, complaint …) → its neighbouring section ids."""
    types = load_types()
    return {types[t].intent: frozenset(s) for t, s in load_neighbours(path).items()}
