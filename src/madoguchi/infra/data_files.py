"""The project's data files (data/<area>/*.yml): which folder holds them and how one is read.

The data a company edits (canned replies, request types, the law's steps …) lives in the
project folder; an installed package run from elsewhere still finds the files of its own
source checkout, so every area looks in both places the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from madoguchi.infra.settings import project_root

# The source checkout this package was loaded from.
_CHECKOUT = Path(__file__).resolve().parents[3]


def data_folder(area: str, marker: str) -> Path:
    """data/<area> of the project (MADOGUCHI_HOME / cwd) if it holds `marker`, else of this
    source checkout (which may not hold it either: the caller's reader then says so)."""
    bundled = _CHECKOUT / "data" / area
    for folder in (project_root() / "data" / area, bundled):
        if (folder / marker).is_file():
            return folder
    return bundled


def read_yaml(path: Path, error: Callable[[str], Exception]) -> Any:
    """The file's YAML; a file that cannot be read or parsed raises the caller's own `error`,
    naming the file and why."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise error(f"{path}: unreadable ({exc})") from exc
