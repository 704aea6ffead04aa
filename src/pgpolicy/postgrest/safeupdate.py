"""safeupdate, as PostgREST's connections on Supabase load it.

The `authenticator` login preloads the safeupdate library: an UPDATE or DELETE without a
WHERE clause, as a statement or as a data-modifying WITH query, fails at parse analysis with
21000 "UPDATE requires a WHERE clause" (PostgREST: HTTP 400), whatever RLS would do. The
harness's requests run on the test's privileged connection, where no such library is loaded,
so the statement is read here first and refused the same way, before anything runs.

Not emulated: safeupdate checks every statement the session analyses, so statements inside
functions and triggers a request reaches are checked too; only the request's own statement is
read here (docs/supautils.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["SAFEUPDATE_SQLSTATE", "safeupdate_refusal"]

SAFEUPDATE_SQLSTATE = "21000"  # cardinality_violation, as safeupdate raises it

# Client-side placeholders (psycopg's %s, %(name)s) are values: any literal reads the same.
_PLACEHOLDER = re.compile(r"%(\(\w+\))?s")
_WRITES = re.compile(r"\b(update|delete)\b", re.IGNORECASE)


# Proofs send the same statements again and again: each is parsed once.
@lru_cache(maxsize=4096)
def safeupdate_refusal(statement: str) -> str | None:
    """safeupdate's error message for ``statement``, or None when it lets it run.

    A statement that cannot be read is let through: the server will judge it, and an
    unreadable statement is never one safeupdate was written for.
    """
    if not _WRITES.search(statement):
        return None  # no UPDATE or DELETE anywhere: nothing to parse
    try:
        parsed = sqlglot.parse(_PLACEHOLDER.sub("0", statement), read="postgres")
    except SqlglotError:
        return None
    for expression in parsed:
        if expression is None:
            continue
        command = _unqualified_write(expression)
        if command is not None:
            return f"{command} requires a WHERE clause"
    return None


def _unqualified_write(expression: exp.Expression) -> str | None:
    """ "UPDATE" or "DELETE" when this query, or one of its WITH queries, has no WHERE."""
    with_ = expression.args.get("with_") or expression.args.get("with")
    if isinstance(with_, exp.With):
        for cte in with_.expressions:
            found = _unqualified_write(cte.this)
            if found is not None:
                return found
    if isinstance(expression, exp.Update | exp.Delete) and expression.args.get("where") is None:
        return "UPDATE" if isinstance(expression, exp.Update) else "DELETE"
    return None
