"""Locating the local PostgreSQL server binaries an embedded cluster needs.

Debian/Ubuntu install them under /usr/lib/postgresql/<major>/bin, off PATH, so PATH alone
is not enough; an explicit PATH entry still wins so a developer can choose a version.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["find_pg_bindir", "pg_bindir_for_major", "pg_major_version"]

_REQUIRED = ("pg_ctl", "initdb", "postgres")
_DEBIAN_ROOT = Path("/usr/lib/postgresql")


def find_pg_bindir() -> Path | None:
    """Directory holding pg_ctl, initdb and postgres: PATH first, then the newest Debian one."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None:
        # /usr/local/bin/pg_ctl is often a symlink; prefer the real installation directory.
        for candidate in (Path(on_path).resolve().parent, Path(on_path).parent):
            if _is_bindir(candidate):
                return candidate
    for candidate in _debian_bindirs():
        if _is_bindir(candidate):
            return candidate
    return None


def pg_bindir_for_major(major: str) -> Path | None:
    """Binaries of one major version (an existing data directory only runs with those)."""
    for candidate in (find_pg_bindir(), *_debian_bindirs()):
        if candidate is not None and _is_bindir(candidate) and pg_major_version(candidate) == major:
            return candidate
    return None


def pg_major_version(bindir: Path) -> str | None:
    """Major version ("15") reported by ``pg_ctl --version`` in ``bindir``."""
    try:
        out = subprocess.run(
            [str(bindir / "pg_ctl"), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return match.group(1) if match else None


def _debian_bindirs() -> list[Path]:
    """/usr/lib/postgresql/*/bin, newest major version first."""
    if not _DEBIAN_ROOT.is_dir():
        return []

    def version_key(path: Path) -> tuple[int, ...]:
        parts = path.parent.name.split(".")
        return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (-1,)

    return sorted(_DEBIAN_ROOT.glob("*/bin"), key=version_key, reverse=True)


def _is_bindir(directory: Path) -> bool:
    return all(
        (directory / name).is_file() and os.access(directory / name, os.X_OK) for name in _REQUIRED
    )
