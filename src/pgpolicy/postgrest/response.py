"""The status PostgREST answers when nothing was raised (its Response.hs).

Inserts answer 201; an UPDATE or DELETE 204 unless it returns rows (``Prefer:
return=representation``, here a RETURNING clause), then 200; a function returning void 204;
everything else 200. A ``response.status`` the request set overrides it; one that does not
start with digits is PGRST112 (500).
"""

from __future__ import annotations

import re

__all__ = ["GUC_STATUS_ERROR", "guc_status", "success_status"]

GUC_STATUS_ERROR = ("PGRST112", 500, "response.status guc must be a valid status code")


def success_status(*, command: str, returned_rows: bool, returns_void: bool = False) -> int:
    """``command`` is the statement's tag (INSERT, UPDATE, SELECT...); rpc calls pass CALL."""
    if command == "CALL":
        return 204 if returns_void else 200
    if command == "INSERT":
        return 201
    if command in ("UPDATE", "DELETE", "MERGE"):
        return 200 if returned_rows else 204
    return 200


def guc_status(value: str | None) -> int | None:
    """The status a ``response.status`` value sets (its leading digits), None when unset.

    Raises ValueError when it is set but does not start with a digit.
    """
    if value is None or value == "":
        return None
    digits = re.match(r"\d+", value)
    if digits is None:
        raise ValueError(value)
    return int(digits.group())
