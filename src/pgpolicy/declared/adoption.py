"""A declared file whose objects the history already creates without embedding the file.

A project that adopts policies/ and rpc/ after a baseline (its first revision, or an import
of Supabase CLI migrations) has objects the history built from its own SQL. For such a file
``pgpolicy revision`` knows no previous text, and a downgrade could only drop what the file
creates: disable RLS it did not enable, drop policies and functions the baseline made. So the
revision is refused instead, naming the revision that builds the objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory

from pgpolicy.declared.objects import parse_objects

__all__ = ["AdoptionRefused", "built_without_embedding"]


class AdoptionRefused(ValueError):
    """The revision would write a downgrade that removes what it did not add."""


@dataclass(frozen=True)
class BuiltBy:
    revision: str
    what: str


def _name(identifier: str) -> str:
    """An identifier as a revision may spell it: quoted or not."""
    bare = identifier.strip('"')
    return rf'"?{re.escape(bare)}"?'


def _qualified(name: str) -> str:
    schema, _, table = name.rpartition(".")
    return (rf"(?:{_name(schema)}\s*\.\s*)?" if schema else "") + _name(table)


def _patterns(sql: str) -> list[tuple[str, re.Pattern[str]]]:
    objects = parse_objects(sql)
    found = [
        (
            f"policy {name} on {table}",
            re.compile(rf"create\s+policy\s+{_name(name)}\s+on\s+{_qualified(table)}", re.I),
        )
        for name, table in objects.policies
    ]
    found += [
        (
            f"function {signature}",
            re.compile(rf"function\s+{_qualified(signature.partition('(')[0])}\s*\(", re.I),
        )
        for signature in objects.functions
    ]
    return found


def built_without_embedding(scripts: ScriptDirectory, path: str, sql: str) -> BuiltBy | None:
    """The first revision whose own SQL creates one of ``sql``'s objects, if any."""
    patterns = _patterns(sql)
    if not patterns:
        return None
    for script in reversed(list(scripts.walk_revisions("base", "heads"))):
        if path in getattr(script.module, "DECLARED", {}):
            continue
        source = Path(script.path).read_text(encoding="utf-8", errors="replace")
        for what, pattern in patterns:
            if pattern.search(source):
                return BuiltBy(script.revision, what)
    return None
