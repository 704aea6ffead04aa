"""How PostgREST (v12) turns a raised SQLSTATE into an HTTP status."""

from __future__ import annotations

# Exact codes first, then two-character class prefixes, as PostgREST's error mapping does.
_EXACT: dict[str, int] = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
    "P0001": 400,
}
_CLASS: dict[str, int] = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 413,
    "55": 500,
    "57": 500,
    "58": 500,
    "F0": 500,
    "HV": 500,
    "P0": 500,
    "XX": 500,
}


def http_status(sqlstate: str, *, authenticated: bool) -> int:
    """Return the HTTP status PostgREST answers for an error with this SQLSTATE.

    ``authenticated`` is whether the request carried a JWT whose role is not the anonymous
    role: insufficient privilege (42501) is 401 without one and 403 with one.
    """
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    return _CLASS.get(sqlstate[:2], 400)
