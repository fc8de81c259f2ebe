"""The notice's versions: the one in force (data/notice/) and the older ones kept under
data/notice/versions/<id>/ for the tickets and conversations that cite them.

A revision never overwrites what a customer was shown: `archive` copies the notice in force
into versions/<its id>/ before the text is edited, and `load_version` reads any version back.

    python -m madoguchi.notice.versions            # the versions known, newest first
    python -m madoguchi.notice.versions --archive  # keep the notice in force before revising it
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
from pathlib import Path

import yaml

from madoguchi.infra.settings import load_settings
from madoguchi.notice.loader import LIMITS_FILE, SECTIONS_FILE, load_notice, parse_version
from madoguchi.notice.model import Notice, NoticeError, NoticeVersion

VERSIONS_DIR = "versions"


def _directory(directory: Path | None) -> Path:
    return Path(directory) if directory is not None else load_settings().notice_dir


def read_version(directory: Path | None = None) -> NoticeVersion:
    """The version of the notice in `directory` (sections.yml's header only: cheap)."""
    path = _directory(directory) / SECTIONS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NoticeError(f"{path}: cannot read the notice's version: {exc}") from exc
    if not isinstance(data, dict):
        raise NoticeError(f"{path}: expected a mapping")
    return parse_version(data, path)


def archived(directory: Path | None = None) -> dict[str, Path]:
    """The older versions kept under versions/, by id (the folder's name)."""
    root = _directory(directory) / VERSIONS_DIR
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / SECTIONS_FILE).is_file()}


def known_versions(directory: Path | None = None) -> list[NoticeVersion]:
    """Every version a customer may have seen, newest first; NoticeError when one folder holds
    another version than its name says or two share a number."""
    folder = _directory(directory)
    current = read_version(folder)
    versions = {current.id: current}
    for version_id, path in archived(folder).items():
        version = read_version(path)
        if version.id != version_id:
            raise NoticeError(f"{path}: holds version {version.id!r}, not {version_id!r}")
        if version_id == current.id:
            continue  # archived before editing: still the one in force
        if version.number >= current.number:
            raise NoticeError(
                f"{path}: version {version.number} is not older than the notice in force "
                f"({current.number}); a revision needs a higher version and a new id"
            )
        versions[version_id] = version
    numbers = [v.number for v in versions.values()]
    if len(numbers) != len(set(numbers)):
        raise NoticeError(f"{folder}: two versions share a revision number")
    return sorted(versions.values(), key=lambda v: v.number, reverse=True)


def load_version(version_id: str, directory: Path | None = None) -> Notice:
    """The notice as it read in version `version_id` (KeyError naming the known ids)."""
    folder = _directory(directory)
    if read_version(folder).id == version_id:
        return load_notice(folder)
    path = archived(folder).get(version_id)
    if path is None:
        known = ", ".join(v.id for v in known_versions(folder))
        raise KeyError(f"no notice version {version_id!r}; known: {known}")
    notice = load_notice(path)
    if notice.version is None or notice.version.id != version_id:
        raise NoticeError(f"{path}: does not hold version {version_id!r}")
    return notice


def archive(directory: Path | None = None) -> Path:
    """Keep the notice in force under versions/<id>/ (its sections, limits and original text).

    Run before editing the notice; running it again on an unchanged notice changes nothing,
    and it refuses to overwrite a kept version with different text (that would rewrite what
    customers were shown)."""
    folder = _directory(directory)
    notice = load_notice(folder)  # only a valid notice is kept
    assert notice.version is not None
    data = yaml.safe_load((folder / SECTIONS_FILE).read_text(encoding="utf-8"))
    names = [SECTIONS_FILE, str(data["source"])]
    if (folder / LIMITS_FILE).is_file():
        names.append(LIMITS_FILE)
    target = folder / VERSIONS_DIR / notice.version.id
    if target.exists():
        differing = [n for n in names
                     if not (target / n).is_file() or not filecmp.cmp(folder / n, target / n,
                                                                      shallow=False)]
        if differing:
            raise NoticeError(
                f"{target}: already holds version {notice.version.id!r} with other text "
                f"({', '.join(differing)}); give the revised notice a new id"
            )
        return target
    target.mkdir(parents=True)
    for name in names:
        shutil.copy2(folder / name, target / name)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--archive", action="store_true",
                        help="keep the notice in force under versions/<id>/ before revising it")
    parser.add_argument("--dir", type=Path, default=None, help="the notice folder")
    args = parser.parse_args(argv)
    if args.archive:
        print(archive(args.dir))
        return 0
    current = read_version(args.dir).id
    for version in known_versions(args.dir):
        mark = "  (in force)" if version.id == current else ""
        print(f"{version.id}\t{version.label}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
