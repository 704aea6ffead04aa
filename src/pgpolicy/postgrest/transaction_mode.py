"""Which requests PostgREST runs READ ONLY, and at which isolation level.

PostgREST opens a read-only transaction for GET and HEAD (table reads and ``GET /rpc``) and
for ``POST /rpc`` of a STABLE or IMMUTABLE function, so a write reached that way raises 25006
(read_only_sql_transaction), which it answers with 405. The isolation level is the function's
``SET default_transaction_isolation``, else the role's (``ALTER ROLE ... SET``), else READ
COMMITTED.
"""

from __future__ import annotations

__all__ = ["SET_READ_ONLY", "is_read_only", "isolation_statement"]

SET_READ_ONLY = "set transaction read only"

_READ_ONLY_METHODS = frozenset({"GET", "HEAD"})
_LEVELS = {
    "read committed": "read committed",
    "repeatable read": "repeatable read",
    "serializable": "serializable",
}


def is_read_only(method: str, *, routine_read_only: bool = False) -> bool:
    """Return whether PostgREST runs a request with this HTTP method read-only.

    ``routine_read_only``: the request calls a STABLE or IMMUTABLE function.
    """
    return method.upper() in _READ_ONLY_METHODS or routine_read_only


def isolation_statement(level: str | None) -> str | None:
    """``set transaction isolation level ...`` for a level other than READ COMMITTED.

    PostgREST reads the level case-insensitively; a value it does not know (including
    "read uncommitted") means READ COMMITTED, the default, so nothing is set.
    """
    known = _LEVELS.get((level or "").strip().lower())
    if known is None or known == "read committed":
        return None
    return f"set transaction isolation level {known}"
