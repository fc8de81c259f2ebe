"""Train the Rasa model only when what it is made from has changed.

A model is named by a hash of everything that shapes it (config, domain, training data, the
tokenizer's code, the pinned packages) and kept in a cache outside the work tree, so `make run`,
`make test` and CI train once per change and a fresh clone on the same machine reuses the model.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from madoguchi.infra.settings import project_root, settings

TRAINING_DATA = ("data/nlu", "data/core")
# Files besides the config whose change must give a new model.
_SHAPING = (
    "domain.yml",
    "constraints.txt",
    "src/madoguchi/rasa_adapters/nlu",
    "src/madoguchi/text/normalize.py",
    "src/madoguchi/text/tokenize.py",
    *TRAINING_DATA,
)


def _files(root: Path, relative: str) -> list[Path]:
    path = root / relative
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [path] if path.is_file() else []


def inputs_hash(root: Path, config: Path) -> str:
    digest = hashlib.sha256()
    for path in [config, *(f for rel in _SHAPING for f in _files(root, rel))]:
        digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    return settings().model_cache


def rasa_train(root: Path, config: Path, out_dir: Path, name: str,
               data: tuple[str, ...] = TRAINING_DATA, env: dict[str, str] | None = None) -> Path:
    rasa = Path(sys.executable).parent / "rasa"
    argv = [
        str(rasa), "train", "--config", str(config), "--domain", str(root / "domain.yml"),
        "--data", *[str(root / d) for d in data], "--out", str(out_dir),
        "--fixed-model-name", name,
    ]
    subprocess.run(argv, cwd=root, check=True, env=env)
    return out_dir / f"{name}.tar.gz"


def ensure_model(root: Path, config: Path, *, link_as: str | None = "current") -> Path:
    """The cached model for these inputs, trained first if there is none."""
    name = f"{config.stem}-{inputs_hash(root, config)}"
    cache = cache_dir()
    cached = cache / f"{name}.tar.gz"
    if not cached.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            trained = rasa_train(root, config, Path(tmp), name)
            os.replace(trained, cached)  # atomic: a half-written model is never cached
    if link_as:
        models = root / "models"
        models.mkdir(exist_ok=True)
        link = models / f"{link_as}.tar.gz"
        tmp_link = models / f".{link_as}.tmp"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(cached)
        os.replace(tmp_link, link)
    return cached


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default="config.yml")
    args = parser.parse_args(argv)
    root = project_root()
    model = ensure_model(root, (root / args.config).resolve())
    print(f"model: {model}")


if __name__ == "__main__":
    main()
