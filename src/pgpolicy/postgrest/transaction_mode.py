"""Which requests PostgREST runs in a READ ONLY transaction.

PostgREST opens a read-only transaction for GET and HEAD (table reads and ``GET /rpc``), so a
write reached that way raises 25006 (read_only_sql_transaction), which it answers with 405.
"""

from __future__ import annotations

__all__ = ["SET_READ_ONLY", "is_read_only"]

SET_READ_ONLY = "set transaction read only"

_READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def is_read_only(method: str) -> bool:
    """Return whether PostgREST runs a request with this HTTP method read-only."""
    return method.upper() in _READ_ONLY_METHODS
