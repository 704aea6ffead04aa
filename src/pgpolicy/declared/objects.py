"""Which objects a declared file creates, read from its SQL text (for drop statements).

Declared files follow the project's style (one object per file, `create policy <name> on
<table>`, `create or replace function <name>(<args>)`, `create or replace trigger <name> ...
on <table>`), so a small scanner is enough; PL/pgSQL bodies are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_QUALIFIED = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"
_POLICY = re.compile(rf"create\s+policy\s+({_IDENT})\s+on\s+({_QUALIFIED})", re.I)
_FUNCTION = re.compile(rf"create\s+(?:or\s+replace\s+)?function\s+({_QUALIFIED})\s*\(", re.I)
_TRIGGER = re.compile(
    rf"create\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+({_IDENT})\b.*?\bon\s+({_QUALIFIED})",
    re.I | re.S,
)
_DOLLAR_QUOTE = re.compile(r"(\$[A-Za-z_]*\$).*?\1", re.S)
# Table privileges and row security switches: statements whose effect a later text does not
# undo by itself (a grant stays when the line granting it is deleted), so a revision reverses
# them explicitly. Column lists are kept: `grant insert (a, b) on table t to r`.
_GRANT = re.compile(
    r"\b(grant|revoke)\s+(.+?)\s+on\s+(?:table\s+)?((?:" + r"[\w$\"]+\s*\.\s*)?[\w$\"]+)"
    r"\s+(to|from)\s+([^;]+?)\s*;",
    re.I | re.S,
)
_ROW_SECURITY = re.compile(
    r"\balter\s+table\s+([\w$.\"]+)\s+(enable|disable|force|no\s+force)\s+row\s+level\s+security",
    re.I,
)
_LINE_COMMENT = re.compile(r"--[^\n]*")
_MODES = {"in", "out", "inout", "variadic"}


@dataclass(frozen=True)
class DeclaredObjects:
    """Objects a file creates, each as the text a `drop` statement needs."""

    policies: list[tuple[str, str]] = field(default_factory=list)  # (name, table)
    functions: list[str] = field(default_factory=list)  # name(argtypes)
    triggers: list[tuple[str, str]] = field(default_factory=list)  # (name, table)

    def drop_statements(self) -> list[str]:
        """Drops in dependency order: triggers, policies, then functions."""
        return [
            *(f"drop trigger if exists {name} on {table}" for name, table in self.triggers),
            *(f"drop policy if exists {name} on {table}" for name, table in self.policies),
            *(f"drop function if exists {signature}" for signature in self.functions),
        ]


def _normalized(text: str) -> str:
    return " ".join(text.split()).lower()


def reversible_statements(sql: str) -> list[str]:
    """Grants, revokes (on tables, column lists included) and row security switches in ``sql``,
    each normalized to one lowercase line, in order. Function grants are left out: a function's
    file re-creates it, and its grants with it."""
    text = _strip(sql)
    statements: list[tuple[int, str]] = []
    for match in _GRANT.finditer(text):
        if re.search(r"\bfunction\b", match.group(0), re.I):
            continue
        statements.append((match.start(), _normalized(match.group(0).rstrip(";"))))
    for match in _ROW_SECURITY.finditer(text):
        statements.append((match.start(), _normalized(match.group(0))))
    return [statement for _, statement in sorted(statements)]


def inverse_statement(statement: str) -> str:
    """The statement undoing one of :func:`reversible_statements`.

    A revoke is undone by the grant of the same privileges: the revoked privileges are taken
    to have been held, as Supabase's default privileges grant ALL on public's tables to the
    API roles. A column-list grant is undone by revoking the same columns.
    """
    grant = _GRANT.match(statement + ";")
    if grant is not None:
        verb, privileges, table, _direction, roles = grant.groups()
        if verb.lower() == "grant":
            return f"revoke {privileges} on table {table} from {roles}"
        return f"grant {privileges} on table {table} to {roles}"
    switch = _ROW_SECURITY.match(statement)
    if switch is None:
        raise ValueError(f"not a reversible statement: {statement}")
    table, action = switch.group(1), _normalized(switch.group(2))
    opposite = {"enable": "disable", "disable": "enable", "force": "no force", "no force": "force"}
    return f"alter table {table} {opposite[action]} row level security"


def _strip(sql: str) -> str:
    return _LINE_COMMENT.sub("", _DOLLAR_QUOTE.sub("$$ $$", sql))


def _argument_list(text: str, start: int) -> str:
    """The text between the parenthesis at ``start - 1`` and its match."""
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return text[start:index]
    raise ValueError("unbalanced parentheses in a function declaration")


def _split_top_level(arguments: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in arguments:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip():
        parts.append(current)
    return parts


def _argument_type(argument: str) -> str | None:
    """`_limit integer default 50` -> `integer`; OUT arguments -> None (not in signatures)."""
    text = re.split(r"\s+default\s+|\s*=\s*", argument.strip(), maxsplit=1, flags=re.I)[0]
    words = text.split()
    if words and words[0].lower() in _MODES:
        if words[0].lower() == "out":
            return None
        words = words[1:]
    # `name type ...` when the first word is not itself the start of a type name.
    if len(words) > 1 and not words[0].lower().startswith(("double", "character", "time", "bit")):
        words = words[1:]
    return " ".join(words)


def parse_objects(sql: str) -> DeclaredObjects:
    """The policies, functions (with argument types) and triggers ``sql`` creates."""
    text = _strip(sql)
    objects = DeclaredObjects()
    for match in _POLICY.finditer(text):
        objects.policies.append((match.group(1), match.group(2)))
    for match in _FUNCTION.finditer(text):
        arguments = _argument_list(text, match.end())
        types = [t for t in map(_argument_type, _split_top_level(arguments)) if t is not None]
        objects.functions.append(f"{match.group(1)}({', '.join(types)})")
    for match in _TRIGGER.finditer(text):
        objects.triggers.append((match.group(1), match.group(2)))
    return objects
