"""Where things are and how to reach them, from the environment with embedded defaults.

Every process (Rasa, the action server, the desk, the CLI, the tests) reads the same variables,
so one `.env`-free default works on a fresh checkout and the scale profile only sets variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """The project folder: MADOGUCHI_HOME, else the nearest folder above cwd with domain.yml."""
    env = os.environ.get("MADOGUCHI_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "domain.yml").is_file() and (folder / "data").is_dir():
            return folder
    return here


@dataclass(frozen=True)
class Settings:
    root: Path
    database_url: str
    rasa_url: str
    action_url: str
    rasa_token: str | None

    @property
    def notice_dir(self) -> Path:
        return self.root / "data" / "notice"


def load_settings() -> Settings:
    root = project_root()
    default_db = f"sqlite:///{root / 'var' / 'madoguchi.infra.db'}"
    return Settings(
        root=root,
        database_url=os.environ.get("MADOGUCHI_DB_URL", default_db),
        rasa_url=os.environ.get("MADOGUCHI_RASA_URL", "http://127.0.0.1:5005"),
        action_url=os.environ.get("MADOGUCHI_ACTION_URL", "http://127.0.0.1:5055"),
        rasa_token=os.environ.get("MADOGUCHI_RASA_TOKEN") or None,
    )
