"""A Supabase CLI project as the CLI reads it: its migrations, its seed, its exposed schemas.

Facts the CLI fixes (``supabase db reset`` / ``supabase migration up``):

- migrations are the files of ``supabase/migrations`` whose name matches
  ``<digits>_<name>.sql``, applied in file-name order (the digits are the version); other
  files are skipped with a warning;
- the seed is ``[db.seed] sql_paths`` of ``supabase/config.toml`` (paths and glob patterns
  relative to ``supabase/``, default ``./seed.sql``), applied after every migration, unless
  ``[db.seed] enabled = false``;
- the exposed schemas are ``[api] schemas`` (default ``public`` and ``graphql_public``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_EXPOSED_SCHEMAS",
    "CliConfigError",
    "CliProject",
    "MigrationFile",
    "find_cli_project",
]

DEFAULT_EXPOSED_SCHEMAS = ("public", "graphql_public")
_MIGRATION_NAME = re.compile(r"^([0-9]+)_(.*)\.sql$")
_DEFAULT_SEED = ("./seed.sql",)


class CliConfigError(ValueError):
    """supabase/config.toml cannot be read, or a value in it has the wrong type."""


@dataclass(frozen=True)
class MigrationFile:
    """One migration file: its version (the digits of its name), its name, its path."""

    version: str
    name: str
    path: Path


@dataclass(frozen=True)
class CliProject:
    """What the CLI would apply to a fresh database, and what it exposes through the API."""

    root: Path
    migrations: tuple[MigrationFile, ...]
    skipped: tuple[Path, ...]
    seeds: tuple[Path, ...]
    exposed_schemas: tuple[str, ...]

    @property
    def supabase_dir(self) -> Path:
        return self.root / "supabase"


def find_cli_project(root: Path) -> CliProject | None:
    """The CLI project at ``root`` (the folder holding ``supabase/``), or None when
    ``supabase/migrations`` holds no ``.sql`` file."""
    supabase_dir = root / "supabase"
    migrations_dir = supabase_dir / "migrations"
    if not migrations_dir.is_dir() or not any(migrations_dir.glob("*.sql")):
        return None
    config = _read_config(supabase_dir / "config.toml")
    migrations: list[MigrationFile] = []
    skipped: list[Path] = []
    for path in sorted(p for p in migrations_dir.iterdir() if p.is_file()):
        match = _MIGRATION_NAME.match(path.name)
        if match is None:
            skipped.append(path)
        else:
            migrations.append(MigrationFile(version=match[1], name=match[2], path=path))
    return CliProject(
        root=root,
        migrations=tuple(migrations),
        skipped=tuple(skipped),
        seeds=_seed_files(supabase_dir, _table(config, "db", "seed")),
        exposed_schemas=_exposed_schemas(_table(config, "api")),
    )


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise CliConfigError(f"{path}: {error}") from error


def _table(config: dict[str, Any], *keys: str) -> dict[str, Any]:
    table: Any = config
    for key in keys:
        table = table.get(key, {}) if isinstance(table, dict) else {}
    return table if isinstance(table, dict) else {}


def _exposed_schemas(api: dict[str, Any]) -> tuple[str, ...]:
    schemas = api.get("schemas", list(DEFAULT_EXPOSED_SCHEMAS))
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise CliConfigError("supabase/config.toml: [api] schemas must be a list of names")
    return tuple(schemas)


def _seed_files(supabase_dir: Path, seed: dict[str, Any]) -> tuple[Path, ...]:
    if seed.get("enabled", True) is False:
        return ()
    patterns = seed.get("sql_paths", list(_DEFAULT_SEED))
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise CliConfigError("supabase/config.toml: [db.seed] sql_paths must be a list of paths")
    files: list[Path] = []
    for pattern in patterns:
        relative = pattern.removeprefix("./")
        matches = (
            sorted(supabase_dir.glob(relative))
            if any(c in relative for c in "*?[")
            else [supabase_dir / relative]
        )
        for path in matches:
            if path.is_file() and path not in files:
                files.append(path)
    return tuple(files)
