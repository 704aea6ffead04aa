"""Where a finding's object is written: the file and line a reviewer should open.

The declared state wins (``policies/<schema>.<table>.sql``, ``rpc/<schema>.<function>.sql``):
it is where the object is changed. Otherwise the newest migration that creates it: the
Alembic revisions of the project's ``alembic.ini``, then Supabase CLI migrations
(``supabase/migrations/*.sql``). An object written nowhere has no file (SARIF then carries
only its logical location).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceIndex", "SourceLocation", "project_sources"]

_POLICY_OBJECT = re.compile(r'policy "((?:[^"]|"")+)" on ([^.\s]+)\.(\S+)$')
_FUNCTION_OBJECT = re.compile(r"([^.\s(]+)\.([^.\s(]+)\(")
_RELATION_OBJECT = re.compile(r"([^.\s(]+)\.([^.\s(]+)(?:\s|$)")


@dataclass(frozen=True)
class SourceLocation:
    path: str  # relative to the project folder, with forward slashes
    line: int  # 1-based


@dataclass(frozen=True)
class _Source:
    path: str
    text: str


class SourceIndex:
    """The project's SQL sources, searched for the statement creating a lint object."""

    def __init__(self, declared: Sequence[_Source], migrations: Sequence[_Source]) -> None:
        self._declared = {source.path: source for source in declared}
        self._migrations = list(migrations)  # oldest first

    def locate(self, object_name: str) -> SourceLocation | None:
        """The file and line of ``object_name`` as lint names it, or None."""
        policy = _POLICY_OBJECT.match(object_name)
        if policy is not None:
            name, schema, table = policy.group(1).replace('""', '"'), *policy.group(2, 3)
            pattern = rf"create\s+policy\s+{_ident(name)}\s+on\s+{_qualified(schema, table)}"
            return self._find(f"policies/{schema}.{table}.sql", pattern)
        function = _FUNCTION_OBJECT.match(object_name)
        if function is not None:
            schema, name = function.groups()
            pattern = rf"create\s+(?:or\s+replace\s+)?function\s+{_qualified(schema, name)}\s*\("
            return self._find(f"rpc/{schema}.{name}.sql", pattern)
        relation = _RELATION_OBJECT.match(object_name)
        if relation is not None:
            schema, name = relation.groups()
            pattern = (
                r"create\s+(?:or\s+replace\s+)?(?:unlogged\s+)?(?:materialized\s+)?"
                rf"(?:table|view)\s+(?:if\s+not\s+exists\s+)?{_qualified(schema, name)}(?![\w$])"
            )
            switch = rf"alter\s+table\s+(?:only\s+)?{_qualified(schema, name)}\s+enable\s+row"
            return self._find(f"policies/{schema}.{name}.sql", switch, pattern)
        return None

    def _find(self, declared_path: str, *patterns: str) -> SourceLocation | None:
        declared = self._declared.get(declared_path)
        if declared is not None:
            for pattern in patterns:
                line = _last_line(declared.text, pattern)
                if line is not None:
                    return SourceLocation(declared.path, line)
            return SourceLocation(declared.path, 1)
        for source in reversed(self._migrations):
            line = _last_line(source.text, patterns[-1])
            if line is not None:
                return SourceLocation(source.path, line)
        return None


def project_sources(root: Path) -> SourceIndex:
    """The declared files and migrations of the project in ``root`` (any of them may be absent)."""
    declared = [
        _read(root, path)
        for folder in ("policies", "rpc")
        for path in sorted((root / folder).glob("*.sql"))
    ]
    migrations = [*_alembic_revisions(root), *_supabase_migrations(root)]
    return SourceIndex(declared, migrations)


def _read(root: Path, path: Path) -> _Source:
    return _Source(path.relative_to(root).as_posix(), path.read_text(encoding="utf-8"))


def _alembic_revisions(root: Path) -> list[_Source]:
    """The revisions of ``root/alembic.ini``, base first; none when there is no usable one."""
    ini = root / "alembic.ini"
    if not ini.is_file():
        return []
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        scripts = ScriptDirectory.from_config(Config(str(ini)))
        revisions = list(reversed(list(scripts.walk_revisions("base", "heads"))))
    except (CommandError, OSError):
        return []
    sources = []
    for script in revisions:
        path = Path(script.path).resolve()
        if path.is_relative_to(root.resolve()):
            sources.append(_read(root.resolve(), path))
    return sources


def _supabase_migrations(root: Path) -> list[_Source]:
    return [_read(root, path) for path in sorted((root / "supabase" / "migrations").glob("*.sql"))]


def _ident(name: str) -> str:
    """A name as SQL may spell it: quoted always, bare when it is a plain lowercase one."""
    quoted = re.escape('"' + name.replace('"', '""') + '"')
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return rf"(?:{quoted}|{re.escape(name)}(?![\w$]))"
    return quoted


def _qualified(schema: str, name: str) -> str:
    """``schema.name``; the schema may be left out for public (the default search_path)."""
    prefix = rf"{_ident(schema)}\s*\.\s*"
    return rf"(?:{prefix}){'?' if schema == 'public' else ''}{_ident(name)}"


def _last_line(text: str, pattern: str) -> int | None:
    """The line of the last match (the newest definition in a file that redefines it)."""
    matches = list(re.finditer(pattern, text, re.IGNORECASE))
    if not matches:
        return None
    return text.count("\n", 0, matches[-1].start()) + 1
