"""Running the PostgreSQL server as an unprivileged OS user when we are root.

initdb and postgres refuse to run as root (CI containers and fresh VMs often are root).
pytest-postgresql's executor only takes the path of a pg_ctl to call, so we hand it a tiny
generated wrapper that re-executes the real pg_ctl as that user; the data, socket and log
directories are given to the user, and every parent directory must let it through.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pgpolicy.provision.binaries import library_path
from pgpolicy.provision.server import ProvisionError

__all__ = ["OsUser", "chown_to", "ensure_traversable", "pg_ctl_executable", "server_os_user"]

_CANDIDATE_USERS = ("postgres", "nobody")


@dataclass(frozen=True)
class OsUser:
    """The unprivileged account the server runs as."""

    name: str
    uid: int
    gid: int

    def groups(self) -> set[int]:
        return set(os.getgrouplist(self.name, self.gid))


def server_os_user() -> OsUser | None:
    """The user to run the server as, or None when we are not root (run it as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in _CANDIDATE_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return OsUser(entry.pw_name, entry.pw_uid, entry.pw_gid)
    raise ProvisionError(
        "Running as root, and PostgreSQL refuses to run as root, but neither an OS user "
        "'postgres' nor 'nobody' exists to run it as. Create one (useradd postgres) or run "
        "as a normal user."
    )


def chown_to(path: Path, user: OsUser | None) -> None:
    """Give ``path`` (not recursively) to the server user; a no-op when not root."""
    if user is not None:
        os.chown(path, user.uid, user.gid)


def ensure_traversable(path: Path, user: OsUser | None) -> None:
    """Fail clearly if ``user`` cannot reach ``path`` because a parent directory blocks it."""
    if user is None:
        return
    groups = user.groups()
    for directory in [path, *path.parents]:
        if not directory.exists():
            continue
        info = directory.stat()
        if info.st_uid == user.uid:
            allowed = bool(info.st_mode & stat.S_IXUSR)
        elif info.st_gid in groups:
            allowed = bool(info.st_mode & stat.S_IXGRP)
        else:
            allowed = bool(info.st_mode & stat.S_IXOTH)
        if not allowed:
            raise ProvisionError(
                f"PostgreSQL must run as the unprivileged OS user {user.name!r} (we are root "
                f"and it refuses to run as root), but {directory} (mode "
                f"{stat.filemode(info.st_mode)}) does not let that user through to {path}. "
                f"Run `chmod o+x {shlex.quote(str(directory))}` or put the cluster elsewhere."
            )


@contextmanager
def pg_ctl_executable(bindir: Path, user: OsUser | None) -> Iterator[Path]:
    """Path to give the executor as pg_ctl: the real one, or a wrapper running it as ``user``
    and/or with the library path a registry build needs (binaries.library_path).

    The wrapper lives in a private temp dir (nobody else can swap it) that is removed on
    exit; the server keeps running without it.
    """
    pg_ctl = bindir / "pg_ctl"
    libraries = library_path(bindir)
    if user is None and libraries is None:
        yield pg_ctl
        return
    switch = "" if user is None else f"{_user_switch_command(user)} -- "
    private_dir = Path(tempfile.mkdtemp(prefix="pgpolicy-pgctl-"))
    try:
        wrapper = private_dir / "pg_ctl"
        lines = ["#!/bin/sh"]
        if user is not None:
            lines.append(
                f"# pgpolicy: PostgreSQL refuses to run as root; run pg_ctl as {user.name}."
            )
        if libraries is not None:
            lines.append(
                "# pgpolicy: the registry build loads libraries it does not carry from here."
            )
            lines.append(
                f"LD_LIBRARY_PATH={shlex.quote(libraries)}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}"
            )
            lines.append("export LD_LIBRARY_PATH")
        lines += ["cd / || exit 1", f'exec {switch}{shlex.quote(str(pg_ctl))} "$@"', ""]
        wrapper.write_text("\n".join(lines))
        wrapper.chmod(0o700)
        yield wrapper
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)


def _user_switch_command(user: OsUser) -> str:
    """runuser (util-linux) when present, else setpriv; both keep the environment."""
    runuser = shutil.which("runuser") or _first_existing("/usr/sbin/runuser", "/sbin/runuser")
    if runuser is not None:
        return f"{shlex.quote(runuser)} -u {shlex.quote(user.name)}"
    setpriv = shutil.which("setpriv") or _first_existing("/usr/bin/setpriv")
    if setpriv is not None:
        return f"{shlex.quote(setpriv)} --reuid={user.uid} --regid={user.gid} --init-groups"
    raise ProvisionError(
        "Running as root, and PostgreSQL refuses to run as root, but neither `runuser` nor "
        "`setpriv` (util-linux) is available to run it as an unprivileged user."
    )


def _first_existing(*paths: str) -> str | None:
    return next((p for p in paths if os.access(p, os.X_OK)), None)
