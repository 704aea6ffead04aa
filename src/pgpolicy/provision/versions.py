"""Which PostgreSQL major version an embedded cluster runs.

Supabase builds 15 and 17 and creates new projects on 17. The choice, first found wins:
an explicit ``--pg-version``, ``PGPOLICY_PG_VERSION``, the ``[db] major_version`` of the
project's ``supabase/config.toml`` (the Supabase CLI's own setting, so a project proves on
the version it deploys to), else 17, Supabase's default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pgpolicy.provision.server import ProvisionError

__all__ = [
    "DEFAULT_PG_VERSION",
    "PG_VERSION_ENV",
    "SUPPORTED_PG_VERSIONS",
    "PgVersion",
    "resolve_pg_version",
]

SUPPORTED_PG_VERSIONS = ("15", "17")
DEFAULT_PG_VERSION = "17"
PG_VERSION_ENV = "PGPOLICY_PG_VERSION"
_SUPABASE_CONFIG = Path("supabase") / "config.toml"


@dataclass(frozen=True)
class PgVersion:
    """A supported major version and where the choice came from (for headers and errors)."""

    major: str
    source: str

    def describe(self) -> str:
        return f"PostgreSQL {self.major} ({self.source})"


def resolve_pg_version(
    explicit: str | int | None = None,
    *,
    env: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> PgVersion:
    """The major version to run; ProvisionError naming the supported ones for any other."""
    environ: Mapping[str, str] = os.environ if env is None else env
    if explicit is not None and str(explicit).strip():
        return _supported(str(explicit), "--pg-version")
    from_env = environ.get(PG_VERSION_ENV, "").strip()
    if from_env:
        return _supported(from_env, PG_VERSION_ENV)
    config = (Path.cwd() if project_dir is None else project_dir) / _SUPABASE_CONFIG
    configured = _configured_major(config)
    if configured is not None:
        return _supported(configured, f"{config}'s [db] major_version")
    return PgVersion(DEFAULT_PG_VERSION, "the default, Supabase's for new projects")


def _supported(value: str, source: str) -> PgVersion:
    major = value.strip()
    if major not in SUPPORTED_PG_VERSIONS:
        raise ProvisionError(
            f"PostgreSQL {major!r} (from {source}) is not supported for the embedded cluster: "
            f"choose one of {', '.join(SUPPORTED_PG_VERSIONS)} (the versions Supabase builds)."
        )
    return PgVersion(major, source)


def _configured_major(config: Path) -> str | None:
    """``[db] major_version`` of a Supabase CLI config, or None when it has none."""
    try:
        data = tomllib.loads(config.read_text())
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProvisionError(f"cannot read {config} for [db] major_version: {exc}") from exc
    db = data.get("db")
    major = db.get("major_version") if isinstance(db, dict) else None
    return None if major is None else str(major)
