"""What a PostgreSQL server program says of itself, asked without starting a server."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["postgres_version_line", "version_line"]


def postgres_version_line(bindir: Path) -> str | None:
    """``postgres --version`` of ``bindir`` ("postgres (PostgreSQL) 17.11"), None if it fails."""
    return version_line(bindir, "postgres")


def version_line(bindir: Path, program: str) -> str | None:
    """``<program> --version`` of ``bindir``, None if it fails or says nothing."""
    try:
        out = subprocess.run(
            [str(bindir / program), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None
